"""Palettes as weighted colour sets: the distance between two, and palettes from text.

A palette is colours (OKLab, ``(k, 3)``) with shares (``(k,)``, summing to 1). The
distance between two palettes is the Earth Mover's distance (optimal transport, the
1-Wasserstein distance) with Euclidean OKLab distance as the ground cost: the least
"colour work" -- share moved times OKLab distance moved -- that turns one palette into
the other. It respects shares (a frame 90 % teal is far from one 10 % teal), degrades
gracefully (a slightly different shade costs a little, not everything), and is in the
units of OKLab, where ~0.02 is a just-noticeable step.

:func:`emd` solves the transport problem exactly: successive shortest paths with
Dijkstra on reduced costs (a min-cost flow on the complete bipartite graph, in real
numbers -- no quantization of shares), ``O((n+m)^3)`` at worst for palettes of up to
:data:`MAX_PALETTE` colours. Tests check it against SciPy's HiGHS linear-programming
solver and POT's network simplex (``ot.emd2``).

A *partial* query palette (shares summing to less than 1, e.g. "teal 25 %, orange 25 %")
leaves the rest as *any colour*: the missing share is a wildcard that matches every
colour at no cost, so the distance asks "is at least this much of this colour there?".

:func:`parse_palette` reads ``"#1b3a4b 40%, #e0a060 20%"``.
"""

from __future__ import annotations

import re

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.colour import oklab
from streamspec.analysis.colournames import parse_colour
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_PALETTE_TEXT, MAX_SEARCH_PALETTE

__all__ = [
    "MAX_PALETTE",
    "MAX_PALETTE_TEXT",
    "Palette",
    "emd",
    "parse_palette",
    "reduce_palette",
]

#: Most colours in one palette compared by emd (the limit lives in limits.py).
MAX_PALETTE = MAX_SEARCH_PALETTE

# Shares below this are empty (rounding of float32 shares, spent supplies).
_EPS = 1e-9


class Palette:
    """Colours in OKLab ``(k, 3)`` float64 and their shares ``(k,)``.

    ``shares`` sum to 1, or to less for a partial palette whose rest is any colour.
    """

    __slots__ = ("lab", "shares")

    def __init__(self, lab: ArrayLike, shares: ArrayLike) -> None:
        lab_a = np.ascontiguousarray(lab, dtype=np.float64).reshape(-1, 3)
        w = np.ascontiguousarray(shares, dtype=np.float64).reshape(-1)
        if len(lab_a) != len(w) or not 1 <= len(w) <= MAX_PALETTE:
            raise InputError(f"a palette has 1 to {MAX_PALETTE} colours, each with a share")
        if not (np.isfinite(lab_a).all() and np.isfinite(w).all()) or (w < 0).any():
            raise InputError("palette shares are finite and not negative")
        if w.sum() <= 0 or w.sum() > 1 + 1e-6:
            raise InputError(f"palette shares sum to more than 0 and at most 1, not {w.sum():g}")
        self.lab = lab_a
        self.shares = w

    @classmethod
    def from_srgb(cls, rgb: ArrayLike, shares: ArrayLike | None = None) -> Palette:
        """A palette of sRGB uint8 colours; shares default to equal, and are normalised to
        sum to 1 (use the constructor for a partial palette)."""
        rgb_a = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3)
        w = np.ones(len(rgb_a)) if shares is None else np.asarray(shares, dtype=np.float64)
        total = float(w.sum())
        if not np.isfinite(total) or total <= 0:
            raise InputError("palette shares must add up to more than 0")
        return cls(oklab(rgb_a), w / total)

    @property
    def partial(self) -> bool:
        """Whether part of the palette is any colour (shares sum to less than 1)."""
        return bool(self.shares.sum() < 1 - 1e-6)

    def __repr__(self) -> str:
        return f"Palette({len(self.shares)} colours, {self.shares.sum():.0%} given)"


