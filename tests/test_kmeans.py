"""ColourKMeans: determinism, invariants, exact recovery, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from streamspec import ColourKMeans
from streamspec.analysis.kmeans import sample_palette


def flat_colours_image(colours: np.ndarray, h: int = 40, w: int = 60) -> np.ndarray:
    """An image made of vertical bands of the given colours."""
    bands = np.array_split(np.arange(w), len(colours))
    img = np.empty((h, w, 3), np.uint8)
    for c, cols in zip(colours, bands, strict=True):
        img[:, cols] = c
    return img


def test_same_seed_same_result():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    a = ColourKMeans(20, random_state=7).fit(img)
    b = ColourKMeans(20, random_state=7).fit(img)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.counts_, b.counts_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    c = ColourKMeans(20, random_state=8).fit(img)
    assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


@pytest.mark.parametrize("k", [1, 2, 5, 12])
def test_exact_recovery_of_flat_colours(k):
    colours = np.random.default_rng(k).integers(0, 256, (k, 3), dtype=np.uint8)
    colours = np.unique(colours, axis=0)
    img = flat_colours_image(colours)
    km = ColourKMeans(k, random_state=0).fit(img)
    got = {tuple(c) for c in km.palette_.tolist()}
    assert got == {tuple(c) for c in colours.tolist()}
    assert km.inertia_ == 0
    assert km.counts_.sum() == img.shape[0] * img.shape[1]


def test_recovers_separated_colours_through_kmeans_path():
    # +/-1 noise gives far more distinct colours than k, so the k-means path must run.
    colours = np.array(
        [
            [200, 20, 20],
            [20, 200, 20],
            [20, 20, 200],
            [230, 230, 40],
            [40, 40, 40],
            [240, 240, 240],
        ],
        np.uint8,
    )
    img = flat_colours_image(colours, 100, 120).astype(np.int16)
    img += np.random.default_rng(0).integers(-1, 2, img.shape).astype(np.int16)
    img = img.clip(0, 255).astype(np.uint8)
    km = ColourKMeans(len(colours), random_state=0).fit(img)
    centres = km.cluster_centers_
    for c in colours:
        assert np.abs(centres - c).max(axis=1).min() < 0.5
    np.testing.assert_array_equal(np.sort(km.counts_), np.full(6, 2000))


def test_fewer_distinct_colours_than_clusters_returns_the_distinct_ones():
    img = flat_colours_image(np.array([[1, 2, 3], [250, 0, 9], [7, 7, 7]], np.uint8))
    km = ColourKMeans(50, random_state=0).fit(img)
    assert len(km.cluster_centers_) == 3
    assert km.inertia_ == 0
    assert km.predict(img).max() == 2


def test_single_pixel_and_single_colour():
    km = ColourKMeans(50, random_state=0).fit(np.array([[9, 8, 7]], np.uint8))
    np.testing.assert_array_equal(km.palette_, [[9, 8, 7]])
    np.testing.assert_array_equal(km.counts_, [1])


def test_warm_start_from_previous_palette():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    first = ColourKMeans(16, random_state=0).fit(img)
    warm = ColourKMeans(16, init=first.cluster_centers_, random_state=0).fit(img)
    assert warm.inertia_ <= first.inertia_ * 1.01
    assert len(warm.cluster_centers_) == 16
    # A warm start may bring a different number of centres than n_colours.
    few = ColourKMeans(16, init=first.cluster_centers_[:4], random_state=0).fit(img)
    assert len(few.cluster_centers_) == 4


def test_empty_clusters_never_give_nan():
    img = np.zeros((50, 50, 3), np.uint8)
    img[:25] = 255
    img[0, 0] = [1, 2, 3]
    img[1:3, 0] = [3, 2, 1]
    km = ColourKMeans(
        3, init=np.array([[0, 0, 0], [255, 255, 255], [900, 900, 900]]), random_state=0
    ).fit(np.repeat(img, 3, axis=0))
    assert np.isfinite(km.cluster_centers_).all()
    assert (km.counts_ > 0).all()


@pytest.mark.slow
def test_quality_close_to_full_lloyd_on_smooth_image():
    # A smooth two-axis gradient: well-spread optimum, so quality comparisons are meaningful.
    y, x = np.mgrid[0:200, 0:300]
    img = np.stack([x * 255 // 299, y * 255 // 199, (x + y) * 255 // 498], axis=2).astype(np.uint8)
    km = ColourKMeans(16, random_state=0, sample_size=60000).fit(img)
    # Plain Lloyd on all pixels from the same seeds, 100 passes, in NumPy.
    X = img.reshape(-1, 3).astype(np.float64)
    C = km.cluster_centers_.astype(np.float64)
    for _ in range(100):
        lab = ((X[:, None] - C[None]) ** 2).sum(2).argmin(1)
        C = np.array([X[lab == j].mean(0) if (lab == j).any() else C[j] for j in range(len(C))])
    best = ((X - C[((X[:, None] - C[None]) ** 2).sum(2).argmin(1)]) ** 2).sum()
    assert km.inertia_ <= best * 1.02


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pixels=arrays(np.uint8, st.tuples(st.integers(1, 400), st.just(3))),
    k=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants(pixels, k, seed):
    km = ColourKMeans(k, random_state=seed, sample_size=256, batch_size=64).fit(pixels)
    n_found = len(km.cluster_centers_)
    assert 1 <= n_found <= k
    assert km.labels_.shape == (len(pixels),)
    assert int(km.labels_.max()) < n_found
    assert km.counts_.sum() == len(pixels)
    assert (km.counts_ > 0).all()
    lo = pixels.min(axis=0) - 1e-3
    hi = pixels.max(axis=0) + 1e-3
    assert np.all(km.cluster_centers_ >= lo) and np.all(km.cluster_centers_ <= hi)
    assert np.isfinite(km.inertia_) and km.inertia_ >= 0
    np.testing.assert_array_equal(km.predict(pixels), km.labels_)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_colours": 0}, ValueError),
        ({"n_colours": -3}, ValueError),
        ({"n_colours": 2.5}, TypeError),
        ({"n_colours": 70000}, ValueError),
        ({"batch_size": 0}, ValueError),
        ({"sample_size": 0}, ValueError),
        ({"max_iter": -1}, ValueError),
        ({"tol": -1.0}, ValueError),
        ({"tol": float("nan")}, ValueError),
        ({"init": "random"}, ValueError),
        ({"init": np.zeros((3, 2))}, ValueError),
        ({"init": np.full((3, 3), np.nan)}, ValueError),
    ],
)
def test_bad_parameters(kwargs, error):
    with pytest.raises(error):
        ColourKMeans(**kwargs).fit(np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 3), np.uint8)],
)
def test_bad_pixel_shapes(pixels):
    with pytest.raises(ValueError):
        ColourKMeans(3).fit(pixels)


def test_float_pixels_rejected_and_predict_needs_fit():
    with pytest.raises(TypeError):
        ColourKMeans(3).fit(np.zeros((4, 3), np.float64))
    with pytest.raises(RuntimeError):
        ColourKMeans(3).predict(np.zeros((4, 3), np.uint8))


# -- sample_palette: the strip's quantizer ---------------------------------------------
def textured_frame(seed: int = 0, h: int = 270, w: int = 480) -> np.ndarray:
    """A frame-sized picture: smooth colour fields, a few flat shapes and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + 2 * y) * 255 // (w + 2 * h)], axis=2)
    img = img + rng.integers(-12, 13, (h, w, 3))
    img[40:120, 60:200] = [200, 30, 40]
    img[150:260, 300:460] = [20, 90, 210]
    return img.clip(0, 255).astype(np.uint8)


