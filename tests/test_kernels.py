"""Every Numba kernel against a plain-NumPy reference written here, naively."""

from __future__ import annotations

import numpy as np
import pytest

from streamspec.analysis import _kernels as K


def ref_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(N, K) squared distances in float32, summed over the axis as NumPy does."""
    d = X.astype(np.float32)[:, None, :] - C.astype(np.float32)[None, :, :]
    return (d * d).sum(axis=2)


@pytest.fixture(params=[0, 1, 2])
def data(request):
    rng = np.random.default_rng(request.param)
    n = [1, 257, 5000][request.param]
    X = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    C = rng.uniform(0, 255, (7 + 20 * request.param, 3)).astype(np.float32)
    return X, C


def test_assign_serial_matches_numpy(data):
    X, C = data
    labels = np.empty(len(X), np.int32)
    dist = np.empty(len(X), np.float32)
    K.assign_serial(X, C, labels, dist)
    D = ref_dist(X, C)
    np.testing.assert_array_equal(labels, D.argmin(axis=1))
    np.testing.assert_array_equal(dist, D.min(axis=1))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
def test_assign_parallel_matches_numpy(data, dtype):
    X, C = data
    labels = np.empty(len(X), dtype)
    counts = np.empty(len(C), np.int64)
    total = K.assign_parallel(X, C, labels, counts)
    D = ref_dist(X, C)
    np.testing.assert_array_equal(labels, D.argmin(axis=1))
    np.testing.assert_array_equal(counts, np.bincount(D.argmin(axis=1), minlength=len(C)))
    assert total == pytest.approx(D.min(axis=1).astype(np.float64).sum(), rel=1e-6)


def test_assign_breaks_ties_to_the_first_centre():
    X = np.array([[10, 10, 10]], np.uint8)
    C = np.array([[0, 10, 10], [20, 10, 10], [10, 10, 10], [10, 10, 10]], np.float32)
    labels = np.empty(1, np.int32)
    K.assign_parallel(X, C, labels, np.empty(4, np.int64))
    assert labels[0] == np.argmin(ref_dist(X, C)[0]) == 2


def ref_kmeans_plusplus(X, k, first, uniforms):
    """scikit-learn's greedy k-means++, written plainly, with the same random draws."""
    Xf = X.astype(np.float32)
    centers = [Xf[first]]
    closest = ref_dist(X, Xf[first : first + 1])[:, 0]
    pot = float(closest.astype(np.float64).sum())
    for c in range(1, k):
        if pot <= 0:
            break
        cum = np.cumsum(closest.astype(np.float64))
        best_pot, best_row = np.inf, -1
        for u in uniforms[c - 1]:
            row = min(int(np.searchsorted(cum, u * cum[-1], side="right")), len(X) - 1)
            d = ref_dist(X, Xf[row : row + 1])[:, 0]
            p = float(np.minimum(closest, d).astype(np.float64).sum())
            if p < best_pot:
                best_pot, best_row = p, row
        closest = np.minimum(closest, ref_dist(X, Xf[best_row : best_row + 1])[:, 0])
        pot = best_pot
        centers.append(Xf[best_row])
    return np.array(centers, np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_kmeans_plusplus_matches_reference(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    k = 12
    uniforms = rng.random((k - 1, 4))
    got = K.kmeans_plusplus(X, k, 5, uniforms)
    np.testing.assert_array_equal(got, ref_kmeans_plusplus(X, k, 5, uniforms))


def test_kmeans_plusplus_stops_at_distinct_colours():
    X = np.repeat(np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], np.uint8), 50, axis=0)
    uniforms = np.random.default_rng(0).random((9, 3))
    got = K.kmeans_plusplus(X, 10, 0, uniforms)
    assert len(got) == 3
    assert {tuple(c) for c in got.astype(int)} == {(0, 0, 0), (255, 0, 0), (0, 0, 255)}