@njit(cache=True, nogil=True)
def _transport(a, b, C):  # pragma: no cover - compiled
    """Exact optimal transport cost: masses ``a`` (n,) to ``b`` (m,) (equal totals) over
    costs ``C`` (n, m) >= 0, by successive shortest paths (Dijkstra with potentials)."""
    n = a.shape[0]
    m = b.shape[0]
    s = a.copy()
    t = b.copy()
    F = np.zeros((n, m))
    hu = np.zeros(n)
    hv = np.zeros(m)
    du = np.empty(n)
    dv = np.empty(m)
    pu = np.empty(n, dtype=np.int64)
    pv = np.empty(m, dtype=np.int64)
    doneu = np.empty(n, dtype=np.bool_)
    donev = np.empty(m, dtype=np.bool_)
    for _ in range(4 * (n + m) * (n + m) + 16):
        left = 0.0
        for i in range(n):
            left += s[i]
        if left <= 1e-12:
            break
        for i in range(n):
            du[i] = 0.0 if s[i] > 1e-15 else np.inf
            doneu[i] = False
            pu[i] = -1
        for j in range(m):
            dv[j] = np.inf
            donev[j] = False
            pv[j] = -1
        target = -1
        D = 0.0
        while True:
            # the closest unsettled node (dense Dijkstra: the graph is complete)
            best = np.inf
            bi = -1
            side = 0
            for i in range(n):
                if not doneu[i] and du[i] < best:
                    best = du[i]
                    bi = i
                    side = 0
            for j in range(m):
                if not donev[j] and dv[j] < best:
                    best = dv[j]
                    bi = j
                    side = 1
            if bi < 0:
                break
            if side == 0:
                doneu[bi] = True
                for j in range(m):
                    if not donev[j]:
                        r = C[bi, j] + hu[bi] - hv[j]
                        if r < 0.0:
                            r = 0.0
                        if best + r < dv[j]:
                            dv[j] = best + r
                            pv[j] = bi
            else:
                donev[bi] = True
                if t[bi] > 1e-15:
                    target = bi
                    D = best
                    break
                for i in range(n):
                    if not doneu[i] and F[i, bi] > 1e-15:
                        r = -C[i, bi] + hv[bi] - hu[i]
                        if r < 0.0:
                            r = 0.0
                        if best + r < du[i]:
                            du[i] = best + r
                            pu[i] = bi
        if target < 0:
            break
        # the bottleneck along the path back from the sink
        delta = t[target]
        j = target
        while True:
            i = pv[j]
            if pu[i] < 0:
                if s[i] < delta:
                    delta = s[i]
                break
            j = pu[i]
            if F[i, j] < delta:
                delta = F[i, j]
        j = target
        while True:
            i = pv[j]
            F[i, j] += delta
            if pu[i] < 0:
                s[i] -= delta
                break
            j = pu[i]
            F[i, j] -= delta
        t[target] -= delta
        for i in range(n):
            hu[i] += du[i] if du[i] < D else D
        for j in range(m):
            hv[j] += dv[j] if dv[j] < D else D
    cost = 0.0
    for i in range(n):
        for j in range(m):
            cost += F[i, j] * C[i, j]
    return cost