def test_sample_palette_same_generator_same_result():
    img = textured_frame()
    a = sample_palette(img, 50, np.random.default_rng([0, 3]))
    b = sample_palette(img, 50, np.random.default_rng([0, 3]))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = sample_palette(img, 50, np.random.default_rng([0, 4]))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.slow
def test_sample_palette_quality_and_shares_close_to_labelling_every_pixel():
    img = textured_frame(1)
    X = img.reshape(-1, 3)
    full = ColourKMeans(50, random_state=0).fit(img)
    centers, counts = sample_palette(img, 50, np.random.default_rng(0))
    assert len(centers) == len(counts) <= 50 and (counts > 0).all()
    assert counts.sum() == 135 * 240  # one pixel per 2x2 cell
    # Every pixel labelled with the sampled palette: its error is within 3 % of the
    # full estimator's, and the sampled shares are within 4 % (L1) of the labelled ones.
    d = ((X[:, None, :].astype(np.float32) - centers[None]) ** 2).sum(axis=2)
    labels = d.argmin(axis=1)
    mse = d.min(axis=1).astype(np.float64).sum() / len(X)
    assert mse <= 1.03 * full.inertia_ / len(X)  # two seeds of either differ by ~3 %
    shares = np.bincount(labels, minlength=len(centers)) / len(X)
    assert np.abs(shares - counts / counts.sum()).sum() < 0.04