def test_minibatch_step_matches_reference():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (2000, 3), dtype=np.uint8)
    C = rng.uniform(0, 255, (10, 3)).astype(np.float32)
    w = rng.integers(0, 50, 10).astype(np.float64)
    w[3] = 0
    batch = rng.integers(0, 2000, 300)

    ref_c, ref_w = C.copy(), w.copy()
    Xb = X[batch]
    D = ref_dist(Xb, ref_c)
    lab = D.argmin(axis=1)
    for j in range(10):
        pts = Xb[lab == j].astype(np.float64)
        if len(pts):
            neww = ref_w[j] + len(pts)
            ref_c[j] = ((ref_c[j].astype(np.float64) * ref_w[j] + pts.sum(0)) / neww).astype(
                np.float32
            )
            ref_w[j] = neww

    labels = np.empty(300, np.int32)
    dist = np.empty(300, np.float32)
    got_c, got_w = C.copy(), w.copy()
    inertia = K.minibatch_step(X, batch, got_c, got_w, labels, dist)
    np.testing.assert_allclose(got_c, ref_c, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(got_w, ref_w)
    assert inertia == pytest.approx(D.min(axis=1).astype(np.float64).sum(), rel=1e-9)


def test_lloyd_step_matches_reference_and_reseeds_empty_clusters():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 200, (1500, 3), dtype=np.uint8)
    # Centre 2 is far from every point, so it starts (and would stay) empty.
    C = np.vstack([rng.uniform(0, 200, (4, 3)), [[255, 255, 255]]]).astype(np.float32)
    C[2] = [255, 255, 255]
    C[4] = [254, 254, 254]

    D = ref_dist(X, C)
    lab = D.argmin(axis=1)
    dmin = D.min(axis=1)
    ref = C.copy()
    for j in range(len(C)):
        pts = X[lab == j].astype(np.float64)
        if len(pts):
            ref[j] = (pts.sum(0) / len(pts)).astype(np.float32)
        else:
            far = int(np.argmax(dmin))
            ref[j] = X[far]
            dmin[far] = 0

    labels = np.full(len(X), -1, np.int32)
    dist = np.empty(len(X), np.float32)
    got = C.copy()
    changed, inertia = K.lloyd_step(X, got, labels, dist)
    np.testing.assert_array_equal(labels, lab)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)
    assert np.isfinite(got).all()
    assert changed >= len(X)
    assert inertia == pytest.approx(D.min(axis=1).astype(np.float64).sum(), rel=1e-9)

    # Iterated, it converges: a pass that changes no label leaves the centres in place.
    for _ in range(200):
        changed, _ = K.lloyd_step(X, got, labels, dist)
        if changed == 0:
            break
    assert changed == 0
    before = got.copy()
    assert K.lloyd_step(X, got, labels, dist)[0] == 0
    np.testing.assert_array_equal(got, before)


@pytest.mark.parametrize("limit", [1, 3, 4, 100])
def test_distinct_colors_matches_numpy(limit):
    rng = np.random.default_rng(limit)
    colours = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    X = colours[rng.integers(0, 4, 500)]
    got = K.distinct_colors(X, limit)
    _, first = np.unique(X, axis=0, return_index=True)
    expected = X[np.sort(first)]
    if len(expected) > limit:
        assert len(got) == 0
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("limit", [50, 1999, 2000, 5000])
def test_distinct_colors_many_colours(limit):
    # 2000 distinct colours (keys that collide in the hash set's low bits), repeated.
    rng = np.random.default_rng(9)
    keys = rng.choice(1 << 24, 2000, replace=False)
    colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)
    X = colours[rng.integers(0, 2000, 20000)]
    got = K.distinct_colors(X, limit)
    _, first = np.unique(X, axis=0, return_index=True)
    expected = X[np.sort(first)]
    if len(expected) > limit:
        assert len(got) == 0
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.slow
def test_sum_sq_error_and_gather_match_numpy():
    rng = np.random.default_rng(4)
    X = rng.integers(0, 256, (3001, 3), dtype=np.uint8)
    P = rng.integers(0, 256, (17, 3), dtype=np.uint8)
    lab = rng.integers(0, 17, 3001).astype(np.uint8)
    ref = ((X.astype(np.float64) - P[lab].astype(np.float64)) ** 2).sum()
    assert K.sum_sq_error(X, P, lab) == pytest.approx(ref, rel=1e-12)
    assert K.sum_sq_error(X, P.astype(np.float32), lab) == pytest.approx(ref, rel=1e-12)
    out = np.empty_like(X)
    K.gather_rgb(P, lab, out)
    np.testing.assert_array_equal(out, P[lab])


def test_refine_matches_minibatch_then_lloyd_references():
    rng = np.random.default_rng(7)
    X = rng.integers(0, 256, (1200, 3), dtype=np.uint8)
    C = X[rng.choice(1200, 8, replace=False)].astype(np.float32)
    batches = rng.integers(0, 1200, (3, 256))

    # Reference: the same mini-batch updates, then Lloyd until no label changes.
    ref = C.astype(np.float64)
    w = np.zeros(8)
    for b in batches:
        Xb = X[b].astype(np.float64)
        lab = ref_dist(X[b], ref.astype(np.float32)).argmin(axis=1)
        for j in range(8):
            pts = Xb[lab == j]
            if len(pts):
                ref[j] = (ref[j].astype(np.float32) * w[j] + pts.sum(0)) / (w[j] + len(pts))
                ref[j] = ref[j].astype(np.float32)
                w[j] += len(pts)
    labels = None
    passes = 0
    while passes < 100:
        passes += 1
        lab = ref_dist(X, ref.astype(np.float32)).argmin(axis=1)
        if labels is not None and (lab == labels).all():
            break
        labels = lab
        ref = np.array(
            [
                X[lab == j].astype(np.float64).mean(0) if (lab == j).any() else ref[j]
                for j in range(8)
            ]
        )

    got = C.copy()
    n_iter = K.refine(X, got, batches, 100, 0.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-3)
    assert n_iter == passes


