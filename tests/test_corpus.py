"""`streamspec corpus` and `streamspec.Corpus`: the tables, their readers, the questions,
and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas")

import streamspec  # noqa: E402
from streamspec.analysis.colour import merge_colours  # noqa: E402
from streamspec.cli import main  # noqa: E402
from streamspec.outputs import corpus as corpus_mod  # noqa: E402
from streamspec.outputs import corpus_build  # noqa: E402
from streamspec.outputs.corpus import (  # noqa: E402
    MERGE_DISTANCE,
    Corpus,
    MissingDependencyError,
    build_corpus,
    film_key,
    linear_to_srgb,
    oklab,
    srgb_to_linear,
)
from streamspec.outputs.spectrum import Spectrum, Strip  # noqa: E402

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 40), (30, 40, 220)
Palette = Sequence[tuple[Sequence[int], int]]


def make_spectrum(
    palette_at: Callable[[int], Palette],
    n: int,
    *,
    name: str,
    step: float = 1.0,
    partial: bool = False,
    segments: list[dict] | None = None,
) -> Spectrum:
    """A spectrum of ``n`` strips whose strip i has the colours ``palette_at(i)``."""
    spec = Spectrum(
        settings={
            "k": 8,
            "every": step,
            "strips": None,
            "height": 60,
            "order": "hls",
            "mode": "sorted",
            "strip_width": 1,
            "start": 0.0,
            "end": n * step,
            "step": step,
            "offset": 0.0,
            "seek": "fast",
        },
        source={
            "name": f"/films/{name}",
            "kind": "file",
            "width": 640,
            "height": 360,
            "fps": 24.0,
            "duration": n * step,
            "codec": "h264",
        },
        slots=n,
        partial=partial,
        segments=segments or [],
    )
    for i in range(n):
        pal = palette_at(i)
        spec.add(
            Strip(
                i,
                i * step,
                i * step + 0.01,
                np.array([c for c, _ in pal], np.uint8),
                np.array([w for _, w in pal], np.int64),
            )
        )
    return spec


def save(spec: Spectrum, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.to_json()))
    return path


def shades(colour: Sequence[int], rng: np.random.Generator, k: int = 6, spread: int = 6) -> Palette:
    """``k`` shades of one colour (within ``spread`` levels) with random counts."""
    c = np.clip(np.array(colour) + rng.integers(-spread, spread + 1, (k, 3)), 0, 255)
    return [
        (tuple(int(v) for v in row), int(w))
        for row, w in zip(c, rng.integers(50, 500, k), strict=True)
    ]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A folder of three films: mostly red, mostly green (in a sub-folder), half red."""
    rng = np.random.default_rng(3)
    d = tmp_path / "spectra"
    red = make_spectrum(
        lambda i: [*shades(RED, rng), (BLUE, 60)],
        12,
        name="red.mp4",
        segments=[
            {"start": 0.0, "end": 5.5, "first_strip": 0, "last_strip": 5, "colours": []},
            {"start": 5.5, "end": 11.5, "first_strip": 6, "last_strip": 11, "colours": []},
        ],
    )
    green = make_spectrum(
        lambda i: [*shades(GREEN, rng, k=9), (RED, 40)], 20, name="green.mkv", step=2.0
    )
    half = make_spectrum(
        lambda i: shades(RED if i % 2 else BLUE, rng, k=4), 8, name="half.mov", partial=True
    )
    save(red, d / "red-spectrum.json")
    save(green, d / "sub" / "green-spectrum.json")
    save(half, d / "half-spectrum.json")
    return d


