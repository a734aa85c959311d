"""How two versions of a film differ: the palette distance of their strips, and its
curve under the stacked spectra.

The palette distance of two strips (:func:`palette_distance`) is a sliced Wasserstein
distance between their colour distributions in OKLab -- see that function for the
formula. It does not depend on the order of the colours in a strip, is symmetric, zero
for identical strips, and reads in OKLab units: if every colour of a strip moves by the
same OKLab offset v, the distance is about |v| (0.02 is a just-noticeable difference).
:class:`PaletteDiff` is that distance over a film's time; the curve drawn from it is
placed by :func:`streamspec.outputs.compare.compare_spectra`, which re-exports these names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw

from streamspec.core.timefmt import clock
from streamspec.outputs.annotate import DIM, INK
from streamspec.outputs.corpus import oklab
from streamspec.outputs.spectrum import Spectrum, Strip

__all__ = [
    "DIRECTIONS",
    "PaletteDiff",
    "palette_distance",
    "strip_distances",
]

CURVE = (255, 190, 60)


def _fibonacci_hemisphere(n: int) -> NDArray[np.float64]:
    """``n`` unit vectors spread evenly over the upper hemisphere (a Fibonacci lattice):
    a direction and its opposite project alike, so half the sphere is enough."""
    i = np.arange(n) + 0.5
    z = 1.0 - i / n  # uniform in (0, 1): equal areas of the hemisphere
    r = np.sqrt(1.0 - z * z)
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


#: The 64 fixed projection directions in OKLab of :func:`palette_distance`.
DIRECTIONS = _fibonacci_hemisphere(64)
# For directions spread evenly over the sphere, the mean of |theta . v| is |v| / 2: the
# factor 2 makes a uniform shift by v read as |v|.
_SCALE = 2.0


def _sliced_w1(
    lab_a: NDArray[np.float64],
    w_a: NDArray[np.float64],
    lab_b: NDArray[np.float64],
    w_b: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Batched sliced W1: ``(P, Ka, 3)``, ``(P, Ka)``, ``(P, Kb, 3)``, ``(P, Kb)`` ->
    ``(P,)``. Weights sum to 1 per row (zero-weight padding is allowed)."""
    # Projections as (P, D, K), contiguous along K: sorting a strided axis is 5x slower.
    pts = np.ascontiguousarray(
        np.einsum("pkc,dc->pdk", np.concatenate([lab_a, lab_b], axis=1), DIRECTIONS)
    )
    signed = np.concatenate([w_a, -w_b], axis=1)  # (P, K)
    order = np.argsort(pts, axis=2)  # ties: zero gaps, so their order does not matter
    s = np.take_along_axis(pts, order, axis=2)
    cdf_gap = np.cumsum(np.take_along_axis(signed[:, None, :], order, axis=2), axis=2)
    # W1 in 1-D: the area between the two CDFs, piece by piece between sorted values.
    w1 = (np.abs(cdf_gap[..., :-1]) * np.diff(s, axis=2)).sum(axis=2)
    return _SCALE * w1.mean(axis=1)


def _weights(counts: ArrayLike) -> NDArray[np.float64]:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c / total if total > 0 else np.full(len(c), 1.0 / max(len(c), 1))


def palette_distance(
    palette_a: ArrayLike, counts_a: ArrayLike, palette_b: ArrayLike, counts_b: ArrayLike
) -> float:
    """Perceptual distance between two strips' palettes (uint8 ``(k, 3)`` colours and
    their pixel counts): a sliced Wasserstein (earth mover's) distance in OKLab.

    Each strip is a distribution: colour c_i (in OKLab) with weight w_i = its share of
    the strip. For each of the 64 fixed unit directions theta (:data:`DIRECTIONS`),
    both distributions are projected onto theta and the 1-D earth mover's distance is
    taken -- the area between the two cumulative distributions,
    ``W1_theta = integral |F_A(s) - F_B(s)| ds``. The distance is
    ``2 * mean_theta W1_theta`` (the 2 makes a uniform shift of every colour by v read
    as about |v|).

    Properties: 0 for identical strips; independent of the order of colours in a strip
    (and of how a colour is split into several entries); symmetric; it grows with a hue
    shift or a change in the colours' proportions (unlike a nearest-colour "chamfer"
    distance, which is blind to proportions).
    """
    pa, pb = np.asarray(palette_a, np.uint8), np.asarray(palette_b, np.uint8)
    wa, wb = _weights(counts_a), _weights(counts_b)
    if pa.shape == pb.shape and np.array_equal(pa, pb) and np.array_equal(wa, wb):
        return 0.0  # exactly, not up to rounding
    return float(_sliced_w1(oklab(pa)[None], wa[None], oklab(pb)[None], wb[None])[0])


def strip_distances(
    pairs: Sequence[tuple[Strip, Strip]], *, chunk: int = 256
) -> NDArray[np.float64]:
    """:func:`palette_distance` of many pairs of strips, computed in batches."""
    out = np.zeros(len(pairs))
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        ka = max(len(a.counts) for a, _ in part)
        kb = max(len(b.counts) for _, b in part)
        lab_a, w_a = np.zeros((len(part), ka, 3)), np.zeros((len(part), ka))
        lab_b, w_b = np.zeros((len(part), kb, 3)), np.zeros((len(part), kb))
        same = np.zeros(len(part), bool)
        for j, (a, b) in enumerate(part):
            lab_a[j, : len(a.counts)] = oklab(a.palette)
            w_a[j, : len(a.counts)] = _weights(a.counts)
            lab_b[j, : len(b.counts)] = oklab(b.palette)
            w_b[j, : len(b.counts)] = _weights(b.counts)
            same[j] = (
                a.palette.shape == b.palette.shape
                and np.array_equal(a.palette, b.palette)
                and np.array_equal(a.counts, b.counts)
            )
        d = _sliced_w1(lab_a, w_a, lab_b, w_b)
        out[lo : lo + len(part)] = np.where(same, 0.0, d)
    return out


