"""Cinemetrics statistics and item tables, against Python's statistics module, NumPy, a
hand-worked example, and the tables as DuckDB, Polars and pyarrow read them."""

from __future__ import annotations

import cmath
import math
import statistics

import numpy as np
import pytest
from test_export import SHOTS, make_spectrum

from streamspec.analysis.colour import linear_mean, oklab
from streamspec.core.errors import InputError
from streamspec.outputs import stats
from streamspec.outputs.export import film_timeline
from streamspec.outputs.spectrum import Strip


def test_hand_worked_cinemetrics_example():
    """Four shots of 2, 3, 5 and 10 s, worked by hand:
    total 20 s; ASL 20 / 4 = 5; MSL (3 + 5) / 2 = 4; MSL/ASL 0.8; min 2, max 10, range 8;
    deviations -3, -2, 0, 5, squares 9 + 4 + 0 + 25 = 38, SD sqrt(38 / 3) = 3.5590...;
    CV 3.5590 / 5 = 0.7118...; in 1 s bins from 0: one shot in [2, 3), one in [3, 4),
    one in [5, 6), one in [9, 10]."""
    s = stats.cinemetrics([2.0, 3.0, 5.0, 10.0])
    assert (s.shots, s.total, s.asl, s.msl, s.msl_asl) == (4, 20.0, 5.0, 4.0, 0.8)
    assert (s.min, s.max, s.range) == (2.0, 10.0, 8.0)
    assert s.sd == pytest.approx(3.5590260840, abs=1e-9)
    assert s.cv == pytest.approx(0.7118052168, abs=1e-9)
    counts, edges = stats.length_histogram([2.0, 3.0, 5.0, 10.0])
    assert edges.tolist() == [float(i) for i in range(11)]
    assert counts.tolist() == [0, 0, 1, 1, 0, 1, 0, 0, 0, 1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cinemetrics_against_statistics_and_numpy(seed):
    rng = np.random.default_rng(seed)
    x = rng.lognormal(1.2, 0.8, size=int(rng.integers(2, 3000)))  # shot lengths are log-normal
    s = stats.cinemetrics(x)
    xs = x.tolist()
    assert s.shots == len(xs)
    assert s.asl == pytest.approx(statistics.fmean(xs), rel=1e-12)
    assert s.msl == statistics.median(xs)
    assert s.sd == pytest.approx(statistics.stdev(xs), rel=1e-12)
    assert s.sd == pytest.approx(float(np.std(x, ddof=1)), rel=1e-9)
    assert s.cv == pytest.approx(statistics.stdev(xs) / statistics.fmean(xs), rel=1e-12)
    assert (s.min, s.max, s.range) == (min(xs), max(xs), max(xs) - min(xs))
    assert s.msl_asl == pytest.approx(s.msl / s.asl)
    counts, edges = stats.length_histogram(x, bin_width=2.0)
    ref, _ = np.histogram(x, bins=np.arange(0, math.ceil(x.max() / 2) * 2 + 2, 2.0))
    assert counts.sum() == len(xs)
    assert counts.tolist() == ref[: len(counts)].tolist()
    assert edges[-1] >= x.max() > edges[-2]
    # Same input, same output, whatever the order of the shots.
    again = stats.cinemetrics(x[::-1].copy())
    assert again.as_dict() == pytest.approx(s.as_dict(), rel=1e-15)


def test_one_shot_and_bad_lengths():
    s = stats.cinemetrics([12.5])
    assert (s.asl, s.msl, s.msl_asl, s.range, s.sd, s.cv) == (12.5, 12.5, 1.0, 0.0, None, None)
    for bad in ([], [1.0, -2.0], [0.0], [float("nan")]):
        with pytest.raises(InputError):
            stats.cinemetrics(bad)
    with pytest.raises(InputError, match="choose a wider bin"):
        stats.length_histogram([100_000.0], bin_width=1.0)
    with pytest.raises(InputError, match="positive"):
        stats.length_histogram([1.0], bin_width=0)
    assert stats.shot_lengths(SHOTS).tolist() == pytest.approx([4.2, 8.32, 17.48, 17.1, 12.9])
    with pytest.raises(InputError, match="shot 1 has no length"):
        stats.shot_lengths([{"start": 3, "end": 3}])


def _strip(i, colours, counts):
    return Strip(i, float(i), float(i), np.array(colours, np.uint8), np.array(counts, np.int64))


def _reference_colour_stats(strips):
    """A loop over every colour, one at a time: the definitions, written out."""
    ws, labs = [], []
    for s in strips:
        total = sum(int(c) for c in s.counts)
        for rgb, n in zip(s.palette, s.counts, strict=True):
            ws.append(int(n) / total / len(strips))
            labs.append(oklab(np.array(rgb, np.uint8)))
    mean_l = sum(w * lab[0] for w, lab in zip(ws, labs, strict=True))
    mean_c = sum(w * math.hypot(lab[1], lab[2]) for w, lab in zip(ws, labs, strict=True))
    # Circular mean of hue angles weighted by share x chroma.
    z = sum(
        w * math.hypot(lab[1], lab[2]) * cmath.exp(1j * math.atan2(lab[2], lab[1]))
        for w, lab in zip(ws, labs, strict=True)
    )
    hue = math.degrees(cmath.phase(z)) % 360 if abs(z) > 1e-6 else None
    return mean_l, mean_c, hue, abs(z) / mean_c if hue is not None else None


def test_colour_stats_against_the_definitions():
    rng = np.random.default_rng(5)
    strips = [_strip(i, rng.integers(0, 256, (7, 3)), rng.integers(1, 500, 7)) for i in range(20)]
    got = stats.colour_stats(strips)
    mean_l, mean_c, hue, conc = _reference_colour_stats(strips)
    assert got.mean_lightness == pytest.approx(mean_l, abs=1e-12)
    assert got.mean_chroma == pytest.approx(mean_c, abs=1e-12)
    assert got.mean_hue_deg == pytest.approx(hue, abs=1e-9)
    assert got.hue_concentration == pytest.approx(conc, abs=1e-12)
    pal = np.concatenate([s.palette for s in strips])
    w = np.concatenate([s.counts / s.counts.sum() for s in strips])
    assert got.mean_colour == tuple(int(v) for v in linear_mean(pal, w))


def test_mean_hue_is_circular_and_greys_have_none():
    # A magenta (OKLCh hue 328) and a crimson (hue 14), either side of hue 0: the mean
    # lies between them (about 350), not across the circle (171, the arithmetic mean).
    pair = [[200, 0, 200], [230, 0, 80]]
    lab = oklab(np.array(pair, np.uint8))
    hues = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    assert 320 < hues[0] < 335 and 10 < hues[1] < 20
    got = stats.colour_stats([_strip(0, pair, [1, 1])])
    assert got.mean_hue_deg is not None
    assert 340 < got.mean_hue_deg < 360
    grey = stats.colour_stats([_strip(0, [[0, 0, 0], [128, 128, 128], [255, 255, 255]], [1, 1, 1])])
    assert grey.mean_hue_deg is None and grey.hue_concentration is None
    assert grey.mean_chroma == pytest.approx(0.0, abs=1e-6)
    # Half black, half white: lightness is the mean of L (0.5); the mean colour is taken
    # in linear light (sRGB 188, not 128).
    bw = stats.colour_stats([_strip(0, [[0, 0, 0], [255, 255, 255]], [1, 1])])
    assert bw.mean_lightness == pytest.approx(0.5, abs=1e-6)
    assert bw.mean_colour == (188, 188, 188)


def test_item_table_read_by_duckdb_polars_and_pyarrow(tmp_path):
    spec = make_spectrum()
    tl = film_timeline(spec, shots=SHOTS)
    rows = stats.item_table(spec, tl.items)
    assert [r["kind"] for r in rows].count("shot") == len(SHOTS)
    shot_rows = [r for r in rows if r["kind"] == "shot"]
    assert [r["duration_s"] for r in shot_rows] == pytest.approx([4.2, 8.32, 17.48, 17.1, 12.9])
    # The orange half and the blue half.
    assert 40 < shot_rows[0]["mean_hue_deg"] < 80
    assert 230 < shot_rows[-1]["mean_hue_deg"] < 280
    for r in rows:
        shares = [r[f"share_{i}"] for i in range(1, 6) if r[f"share_{i}"] is not None]
        assert 0.5 < sum(shares) <= 1 + 1e-9
    pq_path = stats.write_table(rows, tmp_path / "items.parquet")
    csv_path = stats.write_table(rows, tmp_path / "items.csv")

    pa_pq = pytest.importorskip("pyarrow.parquet")
    schema = pa_pq.read_schema(pq_path)
    assert schema.field("start_s").metadata[b"unit"] == b"s"
    assert schema.field("mean_lightness").metadata[b"unit"] == b"OKLab L 0-1"
    assert schema.field("mean_hue_deg").metadata[b"unit"] == b"degrees 0-360"
    assert schema.metadata[b"format"] == b"streamspec-stats"

    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    got = con.execute(
        "SELECT name, duration_s, mean_chroma FROM read_parquet(?) WHERE kind = 'shot' "
        "ORDER BY start_s",
        [str(pq_path)],
    ).fetchall()
    assert [g[0] for g in got] == [r["name"] for r in shot_rows]
    assert [g[2] for g in got] == [r["mean_chroma"] for r in shot_rows]  # bit for bit

    pl = pytest.importorskip("polars")
    df = pl.read_csv(csv_path)
    assert df["mean_lightness"].to_list() == [r["mean_lightness"] for r in rows]  # round trip
    assert df.filter(pl.col("kind") == "chapter")["name"].to_list() == ["Opening, day", "Night"]

    # Reproducible: the same spectrum and items, the same bytes.
    again = stats.write_table(
        stats.item_table(spec, film_timeline(spec, shots=SHOTS).items), tmp_path / "again.csv"
    )
    assert again.read_bytes() == csv_path.read_bytes()


def test_tables_refuse_unknown_formats_and_inputs(tmp_path):
    spec = make_spectrum()
    rows = stats.item_table(spec, film_timeline(spec, shots=SHOTS).items)
    with pytest.raises(InputError, match=r"known extensions: \.csv, \.parquet"):
        stats.write_table(rows, tmp_path / "items.xlsx")
    src = tmp_path / "shots.csv"
    src.write_text("keep me")
    with pytest.raises(Exception, match="choose another name"):
        stats.write_table(rows, src, inputs=[src])
    assert src.read_text() == "keep me"


def test_film_summary():
    spec = make_spectrum()
    rows = {name: (value, unit) for name, value, unit in stats.film_summary(spec, SHOTS)}
    assert rows["duration"] == (60.0, "s")
    assert rows["shots"] == (5, "count")
    assert rows["ASL"][0] == pytest.approx(12.0)
    assert rows["MSL"][0] == pytest.approx(12.9)
    assert rows["mean colour"][0] == "#{:02x}{:02x}{:02x}".format(
        *stats.colour_stats(spec.strips).mean_colour
    )
    assert "ASL" not in {r[0] for r in stats.film_summary(spec)}  # no shots, no Cinemetrics
    one = {n: v for n, v, _ in stats.film_summary(spec, [{"start": 0, "end": 60}])}
    assert one["SD"] is None and one["CV"] is None