def run(args: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the tables -------------------------------------------------------------------------
def test_colours_table_is_every_strip_colour(library, tmp_path, capsys):
    out = tmp_path / "corpus.parquet"
    code, stdout, stderr = run(["corpus", library, "-o", out], capsys)
    assert code == 0, stderr
    assert stderr == ""
    assert "3 films" in stdout and str(out) in stdout
    films_file = tmp_path / "corpus-films.parquet"
    assert out.is_file() and films_file.is_file()
    colours = pd.read_parquet(out)
    films = pd.read_parquet(films_file)
    assert list(colours.columns) == [
        "film",
        "slot",
        "time",
        "rank",
        "r",
        "g",
        "b",
        "share",
        "segment",
    ]
    # Films come in path order: half, red, sub/green, each under its key.
    assert films["title"].tolist() == ["half.mov", "red.mp4", "green.mkv"]
    loaded = [
        Spectrum.load(library / "half-spectrum.json"),
        Spectrum.load(library / "red-spectrum.json"),
        Spectrum.load(library / "sub" / "green-spectrum.json"),
    ]
    specs = dict(zip(films["film"].tolist(), loaded, strict=True))
    assert list(specs) == [film_key(spec)[0] for spec in loaded]
    assert colours["film"].drop_duplicates().tolist() == list(specs)
    specs_list = loaded
    # One row per palette colour of every strip.
    assert len(colours) == sum(len(s.counts) for spec in specs_list for s in spec.strips)
    # A strip's shares sum to 1, and rank 0 is its largest colour.
    sums = colours.groupby(["film", "slot"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-5)
    for (film, slot), rows in colours.groupby(["film", "slot"]):
        strip = specs[film].get(slot)
        assert rows["rank"].tolist() == list(range(len(strip.counts)))
        assert rows["share"].is_monotonic_decreasing
        # The same colours with the same shares (a colour may appear twice in a strip).
        want: dict[tuple, float] = {}
        shares = strip.counts / strip.counts.sum()
        for colour, share in zip(strip.palette.tolist(), shares, strict=True):
            want[tuple(colour)] = want.get(tuple(colour), 0.0) + share
        got = rows.groupby(["r", "g", "b"])["share"].sum()
        assert {tuple(k): pytest.approx(v, abs=1e-6) for k, v in want.items()} == {
            tuple(int(x) for x in k): v for k, v in got.items()
        }
        assert (rows["time"] == strip.time).all()
    # Segments: the red film has two, the others none (null).
    red_key = films.loc[films["title"] == "red.mp4", "film"].item()
    red = colours[colours["film"] == red_key]
    assert set(red.loc[red["slot"] <= 5, "segment"]) == {0}
    assert set(red.loc[red["slot"] >= 6, "segment"]) == {1}
    assert colours.loc[colours["film"] != red_key, "segment"].isna().all()
    assert not list(tmp_path.glob(".*part"))


def test_films_table(library, tmp_path):
    result = build_corpus([library], tmp_path / "c.parquet")
    assert (result.films, result.strips) == (3, 40) and result.skipped == []
    films = pd.read_parquet(tmp_path / "c-films.parquet").set_index("title")
    red = films.loc["red.mp4"]
    assert red["film"] == film_key(Spectrum.load(library / "red-spectrum.json"))[0]
    assert red["key_basis"] == "data" and pd.isna(red["fingerprint"])  # made by hand
    assert red["path"] == str((library / "red-spectrum.json").resolve())
    assert red["source"] == "/films/red.mp4" and red["kind"] == "file"
    assert (red["width"], red["height"], red["codec"], red["fps"]) == (640, 360, "h264", 24.0)
    assert (red["duration"], red["every"], red["step"], red["k"]) == (12.0, 1.0, 1.0, 8)
    assert (red["order"], red["mode"], red["seek"]) == ("hls", "sorted", "fast")
    assert (red["strips"], red["slots"], red["segments"]) == (12, 12, 2)
    assert not red["partial"] and films.loc["half.mov", "partial"]
    assert films.loc["green.mkv", "step"] == 2.0


def test_readable_by_pyarrow_polars_and_duckdb(library, tmp_path):
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    table = pq.read_table(out)
    assert table.schema.field("segment").nullable
    assert table.schema.metadata[b"format"] == b"streamspec-corpus"
    n = table.num_rows
    films = tmp_path / "c-films.parquet"
    import duckdb
    import polars as pl

    assert pl.read_parquet(out).height == n
    assert pl.read_parquet(films).height == 3
    rows = duckdb.sql(
        f"select f.title, sum(c.share) as s from '{out}' c join '{films}' f using (film) "
        "group by f.title order by f.title"
    ).fetchall()
    assert [t for t, _ in rows] == ["green.mkv", "half.mov", "red.mp4"]
    assert [round(s) for _, s in rows] == [20, 8, 12]  # one per strip


def test_explicit_files_and_images(library, tmp_path):
    red = library / "red-spectrum.json"
    (library / "red-spectrum.png").write_bytes(b"")  # an image names the .json beside it
    result = build_corpus(
        [red, library / "red-spectrum.png", library / "sub"], tmp_path / "c.parquet"
    )
    assert result.films == 2  # red once, green from the folder
    titles = pd.read_parquet(tmp_path / "c-films.parquet")["title"].tolist()
    assert titles == ["red.mp4", "green.mkv"]


def test_streams_film_by_film_in_row_groups(library, tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_build, "ROW_GROUP_ROWS", 100)
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    meta = pq.ParquetFile(out).metadata
    assert meta.num_row_groups > 3
    # Row-group statistics on film let a reader skip other films' rows.
    key = pq.read_table(tmp_path / "c-films.parquet")["film"][2].as_py()
    one = pq.read_table(out, filters=[("film", "=", key)])
    assert set(one["film"].to_pylist()) == {key} and one.num_rows == 20 * 10
    # Same rows as one big row group.
    monkeypatch.setattr(corpus_build, "ROW_GROUP_ROWS", 1 << 20)
    build_corpus([library], tmp_path / "d.parquet")
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "d.parquet"))


