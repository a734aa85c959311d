"""Search by palette: the strips (or shots, segments) nearest a query palette.

The library is a matrix of N palettes, padded to k colours: ``lab (N, k, 3)`` OKLab and
``shares (N, k)`` (zero share = no colour). :func:`brute_force` computes the exact EMD
(:func:`streamspec.analysis.palettes.emd`) to every palette -- the reference. A
:class:`PaletteIndex` answers the same question with the same answer (exact top hits,
not an approximation) by pruning with lower bounds of the EMD that cost a fraction of it:

* the distance between the palettes' mean colours (the centroid bound: moving all the
  mass costs at least moving its centre of mass), for full query palettes;
* each query colour's share times its distance to the nearest palette colour (every bit
  of the query's mass has to go somewhere), which also holds for partial queries, and its
  mirror image for full ones.

The first is one vectorised pass over the index's ``(N, 3)`` means; the second a Numba
pass over the candidates left; the exact EMD runs only on palettes whose bound is below
the current k-th best distance, in order of the bound, so the answer equals the
brute-force scan's. The index is a ``.npz`` file with a format version and a fingerprint
of the palettes it was built from; :meth:`PaletteIndex.open` rebuilds it when they differ.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.palettes import MAX_PALETTE, Palette, _emd_rows, _nearest_bound
from streamspec.core._io import atomic_write
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_HITS

__all__ = ["INDEX_VERSION", "MAX_HITS", "PaletteIndex", "brute_force", "palette_fingerprint"]

#: Format version of index files; another version is rebuilt.
INDEX_VERSION = 1
# Palettes per exact-EMD batch in a search (bounds re-checked between batches).
_BATCH = 2048


def _threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _check_library(lab: ArrayLike, shares: ArrayLike) -> tuple[NDArray, NDArray]:
    lab_a = np.ascontiguousarray(lab, dtype=np.float32)
    w = np.ascontiguousarray(shares, dtype=np.float32)
    if lab_a.ndim != 3 or lab_a.shape[2] != 3 or w.shape != lab_a.shape[:2]:
        raise InputError("palettes are (N, k, 3) OKLab colours with (N, k) shares")
    if not 1 <= lab_a.shape[1] <= MAX_PALETTE:
        raise InputError(f"library palettes have 1 to {MAX_PALETTE} colours")
    return lab_a, w


def _parallel(
    kernel: Any, query: Palette, lab: NDArray, shares: NDArray, rows: NDArray, *extra: Any
) -> NDArray[np.float64]:
    out = np.empty(len(rows))
    n = _threads()
    if len(rows) < 4096 or n == 1:
        kernel(query.lab, query.shares, *extra, lab, shares, rows, out)
        return out
    bounds = np.linspace(0, len(rows), n + 1).astype(np.int64)
    with ThreadPoolExecutor(n) as pool:
        parts = [slice(bounds[t], bounds[t + 1]) for t in range(n)]
        args = [(query.lab, query.shares, *extra, lab, shares, rows[p], out[p]) for p in parts]
        for f in [pool.submit(kernel, *a) for a in args]:
            f.result()
    return out


def _wildcard(query: Palette) -> float:
    return max(0.0, 1.0 - float(query.shares.sum()))


def _top(dist: NDArray, rows: NDArray, hits: int) -> tuple[NDArray[np.int64], NDArray]:
    order = np.lexsort((rows, dist))[:hits]  # ties: lower row first, as brute_force
    return rows[order].astype(np.int64), dist[order]


def _check_hits(hits: int) -> int:
    if isinstance(hits, bool) or not isinstance(hits, (int, np.integer)):
        raise InputError(f"hits is a whole number, got {hits!r}")
    if not 1 <= hits <= MAX_HITS:
        raise InputError(f"hits is from 1 to {MAX_HITS}, got {hits}")
    return int(hits)


def brute_force(
    query: Palette, lab: ArrayLike, shares: ArrayLike, hits: int = 10
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``hits`` palettes nearest the query by exact EMD over the whole library:
    ``(rows, distances)``, nearest first (ties: lower row first)."""
    lab_a, w = _check_library(lab, shares)
    hits = _check_hits(hits)
    rows = np.arange(len(lab_a), dtype=np.int64)
    dist = _parallel(_emd_rows, query, lab_a, w, rows, _wildcard(query))
    return _top(dist, rows, hits)