@dataclass
class PaletteDiff:
    """The palette distance between two films over time, at each strip of the first.

    ``times`` are the first film's strip times (nominal, s), ``x`` their positions in
    the image, ``other_slots`` the second film's matching slots (-1: none) and
    ``distances`` the :func:`palette_distance` (NaN where the second film has no strip).
    """

    times: NDArray[np.float64]
    x: NDArray[np.float64]
    other_slots: NDArray[np.int64]
    distances: NDArray[np.float64]

    @property
    def mean(self) -> float:
        """Mean distance over the strips both films have (NaN if none)."""
        d = self.distances[~np.isnan(self.distances)]
        return float(d.mean()) if len(d) else float("nan")

    @property
    def max(self) -> float:
        """Largest distance (NaN if no strip pairs)."""
        d = self.distances[~np.isnan(self.distances)]
        return float(d.max()) if len(d) else float("nan")

    def peaks(self, n: int = 3) -> list[tuple[float, float]]:
        """Up to ``n`` ``(time, distance)`` of the largest differences, largest first,
        at least a twentieth of the film (and two strips) apart; zero distances are
        not differences."""
        ok = np.flatnonzero(~np.isnan(self.distances) & (self.distances > 0))
        if len(ok) == 0:
            return []
        t = self.times
        step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        sep = max((t[-1] - t[0]) / 20.0, 2.0 * step)
        chosen: list[int] = []
        for i in ok[np.argsort(-self.distances[ok], kind="stable")]:
            if all(abs(t[i] - t[j]) >= sep for j in chosen):
                chosen.append(int(i))
            if len(chosen) == n:
                break
        return [(float(t[i]), float(self.distances[i])) for i in chosen]


def _slot_at(spec: Spectrum, t: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """The slot whose span (:meth:`~streamspec.core.grid.SlotGrid.span`) holds each time."""
    grid = spec.grid
    return np.floor((t - grid.start) / grid.step + 1e-9).astype(np.int64)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> str:
    from streamspec.outputs.annotate import fit_text

    return fit_text(text, width, lambda t: draw.textlength(t, font=font))


def _clock(t: float) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` past an hour): strip times need tenths on short clips."""
    return clock(t, 1)


def _palette_diff(
    a: Spectrum, b: Spectrum, origins: Sequence[float], scales: Sequence[float]
) -> PaletteDiff:
    """Distances at each strip of ``a`` to ``b``'s strip at the same x (the same time,
    or the same fraction of the running time when normalized)."""
    strips = a.strips
    times = np.array([a.slot_time(s.index) for s in strips])
    x = (times - origins[0]) * scales[0]
    slots = _slot_at(b, origins[1] + x / scales[1])
    pairs, where = [], []
    for j, (s, k) in enumerate(zip(strips, slots, strict=True)):
        other = b.get(int(k))
        if other is not None:
            pairs.append((s, other))
            where.append(j)
        else:
            slots[j] = -1
    dist = np.full(len(strips), np.nan)
    if pairs:
        dist[where] = strip_distances(pairs)
    return PaletteDiff(times, x, slots, dist)


def _draw_diff(
    panel: Image.Image,
    diff: PaletteDiff,
    top: int,
    curve_h: int,
    fonts: tuple[Any, Any, int],
    pad: int,
    titles: Sequence[str],
) -> tuple[int, int, float]:
    """The distance curve; returns the rows of its top value and of 0, and that value."""
    font, small, sfs = fonts
    d = ImageDraw.Draw(panel)
    W = panel.width
    dmax = diff.max
    ymax = max(dmax * 1.15 if math.isfinite(dmax) else 0.0, 0.05)  # no magnified noise
    label = f"palette distance (OKLab): {titles[0]} vs {titles[1]}"
    d.text((pad, pad), _fit(d, label, font, W * 0.75), font=font, fill=INK)
    stats = (
        f"mean {diff.mean:.3f}, max {dmax:.3f}" if math.isfinite(dmax) else "no strips to compare"
    )
    sw = d.textlength(stats, font=small)
    d.text((W - sw - pad, pad), stats, font=small, fill=DIM)
    # Rows of the value ymax and of 0, with room above ymax for the peaks' labels.
    y0, y1 = top + sfs + 4, top + curve_h - 1
    d.line([(0, y1), (W, y1)], fill=DIM)
    d.line([(0, y0), (W, y0)], fill=(48, 48, 54))
    d.text((pad, y0 + 2), f"{ymax:.2f}", font=small, fill=DIM)

    def yv(v: float) -> float:
        return y1 - (y1 - y0) * v / ymax

    run: list[tuple[float, float]] = []
    for xv, v in zip(diff.x, diff.distances, strict=True):
        if math.isnan(v):
            if len(run) > 1:
                d.line(run, fill=CURVE, width=2)
            run = []
            continue
        run.append((float(xv), yv(float(v))))
        d.point(run[-1], fill=CURVE)
    if len(run) > 1:
        d.line(run, fill=CURVE, width=2)
    elif len(run) == 1:
        d.point(run[0], fill=CURVE)
    for t, v in diff.peaks(3):  # mark the largest differences
        xi = float(diff.x[np.argmin(np.abs(diff.times - t))])
        lab = _clock(t)
        tw = d.textlength(lab, font=small)
        ly = max(top, yv(v) - sfs - 4)
        d.text((min(max(xi - tw / 2, 0), W - tw), ly), lab, font=small, fill=INK)
    return y0, y1, ymax
