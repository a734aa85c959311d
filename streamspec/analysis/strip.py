"""Strips: one sampled frame's palette drawn as a column (NumPy only).

A *strip* is a ``(height, 3)`` uint8 column. In the default ``sorted`` mode each palette
colour gets a run of rows proportional to its pixel count (largest-remainder rounding,
so the runs always sum to ``height``), and the runs are ordered by one of:

``hls``    hue, then lightness, then saturation -- the classic film-palette
           ``sorted(colours, key=colorsys.rgb_to_hls)``;
``luma``   light to dark (Rec. 709 luma);
``step``   Alan Zucconi's step sort with 8 hue buckets (smooth alternating gradients);
``count``  the most frequent colour first;
``oklch``  perceptual: the near-greys first (OKLCh chroma below 0.03, about 1.5
           just-noticeable differences), light to dark; then the colours by OKLCh hue in
           24 buckets of 15 degrees (red first), light to dark within a bucket.

Other modes: ``average`` (the mean colour, a classic movie barcode), ``dominant`` (the
largest cluster) and ``slitscan`` (the frame's centre column, stretched to ``height``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.colour import linear_mean, oklab
from streamspec.core.options import MODES, ORDERS

__all__ = [
    "MODES",
    "ORDERS",
    "apportion",
    "hls_keys",
    "make_strip",
    "order_palette",
    "resize_column",
    "sorted_strips",
    "strip_from_palette",
]

Order = Literal["hls", "luma", "step", "count", "oklch"]
Mode = Literal["sorted", "average", "dominant", "slitscan"]
# --order oklch: chroma below this is "grey"; hue buckets of this many degrees.
OKLCH_GREY_CHROMA = 0.03
OKLCH_HUE_BUCKET = 15.0


def hls_keys(rgb: ArrayLike) -> NDArray[np.float64]:
    """``colorsys.rgb_to_hls`` of every row of a uint8 ``(k, 3)`` array, as ``(k, 3)``.

    The same float64 operations in the same order as :mod:`colorsys`, so sorting by these
    keys gives exactly the order of ``sorted(..., key=colorsys.rgb_to_hls)``.
    """
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    maxc = c.max(axis=1)
    minc = c.min(axis=1)
    sumc = maxc + minc
    rangec = maxc - minc
    light = sumc / 2.0
    grey = rangec == 0
    safe = np.where(grey, 1.0, rangec)
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(
            light <= 0.5, rangec / np.where(sumc == 0, 1.0, sumc), rangec / (2.0 - maxc - minc)
        )
    rc = (maxc - r) / safe
    gc = (maxc - g) / safe
    bc = (maxc - b) / safe
    hue = np.where(r == maxc, bc - gc, np.where(g == maxc, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = (hue / 6.0) % 1.0
    hue = np.where(grey, 0.0, hue)
    sat = np.where(grey, 0.0, sat)
    return np.stack([hue, light, sat], axis=1)


def _hsv(c: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Hue and value as ``colorsys.rgb_to_hsv`` computes them (c in 0..1)."""
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    maxc = c.max(axis=1)
    minc = c.min(axis=1)
    rangec = maxc - minc
    grey = rangec == 0
    safe = np.where(grey, 1.0, rangec)
    rc = (maxc - r) / safe
    gc = (maxc - g) / safe
    bc = (maxc - b) / safe
    hue = np.where(r == maxc, bc - gc, np.where(g == maxc, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.where(grey, 0.0, (hue / 6.0) % 1.0)
    return hue, maxc


def _step_keys(rgb: NDArray[np.uint8], repetitions: int = 8) -> NDArray[np.float64]:
    # Zucconi, "The incredibly challenging task of sorting colours" (2015), step sort.
    c = rgb.astype(np.float64) / 255.0
    lum = np.sqrt(0.241 * c[:, 0] + 0.691 * c[:, 1] + 0.068 * c[:, 2])
    h, v = _hsv(c)
    h2 = np.floor(h * repetitions)
    v2 = np.floor(v * repetitions)
    odd = h2 % 2 == 1
    v2 = np.where(odd, repetitions - v2, v2)
    lum = np.where(odd, repetitions - lum, lum)
    return np.stack([h2, lum, v2], axis=1)


def order_palette(palette: ArrayLike, counts: ArrayLike, order: str = "hls") -> NDArray[np.intp]:
    """Indices that put the palette in strip order, top row first."""
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    return np.lexsort(_order_keys(pal, np.asarray(counts), order))


def _order_keys(pal: NDArray[np.uint8], cnt: NDArray, order: str) -> list[NDArray]:
    """Sort keys for ``np.lexsort`` (last = primary) that put colours in strip order."""
    if order == "hls":
        keys = hls_keys(pal)
        return [keys[:, 2], keys[:, 1], keys[:, 0]]
    if order == "luma":
        return [-(pal.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722]))]
    if order == "step":
        keys = _step_keys(pal)
        return [keys[:, 2], keys[:, 1], keys[:, 0]]
    if order == "oklch":
        lab = oklab(pal)
        chroma = np.hypot(lab[:, 1], lab[:, 2])
        hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0
        chromatic = chroma >= OKLCH_GREY_CHROMA
        bucket = np.where(chromatic, np.floor(hue / OKLCH_HUE_BUCKET), 0.0)
        return [-lab[:, 0], bucket, chromatic.astype(np.int8)]
    if order == "count":
        # Commonest first; equal counts keep their hue order.
        hls_rank = np.empty(len(pal), np.int64)
        hls_rank[np.lexsort(_order_keys(pal, cnt, "hls"))] = np.arange(len(pal))
        return [hls_rank, -np.asarray(cnt, dtype=np.float64)]
    raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")


