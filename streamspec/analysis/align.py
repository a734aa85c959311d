"""Align two versions of a film by their strips: dynamic time warping with gaps.

Two versions of one film (a restoration, a director's cut, a TV edit) sampled at the
same interval give two sequences of strips. :func:`align` finds the cheapest monotone
path through the grid of strip pairs, where each step either pairs strip ``i`` of the
first with strip ``j`` of the second (cost: the distance between their features), pairs
the next strip of one version with the strip of the other just paired -- the warp of
dynamic time warping, for a version played faster or slower, e.g. 25 fps PAL against 24
fps film (cost: the distance plus ``stretch``) -- or skips a strip of one version as a
gap (cost: ``gap`` per strip). A scene cut from the
second version becomes a *removed* run, one added an *inserted* run, and everything
around them pairs one to one -- so later differences are not shifted by the edit.

The path is kept within a band (Sakoe-Chiba) of ``band`` strips around the diagonal
from start to end (which follows a length difference), bounding time and memory to
``O(n * band)`` useful cells; the grid is at most :data:`MAX_CELLS` cells.

Features (:func:`strip_features`) are a strip's share-weighted mean OKLab colour and its
spread (share-weighted standard deviation along L, a and b), compared by Euclidean
distance in OKLab units: two strips of the same frame in different encodes differ by
~0.005, different scenes by 0.05 and more, and the default gap cost (0.04 per strip)
sits between them. A stretch (0.01 by default) is cheaper than a gap, so a strip
repeated by a change of speed pairs twice rather than leaving a gap, but dearer than a
plain match, so same-speed versions pair one to one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_CELLS

__all__ = ["DEFAULT_GAP", "DEFAULT_STRETCH", "MAX_CELLS", "Alignment", "align", "strip_features"]

#: Cost of leaving one strip unpaired (OKLab units, as the feature distance).
DEFAULT_GAP = 0.04
#: Extra cost of pairing a strip with the strip of the other version just paired.
DEFAULT_STRETCH = 0.01

# traceback codes
_MATCH, _DEL, _INS, _STRETCH_A, _STRETCH_B = 1, 2, 3, 4, 5


def strip_features(lab: ArrayLike, shares: ArrayLike) -> NDArray[np.float64]:
    """Per strip ``(N, 6)``: share-weighted mean OKLab and standard deviation of L, a, b,
    from palettes ``lab (N, k, 3)`` and ``shares (N, k)``."""
    lab_a = np.asarray(lab, dtype=np.float64)
    w = np.asarray(shares, dtype=np.float64)
    if lab_a.ndim != 3 or lab_a.shape[2] != 3 or w.shape != lab_a.shape[:2]:
        raise InputError("strip palettes are (N, k, 3) OKLab colours with (N, k) shares")
    total = w.sum(axis=1, keepdims=True)
    w = w / np.where(total > 0, total, 1)
    mean = np.einsum("nk,nkc->nc", w, lab_a)
    var = np.einsum("nk,nkc->nc", w, (lab_a - mean[:, None]) ** 2)
    return np.ascontiguousarray(np.concatenate([mean, np.sqrt(var)], axis=1))


@dataclass(frozen=True)
class Alignment:
    """Result of :func:`align`.

    ``pairs`` is ``(P, 2)``: strip ``i`` of the first sequence paired with strip ``j`` of
    the second, in order (a strip pairs with several where one version is slower).
    ``removed`` lists runs ``(start, stop, at)`` of the first sequence's strips
    ``start:stop`` missing from the second (before its strip ``at``); ``inserted`` runs
    ``(start, stop, at)`` of the second's strips ``start:stop`` not in the first (before
    its strip ``at``). ``cost`` is the path's total cost.
    """

    pairs: NDArray[np.int64]
    removed: list[tuple[int, int, int]]
    inserted: list[tuple[int, int, int]]
    cost: float


@njit(cache=True, nogil=True)
def _dtw(A, B, gap, stretch, band, back):  # pragma: no cover - compiled
    """Fill the traceback grid ``back`` ((n+1, m+1) int8) and return the total cost."""
    n = A.shape[0]
    m = B.shape[0]
    f = A.shape[1]
    prev = np.full(m + 1, np.inf)
    cur = np.full(m + 1, np.inf)
    prev[0] = 0.0
    for j in range(1, m + 1):
        if j <= band:
            prev[j] = j * gap
            back[0, j] = 3
    for i in range(1, n + 1):
        centre = i * m / n if n > 0 else 0.0
        lo = int(np.floor(centre - band))
        hi = int(np.ceil(centre + band))
        if lo < 0:
            lo = 0
        if hi > m:
            hi = m
        for j in range(m + 1):
            cur[j] = np.inf
        for j in range(lo, hi + 1):
            if j == 0:
                cur[0] = i * gap
                back[i, 0] = 2
                continue
            best = prev[j] + gap  # strip i-1 of A removed
            code = 2
            c = cur[j - 1] + gap  # strip j-1 of B inserted
            if c < best:
                best = c
                code = 3
            s = 0.0
            for k in range(f):
                e = A[i - 1, k] - B[j - 1, k]
                s += e * e
            d = np.sqrt(s)
            c = prev[j] + d + stretch  # strip i-1 of A pairs B's j-1 again
            if c < best:
                best = c
                code = 4
            c = cur[j - 1] + d + stretch  # strip j-1 of B pairs A's i-1 again
            if c < best:
                best = c
                code = 5
            c = prev[j - 1] + d
            if c <= best:
                best = c
                code = 1
            cur[j] = best
            back[i, j] = code
        for j in range(m + 1):
            prev[j] = cur[j]
    return prev[m]


def _runs(idx: list[int], at: list[int]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for i, a in zip(idx, at, strict=True):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1, out[-1][2])
        else:
            out.append((i, i + 1, a))
    return out


def _trace(back: NDArray[np.int8], n: int, m: int, cost: float) -> Alignment:
    pairs: list[tuple[int, int]] = []
    rem: list[tuple[int, int]] = []
    ins: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        code = back[i, j]
        if code == _MATCH:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif code == _DEL:
            rem.append((i - 1, j))
            i -= 1
        elif code == _INS:
            ins.append((j - 1, i))
            j -= 1
        elif code == _STRETCH_A:
            pairs.append((i - 1, j - 1))
            i -= 1
        elif code == _STRETCH_B:
            pairs.append((i - 1, j - 1))
            j -= 1
        else:  # pragma: no cover - the band always holds a path
            raise AssertionError("alignment traceback left the band")
    pairs.reverse()
    rem.reverse()
    ins.reverse()
    return Alignment(
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        removed=_runs([r[0] for r in rem], [r[1] for r in rem]),
        inserted=_runs([r[0] for r in ins], [r[1] for r in ins]),
        cost=float(cost),
    )


def align(
    a: ArrayLike,
    b: ArrayLike,
    gap: float = DEFAULT_GAP,
    band: int | None = None,
    stretch: float = DEFAULT_STRETCH,
) -> Alignment:
    """Align feature sequences ``a (n, F)`` and ``b (m, F)`` (e.g. :func:`strip_features`).

    ``gap`` is the cost of one unpaired strip, ``stretch`` the extra cost of pairing a strip
    with one already paired (``inf``: strictly one to one); ``band`` the most strips the
    path may stray from the diagonal (default: the length difference plus a tenth of the
    longer sequence, at least 16 -- room for an edit of that size).
    """
    A = np.ascontiguousarray(a, dtype=np.float64)
    B = np.ascontiguousarray(b, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise InputError("aligned sequences are (n, F) and (m, F) features of equal width F")
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise InputError("strip features must be finite")
    if not (np.isfinite(gap) and gap > 0):
        raise InputError(f"the gap cost is a positive number, got {gap!r}")
    if not stretch >= 0:
        raise InputError(f"the stretch cost is a number from 0, got {stretch!r}")
    n, m = len(A), len(B)
    if (n + 1) * (m + 1) > MAX_CELLS:
        raise InputError(f"{n} x {m} strips is more than {MAX_CELLS:,} cells to align; "
                         "sample the versions less often")  # fmt: skip
    if band is None:
        band = abs(n - m) + max(16, max(n, m) // 10)
    if isinstance(band, bool) or not isinstance(band, (int, np.integer)) or band < 1:
        raise InputError(f"the band is a whole number of strips from 1, got {band!r}")
    band = int(max(band, abs(n - m) + 1))  # the end must be reachable
    back = np.zeros((n + 1, m + 1), dtype=np.int8)
    cost = _dtw(A, B, float(gap), float(stretch), band, back)
    return _trace(back, n, m, cost)
