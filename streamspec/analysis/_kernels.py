"""Numba kernels: colour k-means, and the live view's averaged panel columns.

Small ``@njit`` functions over contiguous arrays; no validation, no I/O. The public,
validating API is :mod:`streamspec.analysis.kmeans`. Every kernel has a plain-NumPy twin in
``tests/test_kernels.py`` that it must match.

Conventions: pixels are ``(N, 3)`` uint8, centres ``(K, 3)`` float32, distances are
squared Euclidean in float32 computed as ``((d0*d0 + d1*d1) + d2*d2)`` (the order NumPy
sums an axis of length 3, so the references agree bit for bit). Randomness comes in as
arrays drawn by the caller's ``numpy.random.Generator``; kernels hold no RNG state.

About 550 lines in one module on purpose: the k-means kernels call one another's small
helpers (Numba compiles a called kernel into its caller), share the conventions above and
are checked together by one reference-test file.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Pixels per block in the assignment kernels: the block's coordinates, best distances and
# labels stay in L1 while every centre streams past them, and the inner loop over the block
# vectorizes (a min/select per lane), which is what makes assignment ~15x a naive loop.
BLOCK = 256


@njit(cache=True, nogil=True)
def _assign_block(X, start, stop, c0, c1, c2, labels, best, scratch, idx):
    """Nearest centre for rows ``start:stop`` of X (at most BLOCK rows).

    Writes ``labels[start:stop]`` and ``best[:stop-start]`` (squared distances);
    ``scratch`` is a (3, BLOCK) float32 work area and ``idx`` a BLOCK int32 one.
    """
    n = stop - start
    x0 = scratch[0]
    x1 = scratch[1]
    x2 = scratch[2]
    for p in range(n):
        x0[p] = X[start + p, 0]
        x1[p] = X[start + p, 1]
        x2[p] = X[start + p, 2]
        best[p] = np.inf
        idx[p] = 0
    for j in range(c0.shape[0]):
        a = c0[j]
        b = c1[j]
        c = c2[j]
        for p in range(n):
            d0 = x0[p] - a
            d1 = x1[p] - b
            d2 = x2[p] - c
            d = (d0 * d0 + d1 * d1) + d2 * d2
            m = d < best[p]
            best[p] = d if m else best[p]
            idx[p] = j if m else idx[p]
    for p in range(n):
        labels[start + p] = idx[p]


@njit(cache=True, nogil=True)
def _split(centers):
    k = centers.shape[0]
    c0 = np.empty(k, np.float32)
    c1 = np.empty(k, np.float32)
    c2 = np.empty(k, np.float32)
    for j in range(k):
        c0[j] = centers[j, 0]
        c1[j] = centers[j, 1]
        c2[j] = centers[j, 2]
    return c0, c1, c2


@njit(cache=True, nogil=True)
def assign_serial(X, centers, labels, dist):
    """Nearest centre of every row of X (single thread). Fills labels and dist."""
    c0, c1, c2 = _split(centers)
    n = X.shape[0]
    best = np.empty(BLOCK, np.float32)
    scratch = np.empty((3, BLOCK), np.float32)
    idx = np.empty(BLOCK, np.int32)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        _assign_block(X, start, stop, c0, c1, c2, labels, best, scratch, idx)
        for p in range(stop - start):
            dist[start + p] = best[p]


# Blocks per parallel task: big enough that scratch allocation and scheduling vanish,
# small enough that two threads share a 480x270 frame evenly.
_TASK_BLOCKS = 32


@njit(cache=True, nogil=True, parallel=True)
def assign_parallel(X, centers, labels, counts):
    """Nearest centre of every row of X on all threads.

    Fills ``labels`` and ``counts`` (rows per centre, length K) and returns the summed
    squared distance (the inertia), so one pass gives everything a strip needs.
    """
    c0, c1, c2 = _split(centers)
    n = X.shape[0]
    k = c0.shape[0]
    task = BLOCK * _TASK_BLOCKS
    n_tasks = (n + task - 1) // task
    per_task = np.zeros((n_tasks, k), np.int64)
    total = 0.0
    for t in prange(n_tasks):
        best = np.empty(BLOCK, np.float32)
        scratch = np.empty((3, BLOCK), np.float32)
        idx = np.empty(BLOCK, np.int32)
        s = 0.0
        for start in range(t * task, min((t + 1) * task, n), BLOCK):
            stop = min(start + BLOCK, n)
            _assign_block(X, start, stop, c0, c1, c2, labels, best, scratch, idx)
            for p in range(stop - start):
                s += best[p]
                per_task[t, idx[p]] += 1
        total += s
    for j in range(k):
        c = 0
        for t in range(n_tasks):
            c += per_task[t, j]
        counts[j] = c
    return total


@njit(cache=True, nogil=True)
def _sq_dist_to(x0, x1, x2, row, out):
    """Squared distance of every point (x0, x1, x2) to point ``row``."""
    a = x0[row]
    b = x1[row]
    c = x2[row]
    for i in range(x0.shape[0]):
        d0 = x0[i] - a
        d1 = x1[i] - b
        d2 = x2[i] - c
        out[i] = (d0 * d0 + d1 * d1) + d2 * d2


# Reassociation lets the potential sums vectorize; the order is fixed at compile time,
# so results stay deterministic (the reference test allows for rounding, not for luck).
@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})
def _potential(closest, d):
    """sum(min(closest, d)) in float32 lanes, float64 total."""
    total = 0.0
    n = closest.shape[0]
    for s in range(0, n, 1024):
        part = np.float32(0.0)
        for i in range(s, min(s + 1024, n)):
            part += min(closest[i], d[i])
        total += part
    return total


@njit(cache=True, nogil=True)
def _search_cumsum(cum, value):
    """First index i with cum[i] > value (``np.searchsorted(cum, value, 'right')``)."""
    lo = 0
    hi = cum.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, cum.shape[0] - 1)


@njit(cache=True, nogil=True)
def kmeans_plusplus(X, k, first, uniforms):
    """Greedy k-means++ seeding (Arthur & Vassilvitskii; scikit-learn's variant).

    ``first`` is the row of the first centre; ``uniforms`` is a ``(k-1, trials)`` array
    of draws in [0, 1): each later centre is the best of ``trials`` candidates sampled
    with probability proportional to the squared distance to the nearest chosen centre.
    Stops early when every row already coincides with a centre (fewer distinct colours
    than k), so the result may have fewer than k rows.
    """
    n = X.shape[0]
    trials = uniforms.shape[1]
    x0 = np.empty(n, np.float32)
    x1 = np.empty(n, np.float32)
    x2 = np.empty(n, np.float32)
    for i in range(n):
        x0[i] = X[i, 0]
        x1[i] = X[i, 1]
        x2[i] = X[i, 2]
    centers = np.empty((k, 3), np.float32)
    closest = np.empty(n, np.float32)
    tmp = np.empty(n, np.float32)
    cum = np.empty(n, np.float64)
    _sq_dist_to(x0, x1, x2, first, closest)
    pot = 0.0
    for i in range(n):
        pot += closest[i]
    for t in range(3):
        centers[0, t] = X[first, t]
    n_centers = 1
    for c in range(1, k):
        if pot <= 0.0:
            break
        acc = 0.0
        for i in range(n):
            acc += closest[i]
            cum[i] = acc
        best_pot = np.inf
        best_row = -1
        for t in range(trials):
            row = _search_cumsum(cum, uniforms[c - 1, t] * acc)
            _sq_dist_to(x0, x1, x2, row, tmp)
            p = _potential(closest, tmp)
            if p < best_pot:
                best_pot = p
                best_row = row
        _sq_dist_to(x0, x1, x2, best_row, tmp)
        for i in range(n):
            closest[i] = min(closest[i], tmp[i])
        pot = best_pot
        for t in range(3):
            centers[c, t] = X[best_row, t]
        n_centers += 1
    return centers[:n_centers].copy()


@njit(cache=True, nogil=True)
def minibatch_step(X, batch, centers, weights, labels, dist):
    """One mini-batch update with per-centre learning rates (Sculley 2010).

    Assigns the rows ``X[batch]`` to their nearest centre, then moves each centre to the
    weighted mean of its old position (weight ``weights[j]``, the number of points it has
    absorbed so far) and the batch points it won: the learning rate ``n_j / (weights[j] +
    n_j)`` decays as a centre matures. Centres that win nothing stay where they are.
    ``labels``/``dist`` are scratch of at least ``len(batch)``. Returns the batch inertia.
    """
    b = batch.shape[0]
    k = centers.shape[0]
    Xb = np.empty((b, 3), np.uint8)
    for i in range(b):
        for t in range(3):
            Xb[i, t] = X[batch[i], t]
    assign_serial(Xb, centers, labels, dist)
    sums = np.zeros((k, 3), np.float64)
    counts = np.zeros(k, np.float64)
    inertia = 0.0
    for i in range(b):
        j = labels[i]
        counts[j] += 1.0
        inertia += dist[i]
        for t in range(3):
            sums[j, t] += Xb[i, t]
    for j in range(k):
        if counts[j] > 0.0:
            w = weights[j] + counts[j]
            for t in range(3):
                centers[j, t] = np.float32((centers[j, t] * weights[j] + sums[j, t]) / w)
            weights[j] = w
    return inertia


@njit(cache=True, nogil=True)
def lloyd_step(X, centers, labels, dist):
    """One Lloyd iteration over all rows of X, in place.

    Assigns every row, then moves each centre to the mean of its rows. An empty centre
    is re-seeded on the row that is currently worst served (largest distance), so no
    centre is ever NaN and none is wasted. Returns (rows whose label changed, inertia of
    the assignment that was made).
    """
    n = X.shape[0]
    k = centers.shape[0]
    old = labels.copy()
    assign_serial(X, centers, labels, dist)
    changed = 0
    inertia = 0.0
    sums = np.zeros((k, 3), np.float64)
    counts = np.zeros(k, np.int64)
    for i in range(n):
        j = labels[i]
        if j != old[i]:
            changed += 1
        inertia += dist[i]
        counts[j] += 1
        for t in range(3):
            sums[j, t] += X[i, t]
    for j in range(k):
        if counts[j] > 0:
            for t in range(3):
                centers[j, t] = np.float32(sums[j, t] / counts[j])
        else:
            far = np.argmax(dist)
            for t in range(3):
                centers[j, t] = X[far, t]
            dist[far] = 0.0
            changed += 1
    return changed, inertia


@njit(cache=True, nogil=True)
def refine(X, centers, batches, max_iter, tol):
    """Mini-batch phase then Lloyd passes over X, in place; returns the Lloyd passes run.

    ``batches`` is an ``(n_batches, batch_size)`` array of row indices (drawn by the
    caller). Lloyd stops when no label changes, when the inertia improves by at most
    ``tol`` (relative) or after ``max_iter`` passes.
    """
    m = X.shape[0]
    k = centers.shape[0]
    labels = np.zeros(m, np.int32)
    dist = np.empty(m, np.float32)
    weights = np.zeros(k, np.float64)
    for b in range(batches.shape[0]):
        minibatch_step(X, batches[b], centers, weights, labels, dist)
    labels[:] = -1
    prev = np.inf
    it = 0
    while it < max_iter:
        it += 1
        changed, inertia = lloyd_step(X, centers, labels, dist)
        if changed == 0 or (it > 1 and prev - inertia <= tol * prev):
            break
        prev = inertia
    return it


@njit(cache=True, nogil=True)
def distinct_colors(X, limit):
    """The distinct rows of X in first-seen order, or an empty array if there are more
    than ``limit``. One pass with a small open-addressing hash set (at most a quarter
    full, so a frame of many colours costs a few dozen probes); stops as soon as the
    limit is passed."""
    size = 64
    while size < 4 * (limit + 1):
        size *= 2
    mask = size - 1
    table = np.full(size, -1, np.int64)
    out = np.empty((limit, 3), np.uint8)
    m = 0
    for i in range(X.shape[0]):
        key = (np.int64(X[i, 0]) << 16) | (np.int64(X[i, 1]) << 8) | np.int64(X[i, 2])
        h = ((key * 2654435761) >> 16) & mask
        while table[h] != -1 and table[h] != key:
            h = (h + 1) & mask
        if table[h] == key:
            continue
        if m == limit:
            return out[:0].copy()
        table[h] = key
        for t in range(3):
            out[m, t] = X[i, t]
        m += 1
    return out[:m].copy()


@njit(cache=True, nogil=True, parallel=True)
def sum_sq_error(X, palette, labels):
    """Sum over rows of the squared error between X and ``palette[labels]`` (float64)."""
    n = X.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    total = 0.0
    for b in prange(n_blocks):
        s = 0.0
        for i in range(b * BLOCK, min((b + 1) * BLOCK, n)):
            j = labels[i]
            for t in range(3):
                d = np.float64(X[i, t]) - np.float64(palette[j, t])
                s += d * d
        total += s
    return total


@njit(cache=True, nogil=True, parallel=True)
def gather_rgb(palette, labels, out):
    """``out[i] = palette[labels[i]]`` without a temporary (uint8 palette and output)."""
    n = labels.shape[0]
    for i in prange(n):
        j = labels[i]
        out[i, 0] = palette[j, 0]
        out[i, 1] = palette[j, 1]
        out[i, 2] = palette[j, 2]


@njit(cache=True, nogil=True)
def grid_sample(img, gh, gw, rand, bits, out):
    """One pixel from every ``gh`` x ``gw`` cell of an ``(H, W, 3)`` image (stratified).

    Cells tile the image from the top left, row by row (``H // gh`` by ``W // gw`` of
    them; a remainder narrower than a cell is not sampled). ``rand[c]``, uniform in
    ``[0, 2**bits)``, picks the pixel of cell ``c``: the ``(rand[c] * gh * gw) >> bits``-th
    in row-major order within the cell. ``out[c]`` receives it.
    """
    area = gh * gw
    oy = np.empty(area, np.int64)
    ox = np.empty(area, np.int64)
    for o in range(area):
        oy[o] = o // gw
        ox[o] = o % gw
    bw = img.shape[1] // gw
    bh = out.shape[0] // bw
    c = 0
    for by in range(bh):
        y0 = by * gh
        for bx in range(bw):
            o = (np.int64(rand[c]) * area) >> bits
            y = y0 + oy[o]
            x = bx * gw + ox[o]
            out[c, 0] = img[y, x, 0]
            out[c, 1] = img[y, x, 1]
            out[c, 2] = img[y, x, 2]
            c += 1


@njit(cache=True, nogil=True)
def lloyd_counts(X, centers, counts):
    """One Lloyd step that keeps no labels: the shares of a sample and its means.

    Assigns every row of X to its nearest centre, writes the rows per centre to
    ``counts`` and moves each centre that won rows to their mean (in place; centres
    that won none stay where they are). Returns the inertia of the assignment.
    """
    c0, c1, c2 = _split(centers)
    n = X.shape[0]
    k = c0.shape[0]
    labels = np.empty(n, np.int32)
    best = np.empty(BLOCK, np.float32)
    scratch = np.empty((3, BLOCK), np.float32)
    idx = np.empty(BLOCK, np.int32)
    sums = np.zeros((k, 3), np.int64)
    for j in range(k):
        counts[j] = 0
    inertia = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        _assign_block(X, start, stop, c0, c1, c2, labels, best, scratch, idx)
        for p in range(stop - start):
            j = idx[p]
            inertia += best[p]
            counts[j] += 1
            sums[j, 0] += X[start + p, 0]
            sums[j, 1] += X[start + p, 1]
            sums[j, 2] += X[start + p, 2]
    for j in range(k):
        if counts[j] > 0:
            for t in range(3):
                centers[j, t] = np.float32(sums[j, t] / counts[j])
    return inertia


@njit(cache=True, nogil=True)
def lloyd_rotating(X, centers, parts, passes):
    """``passes`` Lloyd iterations (:func:`lloyd_step`), in place, each on one interleaved
    part of X in turn: iteration t uses rows ``t % parts``, ``t % parts + parts``, ...

    Each iteration costs what one on a ``parts``-th of X would, but the centres are
    pulled by all of X, so they do not settle on the quirks of one subsample (on real
    frames, twelve passes over eight rotating parts of a 32k sample fit better than
    Lloyd run to convergence on 16k pixels).
    """
    n = X.shape[0]
    P = np.empty_like(X)
    starts = np.empty(parts + 1, np.int64)
    r = 0
    for o in range(parts):
        starts[o] = r
        for i in range(o, n, parts):
            P[r, 0] = X[i, 0]
            P[r, 1] = X[i, 1]
            P[r, 2] = X[i, 2]
            r += 1
    starts[parts] = n
    labels = np.full(n, -1, np.int32)
    dist = np.empty(n, np.float32)
    for t in range(passes):
        o = t % parts
        a = starts[o]
        b = starts[o + 1]
        if b > a:
            lloyd_step(P[a:b], centers, labels[a:b], dist[a:b])


# -- the live view's panel ---------------------------------------------------------------
@njit(cache=True, nogil=True)
def mean_rows(rows, taps, out):
    """``out[x] = `` the mean of ``rows[taps[j, x]]`` over ``j``, byte by byte, rounded
    half up: ``rows`` ``(R, n)`` and ``out`` ``(W, n)`` uint8, ``taps`` ``(m, W)``
    (m <= 255). Bytes are summed a row at a time (a loop the compiler vectorizes) and
    divided by a multiply and shift: exact for sums below 65,536."""
    m, w = taps.shape
    n = rows.shape[1]
    scale = ((1 << 24) + m - 1) // m
    acc = np.empty(n, np.uint32)
    for x in range(w):
        acc[:] = m // 2
        for j in range(m):
            row = rows[taps[j, x]]
            for k in range(n):
                acc[k] += row[k]
        dst = out[x]
        for k in range(n):
            dst[k] = (acc[k] * scale) >> 24


# -- merging near-duplicate colours ------------------------------------------------------
@njit(cache=True, nogil=True)
def merge_leaders(lab, by_l, pos, threshold):
    """Greedy star merge of OKLab colours ``lab`` ``(n, 3)`` float64, already in merge
    order (heaviest first): ``leader[j]`` is the first colour ``i`` (in that order) not
    yet merged with ``lab[j]`` closer than ``threshold`` to it; a leader leads itself.

    ``by_l`` lists the colours by lightness L and ``pos`` is its inverse, so a leader
    scans only the colours within ``threshold`` of its own L (a colour further in L is
    further in OKLab): near-linear instead of ``n`` times every colour. Distances are
    ``(d0*d0 + d1*d1) + d2*d2`` against ``threshold * threshold``, as in
    :func:`streamspec.analysis.colour.merge_leaders`, so the answers agree bit for bit."""
    n = lab.shape[0]
    limit = threshold * threshold
    leader = np.full(n, -1, np.intp)
    for i in range(n):
        if leader[i] >= 0:
            continue
        leader[i] = i
        li0, li1, li2 = lab[i, 0], lab[i, 1], lab[i, 2]
        p = pos[i]
        for q in range(p + 1, n):  # lighter colours, until L alone is too far
            j = by_l[q]
            d0 = lab[j, 0] - li0
            if d0 >= threshold:
                break
            if leader[j] >= 0:
                continue
            d1 = lab[j, 1] - li1
            d2 = lab[j, 2] - li2
            if d0 * d0 + d1 * d1 + d2 * d2 < limit:
                leader[j] = i
        for q in range(p - 1, -1, -1):  # darker colours
            j = by_l[q]
            d0 = lab[j, 0] - li0
            if -d0 >= threshold:
                break
            if leader[j] >= 0:
                continue
            d1 = lab[j, 1] - li1
            d2 = lab[j, 2] - li2
            if d0 * d0 + d1 * d1 + d2 * d2 < limit:
                leader[j] = i
    return leader