@pytest.mark.parametrize(
    ("h", "w", "gh", "gw", "dtype"),
    [
        (7, 9, 2, 2, np.uint8),
        (10, 12, 3, 3, np.uint8),
        (1, 50, 1, 9, np.uint8),
        (4, 4, 4, 4, np.uint8),
        (40, 41, 20, 20, np.uint16),
    ],
)
def test_grid_sample_matches_numpy(h, w, gh, gw, dtype):
    rng = np.random.default_rng(h * w)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    bh, bw = h // gh, w // gw
    rand = rng.integers(0, np.iinfo(dtype).max + 1, bh * bw).astype(dtype)
    bits = 8 * rand.itemsize
    out = np.empty((bh * bw, 3), np.uint8)
    K.grid_sample(img, gh, gw, rand, bits, out)
    # Reference: cut the image into cells, flatten each, take the chosen pixel.
    offsets = (rand.astype(np.int64) * (gh * gw)) >> bits
    assert offsets.max() < gh * gw
    cells = img[: bh * gh, : bw * gw].reshape(bh, gh, bw, gw, 3).transpose(0, 2, 1, 3, 4)
    cells = cells.reshape(bh * bw, gh * gw, 3)
    np.testing.assert_array_equal(out, cells[np.arange(bh * bw), offsets])


def test_lloyd_counts_matches_numpy(data):
    X, C = data
    D = ref_dist(X, C)
    lab = D.argmin(axis=1)
    ref = C.copy()
    for j in range(len(C)):
        if (lab == j).any():
            ref[j] = X[lab == j].astype(np.float64).mean(axis=0).astype(np.float32)
    got = C.copy()
    counts = np.full(len(C), -5, np.int64)
    inertia = K.lloyd_counts(X, got, counts)
    np.testing.assert_array_equal(counts, np.bincount(lab, minlength=len(C)))
    np.testing.assert_array_equal(got, ref)  # integer sums: exact, not just close
    assert inertia == pytest.approx(D.min(axis=1).astype(np.float64).sum(), rel=1e-9)


def ref_lloyd_pass(X, C):
    """One Lloyd iteration in NumPy: means of the assigned rows; an empty centre goes to
    the worst-served row (as lloyd_step does)."""
    D = ref_dist(X, C)
    lab = D.argmin(axis=1)
    dmin = D.min(axis=1)
    out = C.copy()
    for j in range(len(C)):
        pts = X[lab == j].astype(np.float64)
        if len(pts):
            out[j] = (pts.sum(0) / len(pts)).astype(np.float32)
        else:
            far = int(np.argmax(dmin))
            out[j] = X[far]
            dmin[far] = 0
    return out


@pytest.mark.parametrize(
    ("n", "parts", "passes"), [(1000, 4, 6), (1003, 3, 5), (10, 4, 4), (500, 1, 3)]
)
def test_lloyd_rotating_matches_reference(n, parts, passes):
    rng = np.random.default_rng(n + parts)
    X = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    C = rng.uniform(0, 255, (6, 3)).astype(np.float32)
    ref = C.copy()
    for t in range(passes):
        part = X[t % parts :: parts]
        if len(part):
            ref = ref_lloyd_pass(part, ref)
    got = C.copy()
    K.lloyd_rotating(X, got, parts, passes)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_merge_leaders_kernel_matches_numpy_reference(seed):
    # The kernel (leaders scan only a window of lightness) against the plain NumPy
    # reference that compares every leader with every colour: the same leaders, on
    # random colours, clustered colours (many merges), repeats and tied weights.
    from streamspec.analysis.colour import merge_leaders, oklab

    rng = np.random.default_rng(seed)
    n = [1, 40, 600, 3000, 500, 800][seed]
    if seed % 2:  # clusters of near colours
        centres = rng.integers(0, 256, (max(n // 20, 1), 3))
        near = rng.integers(-9, 10, (n, 3))
        pal = np.clip(centres[rng.integers(0, len(centres), n)] + near, 0, 255)
    else:
        pal = rng.integers(0, 256, (n, 3))
    pal = pal.astype(np.uint8)
    w = rng.integers(1, 4, n).astype(np.float64) if seed >= 4 else rng.random(n)
    for threshold in (0.0, 0.02, 0.04, 0.15, 2.0):
        order = np.argsort(-w, kind="stable")
        lab = np.ascontiguousarray(oklab(pal[order]))
        by_l = np.argsort(lab[:, 0], kind="stable")
        pos = np.empty_like(by_l)
        pos[by_l] = np.arange(n)
        lead = K.merge_leaders(lab, by_l, pos, threshold)
        got = np.empty(n, np.intp)
        got[order] = order[lead]
        np.testing.assert_array_equal(got, merge_leaders(pal, w, threshold))