def sorted_strips(
    palettes: list[ArrayLike], counts: list[ArrayLike], height: int, order: str = "hls"
) -> NDArray[np.uint8]:
    """Many ``sorted``-mode strips at once, ``(n, height, 3)``: the same pixels as
    :func:`strip_from_palette` strip by strip, in a few whole-array operations (a
    4,000-strip redraw would otherwise spend its time in per-strip overheads)."""
    n = len(palettes)
    if n == 0:
        return np.zeros((0, height, 3), np.uint8)
    pal = np.concatenate([np.asarray(p, dtype=np.uint8).reshape(-1, 3) for p in palettes])
    cnt = np.concatenate([np.asarray(c, dtype=np.float64).reshape(-1) for c in counts])
    group = np.repeat(np.arange(n), [len(np.asarray(c).reshape(-1)) for c in counts])
    idx = np.lexsort([*_order_keys(pal, cnt, order), group])
    pal, cnt, group = pal[idx], cnt[idx], group[idx]
    # Largest remainder within each strip, as apportion() does for one.
    totals = np.bincount(group, weights=cnt, minlength=n)
    if np.any(totals <= 0):
        raise ValueError("counts must have a positive sum")
    quota = cnt * (height / totals)[group]
    rows = np.floor(quota).astype(np.int64)
    left = height - np.bincount(group, weights=rows, minlength=n).astype(np.int64)
    position = np.arange(len(cnt))
    by_frac = np.lexsort((position, -(quota - rows), group))
    starts = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n))[:-1]])
    rank = np.empty(len(cnt), np.int64)
    rank[by_frac] = position - starts[group[by_frac]]
    rows += rank < left[group]
    return np.repeat(pal, rows, axis=0).reshape(n, height, 3)


def apportion(counts: ArrayLike, total: int) -> NDArray[np.int64]:
    """Split ``total`` rows in proportion to ``counts`` (largest remainder, Hamilton).

    Every share is the floor or the ceiling of its exact quota and the shares sum to
    ``total``; ties for the leftover rows go to the earlier entry.
    """
    cnt = np.asarray(counts, dtype=np.float64)
    s = cnt.sum()
    if total < 0:
        raise ValueError("total must be >= 0")
    if s <= 0:
        raise ValueError("counts must have a positive sum")
    quota = cnt * (total / s)
    base = np.floor(quota).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        frac = quota - base
        base[np.argsort(-frac, kind="stable")[:left]] += 1
    return base


def strip_from_palette(
    palette: ArrayLike, counts: ArrayLike, height: int, order: str = "hls"
) -> NDArray[np.uint8]:
    """A strip: the palette's colours in ``order``, each as tall as its share."""
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    idx = order_palette(pal, counts, order)
    rows = apportion(np.asarray(counts)[idx], height)
    return np.repeat(pal[idx], rows, axis=0)


def resize_column(column: ArrayLike, height: int) -> NDArray[np.uint8]:
    """Nearest-neighbour resize of a ``(n, 3)`` column to ``height`` rows (PIL's rule)."""
    col = np.asarray(column, dtype=np.uint8).reshape(-1, 3)
    src = ((np.arange(height) + 0.5) * (len(col) / height)).astype(np.int64)
    return col[np.minimum(src, len(col) - 1)]


def make_strip(
    palette: ArrayLike,
    counts: ArrayLike,
    height: int,
    *,
    order: str = "hls",
    mode: str = "sorted",
    column: ArrayLike | None = None,
) -> NDArray[np.uint8]:
    """A ``(height, 3)`` strip of one sample in any mode (see the module docstring)."""
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    cnt = np.asarray(counts, dtype=np.float64)
    if mode == "sorted":
        return strip_from_palette(pal, cnt, height, order)
    if mode == "average":
        # Light adds linearly: the mean is taken in linear light (half black, half
        # white is sRGB 188, not 128).
        mean = linear_mean(pal, cnt)
        return np.broadcast_to(mean, (height, 3)).copy()
    if mode == "dominant":
        return np.broadcast_to(pal[int(np.argmax(cnt))], (height, 3)).copy()
    if mode == "slitscan":
        if column is None:
            raise ValueError("slitscan needs the frame's centre column")
        return resize_column(column, height)
    raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