# -- bad input ------------------------------------------------------------------------
def test_damaged_and_foreign_json_are_skipped(library, tmp_path, capsys):
    (library / "broken.json").write_text('{"format": "streamspec-spectrum", "strips": [')
    (library / "notes.json").write_text('{"hello": 1}')
    out = tmp_path / "c.parquet"
    code, stdout, stderr = run(["corpus", library, "-o", out], capsys)
    assert code == 1  # a corpus was written, but not from every file
    lines = stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("streamspec corpus: warning: skipped ") for line in lines)
    assert "broken.json" in lines[0] and "notes.json" in lines[1]
    assert "skipped 2 unreadable" in stdout
    assert len(pd.read_parquet(tmp_path / "c-films.parquet")) == 3


def test_no_spectra(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(["corpus", empty, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "no spectra in" in err and "no .json files" in err
    (empty / "bad.json").write_text("not json")
    code, _, err = run(["corpus", empty, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2
    # One error, one line.
    assert err.count("\n") == 1 and "bad.json" in err and "nothing written" in err
    (empty / "bad2.json").write_text("[]")
    code, _, err = run(["corpus", empty, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3 and "bad.json" in lines[0] and "bad2.json" in lines[1]
    assert "none of the 2 files is a readable spectrum" in lines[2]
    code, _, err = run(["corpus", tmp_path / "missing", "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2 and "no such file or folder" in err
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob(".*"))


def test_unwritable_outputs(library, tmp_path, capsys):
    for out, words in [
        (tmp_path / "nowhere" / "c.parquet", "does not exist"),
        (tmp_path, "is a directory"),
        (tmp_path / "c.csv", "name it .parquet"),
        (library / "red-spectrum.json" / "c.parquet", "not a directory"),
    ]:
        code, stdout, err = run(["corpus", library, "-o", out], capsys)
        assert code == 2, out
        assert words in err and err.count("\n") == 1 and stdout == ""
    # An output that is one of the inputs (here: a file named as a spectrum).
    target = tmp_path / "x.parquet"
    target.write_text("{}")
    code, _, err = run(["corpus", target, library, "-o", target], capsys)
    assert code == 2 and "is an input spectrum" in err
    assert target.read_text() == "{}"


def test_a_failed_write_leaves_the_old_corpus(library, tmp_path, monkeypatch, capsys):
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    before = out.read_bytes(), (tmp_path / "c-films.parquet").read_bytes()

    def fail(rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corpus_build, "_films_table", fail)
    code, _, err = run(["corpus", library, "-o", out], capsys)
    assert code == 2 and "No space left on device" in err
    assert (out.read_bytes(), (tmp_path / "c-films.parquet").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-films.parquet", "c.parquet", "spectra"]


def test_without_pyarrow(library, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, stdout, err = run(["corpus", library, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2 and stdout == ""
    assert err == (
        "streamspec corpus: error: the corpus needs pyarrow, which is not installed: "
        "pip install 'streamspec[corpus]'\n"
    )
    with pytest.raises(MissingDependencyError, match=r"streamspec\[corpus\]"):
        Corpus(library)
    assert not list(tmp_path.glob("*.parquet"))


def test_package_import_does_not_load_pyarrow():
    code = (
        "import sys, streamspec; assert 'pyarrow' not in sys.modules; "
        "assert 'pandas' not in sys.modules; streamspec.Corpus; "
        "assert 'pyarrow' not in sys.modules"  # not even the module: only a Corpus does
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


# -- the library ----------------------------------------------------------------------
def test_corpus_from_folder_or_parquet(library, tmp_path):
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    on_disk, in_memory = Corpus(out), streamspec.Corpus(library)
    assert len(on_disk) == len(in_memory) == 3
    assert on_disk.path == out and in_memory.path is None
    pd.testing.assert_frame_equal(on_disk.strips, in_memory.to_pandas())
    pd.testing.assert_frame_equal(
        on_disk.films.drop(columns="path"), in_memory.films.drop(columns="path")
    )
    assert str(on_disk.strips["segment"].dtype) == "Int32"
    assert len(Corpus(tmp_path / "c-films.parquet").films) == 3  # named by its films table
    keys = on_disk.films["film"].tolist()
    assert on_disk.film_id("red.mp4") == keys[1] and on_disk.film_id(keys[2]) == keys[2]
    assert on_disk.film_id(str(library / "red-spectrum.json")) == keys[1]
    with pytest.raises(streamspec.InputError, match="no film 'nope'"):
        on_disk.film_id("nope")
    with pytest.raises(streamspec.InputError, match="no film 7"):
        on_disk.palette(7)


def test_corpus_from_a_folder_with_a_damaged_file_warns(library):
    (library / "broken.json").write_text("{")
    with pytest.warns(UserWarning, match="broken.json"):
        c = Corpus(library)
    assert len(c) == 3 and [p.name for p, _ in c.skipped] == ["broken.json"]


def test_corpus_refuses_other_parquet(tmp_path):
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other-films.parquet")
    with pytest.raises(streamspec.InputError, match="not a streamspec corpus colours table"):
        Corpus(tmp_path / "other.parquet")
    (tmp_path / "text.parquet").write_text("hello")
    (tmp_path / "text-films.parquet").write_text("hello")
    with pytest.raises(streamspec.InputError, match="not a Parquet file"):
        Corpus(tmp_path / "text.parquet")
    with pytest.raises(streamspec.InputError, match="no such file"):
        Corpus(tmp_path / "absent.parquet")


def test_palette_merges_near_duplicates(library, tmp_path):
    c = Corpus(library)
    red = c.palette("red.mp4", k=5)
    assert list(red.columns) == ["rank", "hex", "r", "g", "b", "share"]
    # Six shades of red within 6 levels are one colour; blue is the other.
    assert len(red) == 2
    top = red.iloc[0]
    assert np.linalg.norm(oklab(np.array([top.r, top.g, top.b], np.uint8)) - oklab(RED)) < 0.02
    assert top.share > 0.8 and red["share"].sum() == pytest.approx(1.0)
    assert red.iloc[1]["hex"] == "#1e28dc"  # BLUE, exactly
    everyone = c.palette(k=3)
    assert everyone.columns[0] == "film" and set(everyone["film"]) == set(c.films["film"])


def test_palette_averages_in_linear_light(tmp_path):
    # Half black, half white: merged into one colour, the mean is taken in linear light
    # (0.5 -> sRGB 188), not on the sRGB numbers (128).
    spec = make_spectrum(lambda i: [((0, 0, 0), 1), ((255, 255, 255), 1)], 4, name="bw.mp4")
    c = Corpus(save(spec, tmp_path / "bw.json"))
    two = c.palette("bw.mp4")
    assert sorted(two["hex"]) == ["#000000", "#ffffff"]
    one = c.palette("bw.mp4", k=1, merge=1.0)
    assert one["hex"].tolist() == ["#bcbcbc"] and one["share"].tolist() == [1.0]
    black_white = srgb_to_linear(np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    assert linear_to_srgb(black_white.mean(axis=0)).tolist() == [188, 188, 188]


def test_palette_threshold_is_documented():
    # Colours just under the threshold merge; just over, they stay apart.
    a, b = np.array([220, 30, 30], np.uint8), np.array([200, 30, 30], np.uint8)
    assert np.linalg.norm(oklab(a) - oklab(b)) < MERGE_DISTANCE
    rgb = np.array([a, b])
    cols, w = merge_colours(rgb, np.array([0.6, 0.4]), MERGE_DISTANCE, top=10)
    assert len(cols) == 1 and w.tolist() == [pytest.approx(1.0)]
    cols, w = merge_colours(rgb, np.array([0.6, 0.4]), 0.01, top=10)
    assert cols.tolist() == [[220, 30, 30], [200, 30, 30]]


def test_rank_by_colour(library, tmp_path):
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    for c in (Corpus(out), Corpus(library)):
        red = c.rank_by_colour(RED)
        assert red["title"].tolist() == ["red.mp4", "half.mov", "green.mkv"]
        shares = dict(zip(red["title"], red["share"], strict=True))
        assert shares["red.mp4"] > 0.8 and 0.3 < shares["half.mov"] < 0.7
        assert 0 < shares["green.mkv"] < 0.2  # the red accent
        green = c.rank_by_colour("#1ec828")
        assert green["title"].iloc[0] == "green.mkv"
        assert c.rank_by_colour((255, 0, 255))["share"].max() == 0.0
    with pytest.raises(streamspec.InputError, match="#rrggbb"):
        Corpus(out).rank_by_colour("red")


@pytest.mark.slow
def test_rank_by_colour_with_the_full_colour_table(library, tmp_path, monkeypatch):
    # Large corpora test colours through a table of all 2^24 colours: same answer.
    c = Corpus(library)
    small = c.rank_by_colour(RED)
    monkeypatch.setattr(Corpus, "_rows", lambda self: 1 << 30)
    pd.testing.assert_frame_equal(c.rank_by_colour(RED), small)


def test_timeline(library):
    c = Corpus(library)
    t = c.timeline("half.mov")
    assert list(t.columns) == ["slot", "time", "segment", "hex", "r", "g", "b", "L", "C", "h"]
    assert t["slot"].tolist() == list(range(8))
    # Odd strips red, even blue: the hue alternates.
    reds = t[t["slot"] % 2 == 1]
    assert ((reds["h"] < 40) | (reds["h"] > 340)).all()
    assert ((t[t["slot"] % 2 == 0]["h"] - 264).abs() < 15).all()
    assert t["segment"].isna().all()
    assert c.timeline("red.mp4")["segment"].tolist() == [0] * 6 + [1] * 6


def test_rendered_clips(tmp_path, capsys):
    """Render real (generated) clips, then gather them: the red film ranks first for red."""
    from videos import colour_film

    for name, colour in (("reds", [200, 30, 40]), ("blues", [30, 40, 200])):
        colour_film(
            tmp_path / f"{name}.mp4", seconds=4, colours=[colour, [128, 128, 128]], each=3.0, gop=10
        )
        code, _, err = run(
            ["render", tmp_path / f"{name}.mp4", "-o", tmp_path / f"{name}.png", "-q", "-k", "6"],
            capsys,
        )
        assert code == 0, err
    code, _, err = run(["corpus", tmp_path, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 0, err
    c = Corpus(tmp_path / "c.parquet")
    assert c.films["title"].tolist() == ["blues.mp4", "reds.mp4"]
    assert c.films["codec"].tolist() == ["h264", "h264"]
    assert (c.films["width"] == 64).all() and (c.films["k"] == 6).all()
    assert c.rank_by_colour([200, 30, 40])["title"].iloc[0] == "reds.mp4"
    top = c.palette("reds.mp4", k=2)
    assert np.abs(top.iloc[0][["r", "g", "b"]].to_numpy(int) - [200, 30, 40]).max() < 25


# -- other engines, keys across corpora, units, format 1 ---------------------------------
def _two_corpora(tmp_path: Path, library: Path) -> Path:
    """Two corpora of different films, as two batches would leave them."""
    rng = np.random.default_rng(8)
    other = tmp_path / "other-spectra"
    for name in ("sea.mp4", "dusk.mp4"):
        colour = (214, 153, 20) if name == "dusk.mp4" else (20, 120, 200)
        save(
            make_spectrum(lambda i, c=colour: [*shades(c, rng, spread=0)], 10, name=name),
            other / f"{name}.json",
        )
    for name in ("one", "two"):
        (tmp_path / "libs" / name).mkdir(parents=True)
    build_corpus([library], tmp_path / "libs" / "one" / "corpus.parquet")
    build_corpus([other], tmp_path / "libs" / "two" / "corpus.parquet")
    return tmp_path / "libs"


def test_duckdb_does_arithmetic_on_colours_and_joins_corpora_by_key(library, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    libs = _two_corpora(tmp_path, library)
    colours, films = f"{libs}/*/corpus.parquet", f"{libs}/*/corpus-films.parquet"
    # r + g past 255: no overflow error, no wrap-around.
    assert duckdb.sql(f"SELECT max(r + g) FROM '{colours}'").fetchall() == [(367,)]
    assert duckdb.sql(f"SELECT max(r + g + b) FROM '{colours}'").fetchall()[0][0] >= 387
    top = duckdb.sql(f"SELECT max(r) FROM '{colours}'").fetchall()[0][0]
    assert duckdb.sql(f"SELECT max(r * r * r) FROM '{colours}'").fetchall() == [(top**3,)]
    # A glob join of both corpora's colours and films keeps every colour row once.
    rows = duckdb.sql(f"SELECT count(*) FROM '{colours}'").fetchall()[0][0]
    joined = duckdb.sql(
        f"SELECT count(*) FROM '{colours}' c JOIN '{films}' f USING (film)"
    ).fetchall()[0][0]
    each = [pq.read_metadata(libs / n / "corpus.parquet").num_rows for n in ("one", "two")]
    assert joined == rows == sum(each)  # every colour once
    per_film = duckdb.sql(
        f"SELECT f.title, count(*) / any_value(f.strips) FROM '{colours}' c "
        f"JOIN '{films}' f USING (film) GROUP BY f.title ORDER BY f.title"
    ).fetchall()
    assert [t for t, _ in per_film] == ["dusk.mp4", "green.mkv", "half.mov", "red.mp4", "sea.mp4"]
    assert duckdb.sql(f"SELECT count(DISTINCT film) FROM '{films}'").fetchall() == [(5,)]


def test_polars_adds_colours_without_wrapping(library, tmp_path):
    pl = pytest.importorskip("polars")
    libs = _two_corpora(tmp_path, library)
    dusk = pl.read_parquet(libs / "two" / "corpus.parquet").filter(
        (pl.col("r") == 214) & (pl.col("g") == 153)
    )
    assert dusk.height > 0
    assert (dusk["r"] + dusk["g"]).max() == 367  # 214 + 153, not 111
    assert (dusk["r"] * dusk["r"]).max() == 214 * 214  # products too
    assert dusk.select((pl.col("r") + pl.col("g")).alias("s"))["s"].unique().to_list() == [367]
    colours = pl.read_parquet(libs / "*" / "corpus.parquet")
    films = pl.read_parquet(libs / "*" / "corpus-films.parquet")
    assert colours.join(films, on="film").height == colours.height
    assert films["film"].n_unique() == films.height == 5


def test_every_column_has_its_unit_and_meaning_in_the_field_metadata(library, tmp_path):
    out = tmp_path / "c.parquet"
    build_corpus([library], out)
    for path, columns in (
        (out, corpus_mod.COLOUR_COLUMNS),
        (tmp_path / "c-films.parquet", corpus_mod.FILM_COLUMNS),
    ):
        schema = pq.read_schema(path)
        assert schema.names == list(columns)
        assert schema.metadata[b"format"] == b"streamspec-corpus"
        assert schema.metadata[b"format_version"] == b"2"
        for f in schema:
            meta = f.metadata or {}
            assert meta.get(b"description"), f.name
            if pa.types.is_floating(f.type) or f.name in ("r", "g", "b", "time"):
                assert meta.get(b"unit"), f.name
    assert pq.read_schema(out).field("time").metadata[b"unit"] == b"s"
    assert pq.read_schema(out).field("r").metadata[b"unit"] == b"sRGB code value 0-255"
    assert str(pq.read_schema(out).field("r").type) == "int32"


def test_the_docs_give_every_columns_unit_and_meaning():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    docs = Path(__file__).parent.parent / "docs"
    text = readme + "".join(p.read_text() for p in docs.rglob("*.md"))
    for columns in (corpus_mod.COLOUR_COLUMNS, corpus_mod.FILM_COLUMNS):
        for name, (kind, unit, meaning) in columns.items():
            row = f"| `{name}` | {kind} | {unit or '-'} | {meaning} |"
            assert row in text, row


def test_format_1_corpora_still_read(library, tmp_path):
    """Format 1: film ids from 0 in each file, colours in uint8."""
    build_corpus([library], tmp_path / "new.parquet")
    new = pq.read_table(tmp_path / "new.parquet")
    new_films = pq.read_table(tmp_path / "new-films.parquet")
    ids = {k: i for i, k in enumerate(new_films["film"].to_pylist())}
    meta = {b"format": b"streamspec-corpus", b"format_version": b"1", b"streamspec": b"0.9"}
    old = pa.table(
        {
            "film": pa.array([ids[k] for k in new["film"].to_pylist()], pa.int32()),
            **{c: new[c] for c in ("slot", "time", "rank")},
            **{c: new[c].cast(pa.uint8()) for c in ("r", "g", "b")},
            **{c: new[c] for c in ("share", "segment")},
        }
    ).replace_schema_metadata({**meta, b"table": b"colours"})
    old_films = (
        new_films.drop_columns(["key_basis", "fingerprint"])
        .set_column(0, "film", pa.array(range(3), pa.int32()))
        .replace_schema_metadata({**meta, b"table": b"films"})
    )
    pq.write_table(old, tmp_path / "old.parquet")
    pq.write_table(old_films, tmp_path / "old-films.parquet")
    was, now = Corpus(tmp_path / "old.parquet"), Corpus(tmp_path / "new.parquet")
    assert was.film_id("red.mp4") == 1
    pd.testing.assert_frame_equal(was.palette("red.mp4"), now.palette("red.mp4"))
    pd.testing.assert_frame_equal(
        was.rank_by_colour(RED).drop(columns="film"), now.rank_by_colour(RED).drop(columns="film")
    )


def test_a_films_key_is_stable_across_renders_and_places_and_differs_by_settings(tmp_path, capsys):
    from videos import colour_film

    (tmp_path / "a").mkdir()
    film = colour_film(
        tmp_path / "a" / "film.mp4",
        seconds=3,
        colours=[(200, 30, 40), (90, 90, 90)],
        each=2.0,
        gop=10,
    )
    moved = tmp_path / "b" / "renamed.mp4"
    moved.parent.mkdir()
    moved.write_bytes(film.read_bytes())
    other = colour_film(
        tmp_path / "a" / "other.mp4", seconds=3, colours=[(30, 40, 200)], each=2.0, gop=10
    )

    (tmp_path / "out").mkdir()

    def key(source: Path, name: str, *flags: str) -> tuple[int, str]:
        out = tmp_path / "out" / f"{name}.png"
        assert main(["render", str(source), "-o", str(out), "-q", "--every", "0.5", *flags]) == 0
        return film_key(Spectrum.load(out.with_suffix(".json")))

    first = key(film, "first", "-k", "6")
    assert first[1] == "file"
    assert key(film, "again", "-k", "6") == first  # rendered again
    assert key(moved, "moved", "-k", "6") == first  # moved, renamed, copied
    assert key(film, "look", "-k", "6", "--height", "50", "--order", "luma") == first
    assert key(film, "k8", "-k", "8") != first  # other colour settings
    assert key(other, "other", "-k", "6") != first  # another film
    capsys.readouterr()
    # In one corpus the same film with the same settings is kept once, with a note.
    code, out, err = run(["corpus", tmp_path / "out", "-o", tmp_path / "c.parquet"], capsys)
    assert code == 0
    assert err.count("note: ") == 3 and "kept once" in err
    assert "(3 films)" in out


def test_corpus_of_a_batch_folder_passes_over_batch_json(tmp_path, capsys):
    from videos import colour_film

    (tmp_path / "films").mkdir()
    colour_film(tmp_path / "films" / "f.mp4", seconds=2, colours=[(200, 30, 40)], each=2.0)
    out = tmp_path / "out"
    code, _, err = run(
        ["batch", tmp_path / "films", "-o", out, "-q", "--jobs", "1", "--no-corpus"], capsys
    )
    assert code == 0, err
    assert json.loads((out / "batch.json").read_text())["format"] == "streamspec-batch"
    code, stdout, err = run(["corpus", out, "-o", tmp_path / "c.parquet"], capsys)
    assert (code, err) == (0, "")
    assert "(1 films)" in stdout


def test_a_file_that_is_no_spectrum_is_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(bytes(range(256)) * 8)
    code, stdout, err = run(["corpus", junk, "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "junk.parquet" in err and "Traceback" not in err
