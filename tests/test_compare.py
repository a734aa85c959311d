"""`streamspec compare`: films stacked on one time axis, and the palette distance."""

from __future__ import annotations

import colorsys
import itertools
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.outputs.annotate import BACKGROUND
from streamspec.outputs.compare import CURVE, compare_spectra, palette_distance, strip_distances
from streamspec.outputs.compare_diff import _clock
from streamspec.outputs.corpus import oklab
from streamspec.outputs.spectrum import Spectrum, Strip

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40), (30, 210, 210)]


def make_spectrum(
    colour_at: Callable[[float], Sequence[int]],
    n: int,
    *,
    name: str,
    step: float = 1.0,
    chapters: list[dict] | None = None,
) -> Spectrum:
    """A spectrum of ``n`` strips of one colour each: ``colour_at(sample time)``."""
    spec = Spectrum(
        settings={"start": 0.0, "step": step, "offset": 0.0, "height": 40, "order": "hls"},
        source={"name": f"/films/{name}", "kind": "file", "duration": n * step},
        slots=n,
        chapters=chapters or [],
    )
    for i in range(n):
        c = np.array([colour_at(i * step)], np.uint8)
        spec.add(Strip(i, i * step, i * step, c, np.array([100], np.int64)))
    return spec


def by_second(t: float) -> tuple[int, int, int]:
    """A distinct colour for each whole second (so a column names its time)."""
    s = int(t)
    return (40 + 20 * (s % 10), 200 - 15 * (s % 10), 60 + 37 * (s // 10) % 200)


def pixel(img: Image.Image, x: float, y: int) -> tuple[int, ...]:
    return img.getpixel((int(np.floor(x)), y))[:3]


def run(args: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the distance ---------------------------------------------------------------------
def hue_shifted(palette: np.ndarray, degrees: float) -> np.ndarray:
    out = []
    for r, g, b in palette / 255.0:
        h, light, s = colorsys.rgb_to_hls(r, g, b)
        out.append(colorsys.hls_to_rgb((h + degrees / 360.0) % 1.0, light, s))
    return np.rint(np.array(out) * 255).astype(np.uint8)


PAL = np.array([[200, 40, 40], [40, 160, 60], [50, 60, 200], [220, 200, 60]], np.uint8)
COUNTS = np.array([400, 300, 200, 100])


def test_distance_properties():
    assert palette_distance(PAL, COUNTS, PAL, COUNTS) == 0.0
    # Order of the colours within a strip does not matter, nor does splitting a colour.
    perm = [2, 0, 3, 1]
    assert palette_distance(PAL, COUNTS, PAL[perm], COUNTS[perm]) == pytest.approx(0, abs=1e-12)
    split = np.vstack([PAL, PAL[:1]])
    assert palette_distance(PAL, COUNTS, split, [200, 300, 200, 100, 200]) == pytest.approx(
        0, abs=1e-12
    )
    # Grows with a hue shift (of warm colours: shifting a rainbow palette by the spacing
    # of its hues would land its colours on each other's places, rightly near 0).
    warm = np.array([[200, 40, 40], [210, 90, 50], [180, 50, 80], [230, 130, 60]], np.uint8)
    d = [
        palette_distance(warm, COUNTS, hue_shifted(warm, a), COUNTS) for a in (0, 5, 15, 30, 60, 90)
    ]
    assert d[0] == 0 and all(x < y for x, y in itertools.pairwise(d)), d
    # Symmetric.
    other = hue_shifted(PAL, 40)
    assert palette_distance(PAL, COUNTS, other, COUNTS[::-1]) == pytest.approx(
        palette_distance(other, COUNTS[::-1], PAL, COUNTS), abs=1e-12
    )
    # Sees proportions (a nearest-colour distance would not).
    assert palette_distance(PAL[:2], [90, 10], PAL[:2], [10, 90]) > 0.1
    # In OKLab units: a uniform shift of every colour by v reads about |v|.
    grey = np.array([[100, 100, 100]], np.uint8)
    lighter = np.array([[120, 120, 120]], np.uint8)
    v = np.linalg.norm(oklab(lighter) - oklab(grey))
    assert palette_distance(grey, [1], lighter, [1]) == pytest.approx(v, rel=0.03)


colour = st.tuples(*[st.integers(0, 255)] * 3)
palette_st = st.lists(st.tuples(colour, st.integers(1, 1000)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(palette_st, palette_st, st.randoms(use_true_random=False))
def test_distance_is_symmetric_and_order_free(a, b, rnd):
    pa, ca = np.array([c for c, _ in a], np.uint8), [w for _, w in a]
    pb, cb = np.array([c for c, _ in b], np.uint8), [w for _, w in b]
    d = palette_distance(pa, ca, pb, cb)
    assert d >= 0
    assert d == pytest.approx(palette_distance(pb, cb, pa, ca), abs=1e-9)
    perm = list(range(len(a)))
    rnd.shuffle(perm)
    assert d == pytest.approx(palette_distance(pa[perm], [ca[i] for i in perm], pb, cb), abs=1e-9)
    assert palette_distance(pa, ca, pa, ca) == 0.0


def test_batched_distances_match_single_ones():
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(300):  # more than one batch
        ka, kb = rng.integers(1, 12, 2)
        a = Strip(i, 0, 0, rng.integers(0, 256, (ka, 3)).astype(np.uint8), rng.integers(1, 99, ka))
        b = Strip(i, 0, 0, rng.integers(0, 256, (kb, 3)).astype(np.uint8), rng.integers(1, 99, kb))
        pairs.append((a, b))
    pairs.append((pairs[0][0], pairs[0][0]))
    got = strip_distances(pairs)
    want = [palette_distance(a.palette, a.counts, b.palette, b.counts) for a, b in pairs]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got[-1] == 0.0


# -- the picture ----------------------------------------------------------------------
def test_one_labelled_band_per_film():
    films = [
        make_spectrum(lambda t, c=c: c, 10, name=f"{name}.mp4")
        for c, name in zip(COLOURS[:3], ("alpha", "beta", "gamma"), strict=True)
    ]
    cmp = compare_spectra(films, height=50, width=400)
    img = cmp.image
    assert img.size[0] == 400 and len(cmp.bands) == 3
    assert cmp.titles == ["alpha.mp4", "beta.mp4", "gamma.mp4"]
    arr = np.asarray(img)
    prev_bottom = 0
    for (top, bottom), c in zip(cmp.bands, COLOURS[:3], strict=True):
        assert bottom - top == 50
        # The band is the film's colour, edge to edge; the title is written above it.
        assert (arr[top:bottom] == c).all()
        label = arr[prev_bottom:top]
        assert (label.mean(axis=2) > 128).sum() > 20  # light lettering on the dark row
        assert not (label == c).all(axis=2).any()
        prev_bottom = bottom
    # Different titles, different lettering (the title rows just above each band).
    rows = cmp.bands[0][0]
    t1 = cmp.bands[1][0]
    assert not np.array_equal(arr[:rows], arr[t1 - rows : t1])


def test_same_titles_are_told_apart():
    a = make_spectrum(lambda t: COLOURS[0], 5, name="film.mp4")
    cmp = compare_spectra([a, a], names=["v1/grade.json", "v2/remaster.json"])
    assert cmp.titles == ["film.mp4 (grade.json)", "film.mp4 (remaster.json)"]
    cmp = compare_spectra([a, a], names=["x.json", "x.json"])
    assert cmp.titles == ["film.mp4 (x.json) #1", "film.mp4 (x.json) #2"]


def test_absolute_time_axis_is_shared():
    # The same film sampled every second and every half second, and a shorter one.
    every1 = make_spectrum(by_second, 20, name="a.mp4", step=1.0)
    every_half = make_spectrum(by_second, 40, name="b.mp4", step=0.5)
    short = make_spectrum(by_second, 6, name="c.mp4", step=2.0)
    cmp = compare_spectra([every1, every_half, short], height=30, width=800)
    img = cmp.image
    assert cmp.scales[0] == cmp.scales[1] == cmp.scales[2]
    for t in (0.0, 3.0, 7.0, 11.0, 19.0):
        x = cmp.x_of(0, t)
        assert x == cmp.x_of(1, t) == cmp.x_of(2, t)
        # The strip sampled at t is drawn at x in both bands.
        assert pixel(img, x, cmp.bands[0][0] + 5) == by_second(t)
        assert pixel(img, x, cmp.bands[1][0] + 5) == by_second(t)
    # The short film ends at its 12 s; after that its band is background.
    end = cmp.x_of(2, 12.0) + 2
    assert pixel(img, end, cmp.bands[2][0] + 5) == BACKGROUND
    assert pixel(img, cmp.x_of(2, 10.0), cmp.bands[2][0] + 5) == by_second(10)


def test_normalize_maps_ends_together():
    long = make_spectrum(lambda t: COLOURS[min(int(t // 20), 4)], 100, name="long.mp4")
    short = make_spectrum(lambda t: COLOURS[min(int(t // 4), 4)], 40, name="short.mp4", step=0.5)
    cmp = compare_spectra([long, short], normalize=True, height=30, width=500)
    img = cmp.image
    # Each film from its start to its end: 0-100 s and 0-20 s.
    assert cmp.x_of(0, 0.0) == pytest.approx(0) and cmp.x_of(1, 0.0) == pytest.approx(0)
    assert cmp.x_of(0, 100.0) == pytest.approx(500) and cmp.x_of(1, 20.0) == pytest.approx(500)
    for band in cmp.bands:
        assert pixel(img, 0, band[0] + 3) == COLOURS[0]
        assert pixel(img, 499, band[0] + 3) == COLOURS[4]
        # Both change colour at the same fraction of their running time (a fifth).
        row = np.asarray(img)[band[0] + 3]
        changes = np.flatnonzero((row[1:] != row[:-1]).any(axis=1)) + 1
        assert changes.tolist() == [100, 200, 300, 400]


def test_segments_and_chapters_are_drawn():
    chapters = [{"start": 0.0, "title": "Opening"}, {"start": 10.0, "title": "Second"}]
    a = make_spectrum(lambda t: COLOURS[int(t // 5) % 5], 20, name="a.mp4", chapters=chapters)
    b = make_spectrum(lambda t: COLOURS[int(t // 5) % 5], 20, name="b.mp4")
    plain = compare_spectra([a, b], height=40, width=400)
    both = compare_spectra([a, b], height=40, width=400, segments=True, chapters=True)
    assert both.image.height > plain.image.height
    assert a.segments and b.segments  # found now: the data had none
    assert [s["first_strip"] for s in a.segments] == [0, 5, 10, 15]
    arr = np.asarray(both.image)
    # The segment band under film a shows the segments' colours at their times.
    below = arr[both.bands[0][1] + 4]
    for t, c in ((2.0, COLOURS[0]), (7.0, COLOURS[1]), (17.0, COLOURS[3])):
        assert tuple(below[int(both.x_of(0, t))]) == c
    assert tuple(below[1]) == COLOURS[0]  # the first segment starts at the left edge


def test_diff_of_a_film_with_itself_is_flat_zero():
    a = make_spectrum(by_second, 20, name="a.mp4")
    cmp = compare_spectra([a, a], diff=True, height=40, width=400)
    assert (cmp.diff.distances == 0).all() and cmp.diff.peaks() == []
    top, zero = cmp.diff_box
    arr = np.asarray(cmp.image)
    curve_rows = np.flatnonzero((arr[top - 20 : zero + 3] == CURVE).all(axis=2).any(axis=1))
    assert len(curve_rows) and (curve_rows + top - 20 >= zero - 1).all()  # all on the baseline


def test_diff_peaks_where_the_grade_differs():
    a = make_spectrum(lambda t: COLOURS[int(t // 2)], 10, name="a.mp4")
    regraded = [*COLOURS]
    regraded[2] = (150, 40, 220)  # seconds 4-6: blue turned violet
    b = make_spectrum(lambda t: regraded[int(t // 2)], 10, name="b.mp4")
    cmp = compare_spectra([a, b], diff=True, height=40, width=500)
    d = cmp.diff
    assert d.distances[[4, 5]].min() > 0.1
    assert (np.delete(d.distances, [4, 5]) == 0).all()
    assert d.peaks(1)[0][0] in (4.0, 5.0)
    # The drawn curve is highest over those seconds.
    top, zero = cmp.diff_box
    arr = np.asarray(cmp.image)[top : zero + 1]
    ys, xs = np.nonzero((arr == CURVE).all(axis=2))
    highest = xs[ys == ys.min()]
    assert cmp.x_of(0, 4.0) - 1 <= highest.min() and highest.max() <= cmp.x_of(0, 5.0) + 1


def test_bad_options():
    a = make_spectrum(by_second, 5, name="a.mp4")
    with pytest.raises(InputError, match="exactly two"):
        compare_spectra([a, a, a], diff=True)
    with pytest.raises(InputError, match="width must be"):
        compare_spectra([a], width=50)
    with pytest.raises(InputError, match="height must be"):
        compare_spectra([a], height=0)
    with pytest.raises(InputError, match="at least one"):
        compare_spectra([])
    with pytest.raises(InputError, match="would be up to"):
        compare_spectra([a] * 20, height=16_000 // 20, width=60_000)
    empty = Spectrum(settings={"start": 0, "step": 1})
    with pytest.raises(InputError, match="no strips"):
        compare_spectra([a, empty], names=["a.json", "e.json"])


def test_clock():
    assert _clock(0) == "0:00.0" and _clock(65.25) == "1:05.2" and _clock(3725.0) == "1:02:05.0"
    assert _clock(59.97) == "0:59.9"  # floored, as a clock shows it


# -- the command ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """A clip, the same clip with one stretch hue-shifted (a regrade), both rendered."""
    from videos import colour_film

    d = tmp_path_factory.mktemp("compare")
    regraded = [*COLOURS]
    regraded[2] = (150, 40, 220)
    for name, colours in (("clip", COLOURS), ("regraded", regraded)):
        colour_film(d / f"{name}.mp4", seconds=10, colours=colours, each=2.0, noise=20, gop=10)
        args = ["render", d / f"{name}.mp4", "-o", d / f"{name}.png", "--every", "1", "-q"]
        assert main([str(x) for x in args]) == 0
    (d / "chapters.txt").write_text("0:00 Opening\n0:05 Later\n")
    args = ["render", d / "clip.mp4", "-o", d / "half.png", "--every", "0.5", "-q"]
    assert main([str(x) for x in [*args, "--chapters", d / "chapters.txt"]]) == 0
    return d


def test_cli_compare(clips, tmp_path, capsys):
    out = tmp_path / "cmp.png"
    args = ["compare", clips / "clip.json", clips / "half.json", clips / "regraded.json"]
    code, stdout, err = run([*args, "-o", out, "--segments", "--height", "60"], capsys)
    assert code == 0, err
    assert f"wrote {out}: 3 films" in stdout
    img = Image.open(out)
    assert img.width == 800  # the default: at least 800 px
    assert not list(tmp_path.glob(".*part"))
    code, _, err = run([*args[:3], "-o", tmp_path / "n.webp", "--normalize", "--chapters"], capsys)
    assert code == 0, err
    assert Image.open(tmp_path / "n.webp").format == "WEBP"


def test_cli_diff_finds_the_regrade(clips, tmp_path, capsys):
    out = tmp_path / "diff.png"
    code, stdout, err = run(
        ["compare", clips / "clip.png", clips / "regraded.json", "-o", out, "--diff"], capsys
    )
    assert code == 0, err
    m = re.search(r"mean ([\d.]+), max ([\d.]+); largest differences at (\S+) \(", stdout)
    assert m, stdout
    mean, peak, when = float(m.group(1)), float(m.group(2)), m.group(3)
    assert peak > 0.1 and mean < peak / 2
    assert when in ("0:04.0", "0:05.0")
    # The same clip twice: nothing differs.
    code, stdout, err = run(
        ["compare", clips / "clip.json", clips / "clip.json", "-o", out, "--diff"], capsys
    )
    assert code == 0, err
    assert "mean 0.000, max 0.000; largest differences at none" in stdout


def test_cli_bad_inputs(clips, tmp_path, capsys):
    a, b = clips / "clip.json", clips / "regraded.json"
    cases = [
        (["compare", a, b, a, "-o", tmp_path / "x.png", "--diff"], "exactly two"),
        (["compare", a, tmp_path / "missing.json", "-o", tmp_path / "x.png"], "no such file"),
        (["compare", a, b, "-o", tmp_path / "x.gif"], "cannot write .gif"),
        (["compare", a, b, "-o", clips / "clip.png"], "is an input spectrum's image"),
        (["compare", a, b, "-o", clips / "clip.mp4.png"], None),  # fine: not an input
        (["compare", a, b, "-o", tmp_path / "no" / "x.png"], "does not exist"),
        (["compare", a, b, "-o", tmp_path / "x.png", "--width", "10"], "width must be"),
    ]
    (tmp_path / "bad.json").write_text(json.dumps({"format": "streamspec-spectrum"}))
    cases.append((["compare", a, tmp_path / "bad.json", "-o", tmp_path / "x.png"], "damaged"))
    before = (clips / "clip.png").read_bytes()
    for args, words in cases:
        code, _, err = run(args, capsys)
        if words is None:
            assert code == 0, err
            (clips / "clip.mp4.png").unlink()
            continue
        assert code == 2, args
        assert words in err and err.count("\n") == 1, err
    assert (clips / "clip.png").read_bytes() == before
    assert not (tmp_path / "x.png").exists()