@njit(cache=True, nogil=True)
def _palette_emd(qa, qw, pa, pw, wildcard):  # pragma: no cover - compiled
    """EMD between query (qa (n,3), qw (n,)) and palette (pa (m,3), pw (m,)); entries with
    zero share are left out; ``wildcard`` > 0 adds a query colour of that share that costs
    nothing to move anywhere (the "any colour" rest of a partial query)."""
    n = 0
    for i in range(qa.shape[0]):
        if qw[i] > _EPS:
            n += 1
    m = 0
    for j in range(pa.shape[0]):
        if pw[j] > _EPS:
            m += 1
    if n == 0 or m == 0:
        return np.inf  # an empty palette (a blank strip) is like nothing
    extra = 1 if wildcard > _EPS else 0
    a = np.empty(n + extra)
    b = np.empty(m)
    C = np.zeros((n + extra, m))
    jj = 0
    btot = 0.0
    for j in range(pa.shape[0]):
        if pw[j] > _EPS:
            b[jj] = pw[j]
            btot += pw[j]
            jj += 1
    ii = 0
    atot = 0.0
    for i in range(qa.shape[0]):
        if qw[i] > _EPS:
            a[ii] = qw[i]
            atot += qw[i]
            jj = 0
            for j in range(pa.shape[0]):
                if pw[j] > _EPS:
                    d0 = qa[i, 0] - pa[j, 0]
                    d1 = qa[i, 1] - pa[j, 1]
                    d2 = qa[i, 2] - pa[j, 2]
                    C[ii, jj] = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
                    jj += 1
            ii += 1
    if extra:
        a[n] = wildcard
        atot += wildcard
    # equal totals (float32 shares, rounding): the palette side is scaled to the query's
    for j in range(m):
        b[j] *= atot / btot
    return _transport(a, b, C)


# The search kernels (streamspec.analysis.search) live here, beside _palette_emd, which they
# inline: Numba's on-disk cache notices changes only in a kernel's own file.
@njit(cache=True, nogil=True)
def _emd_rows(qa, qw, wild, lab, shares, rows, out):  # pragma: no cover - compiled
    """Exact EMD from the query to the palettes ``rows`` of the library, into ``out``."""
    for r in range(rows.shape[0]):
        i = rows[r]
        out[r] = _palette_emd(qa, qw, lab[i].astype(np.float64),
                              shares[i].astype(np.float64), wild)  # fmt: skip


@njit(cache=True, nogil=True)
def _nearest_bound(qa, qw, full, lab, shares, rows, out):  # pragma: no cover - compiled
    """Lower bound of the EMD for ``rows``: every query colour's share travels at least to
    the nearest palette colour; for a full query also every palette colour's share."""
    k = lab.shape[1]
    nq = qa.shape[0]
    for r in range(rows.shape[0]):
        i = rows[r]
        total = 0.0
        for j in range(k):
            total += shares[i, j]
        fwd = 0.0
        back = 0.0
        for a in range(nq):
            best = np.inf
            for j in range(k):
                if shares[i, j] > 1e-9:
                    d0 = qa[a, 0] - lab[i, j, 0]
                    d1 = qa[a, 1] - lab[i, j, 1]
                    d2 = qa[a, 2] - lab[i, j, 2]
                    d = d0 * d0 + d1 * d1 + d2 * d2
                    if d < best:
                        best = d
            fwd += qw[a] * np.sqrt(best)
        if full:
            for j in range(k):
                if shares[i, j] > 1e-9:
                    best = np.inf
                    for a in range(nq):
                        d0 = qa[a, 0] - lab[i, j, 0]
                        d1 = qa[a, 1] - lab[i, j, 1]
                        d2 = qa[a, 2] - lab[i, j, 2]
                        d = d0 * d0 + d1 * d1 + d2 * d2
                        if d < best:
                            best = d
                    back += shares[i, j] / total * np.sqrt(best)
        out[r] = fwd if fwd > back else back


def emd(p: Palette, q: Palette) -> float:
    """The Earth Mover's distance between two palettes, in OKLab units (exact).

    If one palette is partial (see :class:`Palette`), its missing share is any colour; if
    both are, the first one's rest is the wildcard and the second's shares are normalised.
    """
    if q.partial and not p.partial:
        p, q = q, p
    wild = max(0.0, 1.0 - float(p.shares.sum()))
    return float(_palette_emd(p.lab, p.shares, q.lab, q.shares / q.shares.sum(), wild))