def palette_fingerprint(lab: NDArray, shares: NDArray) -> str:
    """A fingerprint of a palette library (its shape and every value)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((lab.shape, str(lab.dtype), shares.shape, str(shares.dtype))).encode())
    h.update(np.ascontiguousarray(lab).tobytes())
    h.update(np.ascontiguousarray(shares).tobytes())
    return h.hexdigest()


class PaletteIndex:
    """Lower-bound features of a palette library, for exact nearest-palette search.

    Build with :meth:`build` (or :meth:`open`, which loads a file and rebuilds it when
    stale); search with :meth:`search`, passing the same library arrays.
    """

    def __init__(self, means: NDArray[np.float32], fingerprint: str) -> None:
        self.means = means
        self.fingerprint = fingerprint

    @classmethod
    def build(
        cls, lab: ArrayLike, shares: ArrayLike, fingerprint: str | None = None
    ) -> PaletteIndex:
        """Index a library; ``fingerprint`` names what it was built from (default: a hash
        of the arrays; a corpus can pass its own, cheaper one)."""
        lab_a, w = _check_library(lab, shares)
        total = w.sum(axis=1, keepdims=True)
        means = np.einsum("nk,nkc->nc", w / np.where(total > 0, total, 1), lab_a)
        return cls(np.ascontiguousarray(means, dtype=np.float32),
                   fingerprint or palette_fingerprint(lab_a, w))  # fmt: skip

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index as one ``.npz`` file (atomically: a reader sees old or new)."""

        def write(f: IO[bytes]) -> None:
            np.savez(f, version=np.int64(INDEX_VERSION), fingerprint=np.str_(self.fingerprint),
                     means=self.means)  # fmt: skip

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PaletteIndex:
        """Read an index file; one :class:`InputError` line if it is not one, or of another
        version."""
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["version"])
                if version != INDEX_VERSION:
                    raise InputError(f"{path}: palette index version {version}, "
                                     f"this streamspec reads {INDEX_VERSION}")  # fmt: skip
                means = np.ascontiguousarray(z["means"], dtype=np.float32)
                fingerprint = str(z["fingerprint"])
        except InputError:
            raise
        except (OSError, ValueError, KeyError, EOFError) as err:
            raise InputError(f"{path}: not a palette index ({err})") from None
        if means.ndim != 2 or means.shape[1] != 3:
            raise InputError(f"{path}: not a palette index (means of shape {means.shape})")
        return cls(means, fingerprint)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        lab: ArrayLike,
        shares: ArrayLike,
        fingerprint: str | None = None,
    ) -> tuple[PaletteIndex, bool]:
        """The index at ``path`` for this library, rebuilt and saved when missing, of another
        version, unreadable or built from something else. Returns ``(index, rebuilt)``."""
        lab_a, w = _check_library(lab, shares)
        fp = fingerprint or palette_fingerprint(lab_a, w)
        try:
            index = cls.load(path)
            if index.fingerprint == fp and len(index.means) == len(lab_a):
                return index, False
        except InputError:
            pass
        index = cls.build(lab_a, w, fp)
        index.save(path)
        return index, True

    def search(
        self, query: Palette, lab: ArrayLike, shares: ArrayLike, hits: int = 10
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ``hits`` nearest palettes, exactly as :func:`brute_force` finds them."""
        lab_a, w = _check_library(lab, shares)
        hits = _check_hits(hits)
        if len(lab_a) != len(self.means):
            raise InputError("the palette index was built for another library; rebuild it")
        wild = _wildcard(query)
        full = wild <= 0
        n = len(lab_a)
        if full:
            qmean = (query.shares / query.shares.sum()) @ query.lab
            diff = self.means - qmean.astype(np.float32)
            bound = np.sqrt(np.einsum("nc,nc->n", diff, diff, dtype=np.float32))
        else:
            bound = _parallel(_nearest_bound, query, lab_a, w,
                              np.arange(n, dtype=np.int64), False)  # fmt: skip
        # Candidates in order of the bound, a batch at a time, until the bound of the
        # next one reaches the current hits-th distance.
        first = min(n, max(_BATCH, 4 * hits))
        cand = np.argpartition(bound, first - 1)[:first] if first < n else np.arange(n)
        cand = cand[np.argsort(bound[cand], kind="stable")]
        rows_done = [cand]
        dist_done = [_parallel(_emd_rows, query, lab_a, w, cand.astype(np.int64), wild)]
        rows, dist = _top(np.concatenate(dist_done), np.concatenate(rows_done), hits)
        if first >= n:
            return rows, dist
        kth = dist[-1] if len(dist) >= hits else np.inf
        seen = np.zeros(n, dtype=bool)
        seen[cand] = True
        rest = np.flatnonzero(~seen & (bound <= kth))
        if full and len(rest):
            # the second bound on what the first left
            nb = _parallel(_nearest_bound, query, lab_a, w, rest.astype(np.int64), True)
            keep = nb <= kth
            rest, rb = rest[keep], np.maximum(bound[rest[keep]], nb[keep])
        else:
            rb = bound[rest]
        order = np.argsort(rb, kind="stable")
        rest, rb = rest[order], rb[order]
        for s in range(0, len(rest), _BATCH):
            if rb[s] > kth:
                break
            batch = rest[s : s + _BATCH]
            batch = batch[rb[s : s + _BATCH] <= kth]
            d = _parallel(_emd_rows, query, lab_a, w, batch.astype(np.int64), wild)
            rows, dist = _top(np.concatenate([dist, d]), np.concatenate([rows, batch]), hits)
            kth = dist[-1] if len(dist) >= hits else np.inf
        return rows, dist