def test_sample_palette_few_colours_are_exact_and_counted_over_every_pixel():
    colours = np.array([[1, 2, 3], [250, 0, 9], [7, 7, 7]], np.uint8)
    img = flat_colours_image(colours, 300, 400)
    centers, counts = sample_palette(img, 50, np.random.default_rng(0))
    np.testing.assert_array_equal(centers, colours.astype(np.float32))
    np.testing.assert_array_equal(counts, [300 * 134, 300 * 133, 300 * 133])


@pytest.mark.parametrize("shape", [(1, 1), (1, 200_000), (200_000, 1), (3, 5), (100, 100)])
def test_sample_palette_odd_shapes(shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    centers, counts = sample_palette(img, 20, np.random.default_rng(1))
    assert 1 <= len(centers) == len(counts) <= 20
    assert (counts > 0).all() and np.isfinite(centers).all()
    if img.size // 3 <= 40_000:  # small pictures are sampled whole
        assert counts.sum() == img.size // 3


@pytest.mark.slow
def test_analyze_frame_strip_is_the_seed_recipes_within_a_row_or_two():
    from test_strip import runs, seed_recipe_column

    from streamspec.analysis.strip import strip_from_palette
    from streamspec.outputs.spectrum import analyze_frame

    img = textured_frame(2)
    strip = analyze_frame(img, index=3, seed=1)
    X = img.reshape(-1, 3).astype(np.float32)
    pal = strip.palette.astype(np.float32)
    labels = ((X[:, None, :] - pal[None]) ** 2).sum(axis=2).argmin(axis=1)
    # The shares come from a quarter of the pixels: at 400 rows each band is within one
    # row of the classic recipe's (every pixel replaced by its colour, sorted, resized), as when
    # every pixel is labelled; at 1080 rows within two (one when all are labelled).
    for height, rows in ((400, 1), (1080, 2)):
        ours = runs(strip_from_palette(strip.palette, strip.counts, height))
        recipe = runs(seed_recipe_column(img, strip.palette, labels, height))
        assert [c for c, _ in ours] == [c for c, _ in recipe]
        assert max(abs(a - b) for (_, a), (_, b) in zip(ours, recipe, strict=True)) <= rows
    again = analyze_frame(img, index=3, seed=1)
    np.testing.assert_array_equal(again.palette, strip.palette)
    np.testing.assert_array_equal(again.counts, strip.counts)
    assert not np.array_equal(analyze_frame(img, index=4, seed=1).counts, strip.counts)


def test_warm_up_loads_the_kernels_in_a_thread():
    from streamspec.analysis.kmeans import warm_up

    thread = warm_up()
    assert thread is not None and thread.daemon
    thread.join(120)
    assert not thread.is_alive()
    assert warm_up(background=False) is None


@pytest.mark.slow
def test_numba_is_imported_only_when_a_kernel_runs():
    # Start-up: `streamspec render` opens the film and starts decoding before the first
    # frame is quantized; Numba's import (~0.4 s) must not come before that.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, streamspec, streamspec.pipeline.rendering, streamspec.cli\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
        "import numpy as np\n"
        "from streamspec.outputs.spectrum import analyze_frame\n"
        "analyze_frame(np.zeros((4, 4, 3), np.uint8))\n"
        "assert 'numba' in sys.modules\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_old_color_names_still_work_and_warn():
    import streamspec
    from streamspec.analysis import kmeans
    from streamspec.core.limits import MAX_IMAGE_COLOURS
    from streamspec.outputs.quantize import QuantizeResult

    with pytest.warns(DeprecationWarning, match=r"streamspec\.ColorKMeans .*ColourKMeans"):
        assert streamspec.ColorKMeans is ColourKMeans
    with pytest.warns(DeprecationWarning, match="kmeans.ColorKMeans"):
        from streamspec.analysis.kmeans import ColorKMeans  # noqa: F401
    with pytest.warns(DeprecationWarning, match="MAX_IMAGE_COLOURS"):
        assert kmeans.MAX_COLORS == MAX_IMAGE_COLOURS
    with pytest.warns(DeprecationWarning, match="n_colours"):
        km = ColourKMeans(n_colors=3, random_state=0)
    assert km.n_colours == 3
    with pytest.warns(DeprecationWarning, match="n_colours"):
        assert km.n_colors == 3
    r = QuantizeResult(colours=5, mse=0.0, input_bytes=1, output_bytes=1, width=1, height=1,
                       output=Path("x.png"))
    with pytest.warns(DeprecationWarning, match="QuantizeResult.colours"):
        assert r.colors == 5
    with pytest.raises(AttributeError):
        kmeans.NoSuchName  # noqa: B018