def reduce_palette(lab: ArrayLike, shares: ArrayLike, k: int) -> tuple[NDArray, NDArray]:
    """At most ``k`` colours for a palette: the two closest colours (OKLab distance,
    weighted by the smaller share, Ward-like) merge -- share-weighted mean in OKLab --
    until ``k`` remain. Returns ``(lab (k, 3), shares (k,))``, padded with zero shares."""
    lab_a = np.array(lab, dtype=np.float64).reshape(-1, 3)
    w = np.array(shares, dtype=np.float64).reshape(-1)
    keep = w > 0
    lab_a, w = lab_a[keep], w[keep]
    while len(w) > k:
        d = np.sqrt(((lab_a[:, None] - lab_a[None]) ** 2).sum(-1))
        cost = d * np.minimum(w[:, None], w[None])
        np.fill_diagonal(cost, np.inf)
        i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
        total = w[i] + w[j]
        lab_a[i] = (lab_a[i] * w[i] + lab_a[j] * w[j]) / total
        w[i] = total
        lab_a = np.delete(lab_a, j, axis=0)
        w = np.delete(w, j)
    out_lab = np.zeros((k, 3))
    out_w = np.zeros(k)
    order = np.argsort(-w, kind="stable")
    out_lab[: len(w)] = lab_a[order]
    out_w[: len(w)] = w[order]
    return out_lab, out_w


def _split_items(text: str) -> list[str]:
    # commas outside parentheses: "rgb(1, 2, 3) 30%, teal" is two items
    items: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    return [i.strip() for i in items]


_SHARE = re.compile(r"^(.*?)\s+(\d+(?:\.\d*)?|\.\d+)\s*%$")


def parse_palette(text: str) -> Palette:
    """A query palette from text: comma-separated colours, each optionally followed by
    its share in percent: ``"#1b3a4b 40%, #e0a060 20%"``, ``"teal, orange"``,
    ``"rgb(20, 40, 60) 30%, dark red"``.

    Colours without a share split what the given shares leave equally; if every colour
    has a share and they add up to less than 100 %, the rest is *any colour* (a partial
    palette: "at least 40 % of this, 20 % of that"). A colour given twice counts with both
    shares. An unknown colour, a share out of range or shares over 100 % in total are one
    :class:`InputError` line naming the item.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("empty palette: give colours such as '#1b3a4b 40%, #e0a060 20%'")
    if len(text) > MAX_PALETTE_TEXT:
        raise InputError(f"palette text longer than {MAX_PALETTE_TEXT} characters")
    items = _split_items(text)
    if len(items) > MAX_PALETTE:
        raise InputError(f"a palette has at most {MAX_PALETTE} colours, got {len(items)}")
    colours, given = [], []
    for n, item in enumerate(items, 1):
        if not item:
            raise InputError(f"palette item {n} is empty in {text!r:.80}")
        share: float | None = None
        m = _SHARE.match(item)
        if m:
            item, share = m.group(1).strip(), float(m.group(2)) / 100
            if not 0 < share <= 1:
                raise InputError(f"palette share out of range (0 to 100 %) in {items[n - 1]!r}")
        elif "%" in item:
            raise InputError(f"palette item {n}: write a share as 'COLOUR 40%', not {item!r}")
        try:
            colours.append(parse_colour(item))
        except InputError as err:
            raise InputError(f"palette item {n}: {err}") from None
        given.append(share)
    total = sum(s for s in given if s is not None)
    if total > 1 + 1e-9:
        raise InputError(f"palette shares add up to {total:.0%}, more than 100 %")
    free = [i for i, s in enumerate(given) if s is None]
    shares = np.array([s or 0.0 for s in given])
    if free:
        if total >= 1 - 1e-9:
            raise InputError("palette shares already add up to 100 %; colours without one")
        shares[free] = (1 - total) / len(free)
    lab = oklab(np.array(colours, dtype=np.uint8))
    return Palette(lab, np.minimum(shares, 1.0))
