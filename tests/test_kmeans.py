"""ColorKMeans: determinism, invariants, exact recovery, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from streamspec import ColorKMeans


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
    a = ColorKMeans(20, random_state=7).fit(img)
    b = ColorKMeans(20, random_state=7).fit(img)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.counts_, b.counts_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    c = ColorKMeans(20, random_state=8).fit(img)
    assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


@pytest.mark.parametrize("k", [1, 2, 5, 12])
def test_exact_recovery_of_flat_colours(k):
    colours = np.random.default_rng(k).integers(0, 256, (k, 3), dtype=np.uint8)
    colours = np.unique(colours, axis=0)
    img = flat_colours_image(colours)
    km = ColorKMeans(k, random_state=0).fit(img)
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
    km = ColorKMeans(len(colours), random_state=0).fit(img)
    centres = km.cluster_centers_
    for c in colours:
        assert np.abs(centres - c).max(axis=1).min() < 0.5
    np.testing.assert_array_equal(np.sort(km.counts_), np.full(6, 2000))


def test_fewer_distinct_colours_than_clusters_returns_the_distinct_ones():
    img = flat_colours_image(np.array([[1, 2, 3], [250, 0, 9], [7, 7, 7]], np.uint8))
    km = ColorKMeans(50, random_state=0).fit(img)
    assert len(km.cluster_centers_) == 3
    assert km.inertia_ == 0
    assert km.predict(img).max() == 2


def test_single_pixel_and_single_colour():
    km = ColorKMeans(50, random_state=0).fit(np.array([[9, 8, 7]], np.uint8))
    np.testing.assert_array_equal(km.palette_, [[9, 8, 7]])
    np.testing.assert_array_equal(km.counts_, [1])


def test_warm_start_from_previous_palette():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    first = ColorKMeans(16, random_state=0).fit(img)
    warm = ColorKMeans(16, init=first.cluster_centers_, random_state=0).fit(img)
    assert warm.inertia_ <= first.inertia_ * 1.01
    assert len(warm.cluster_centers_) == 16
    # A warm start may bring a different number of centres than n_colors.
    few = ColorKMeans(16, init=first.cluster_centers_[:4], random_state=0).fit(img)
    assert len(few.cluster_centers_) == 4


def test_empty_clusters_never_give_nan():
    img = np.zeros((50, 50, 3), np.uint8)
    img[:25] = 255
    img[0, 0] = [1, 2, 3]
    img[1:3, 0] = [3, 2, 1]
    km = ColorKMeans(
        3, init=np.array([[0, 0, 0], [255, 255, 255], [900, 900, 900]]), random_state=0
    ).fit(np.repeat(img, 3, axis=0))
    assert np.isfinite(km.cluster_centers_).all()
    assert (km.counts_ > 0).all()


def test_quality_close_to_full_lloyd_on_smooth_image():
    # A smooth two-axis gradient: well-spread optimum, so quality comparisons are meaningful.
    y, x = np.mgrid[0:200, 0:300]
    img = np.stack([x * 255 // 299, y * 255 // 199, (x + y) * 255 // 498], axis=2).astype(np.uint8)
    km = ColorKMeans(16, random_state=0, sample_size=60000).fit(img)
    # Plain Lloyd on all pixels from the same seeds, 100 passes, in NumPy.
    X = img.reshape(-1, 3).astype(np.float64)
    C = km.cluster_centers_.astype(np.float64)
    for _ in range(100):
        lab = ((X[:, None] - C[None]) ** 2).sum(2).argmin(1)
        C = np.array([X[lab == j].mean(0) if (lab == j).any() else C[j] for j in range(len(C))])
    best = ((X - C[((X[:, None] - C[None]) ** 2).sum(2).argmin(1)]) ** 2).sum()
    assert km.inertia_ <= best * 1.02


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pixels=arrays(np.uint8, st.tuples(st.integers(1, 400), st.just(3))),
    k=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants(pixels, k, seed):
    km = ColorKMeans(k, random_state=seed, sample_size=256, batch_size=64).fit(pixels)
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
        ({"n_colors": 0}, ValueError),
        ({"n_colors": -3}, ValueError),
        ({"n_colors": 2.5}, TypeError),
        ({"n_colors": 70000}, ValueError),
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
        ColorKMeans(**kwargs).fit(np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 3), np.uint8)],
)
def test_bad_pixel_shapes(pixels):
    with pytest.raises(ValueError):
        ColorKMeans(3).fit(pixels)


def test_float_pixels_rejected_and_predict_needs_fit():
    with pytest.raises(TypeError):
        ColorKMeans(3).fit(np.zeros((4, 3), np.float64))
    with pytest.raises(RuntimeError):
        ColorKMeans(3).predict(np.zeros((4, 3), np.uint8))
