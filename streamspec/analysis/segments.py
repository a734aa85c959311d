"""Automatic colour chapters: where does the film's palette change?

Each strip becomes a colour histogram (its palette, weighted by pixel counts, spread
softly over a 4x4x4 RGB grid, so near colours land in near bins). At every strip, the
mean histogram of the next few strips is compared with that of the previous few (an L1,
earth-mover-like distance): a change of palette is a sharp peak of that "novelty",
while slow drifts and moving objects give low, wide values. Peaks that stand out from
the film's own variation (a robust median + MAD threshold), at least one minimum
segment length apart, are the boundaries -- so the same settings work for a calm drama
and a restless music video.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.colour import linear_to_srgb, merge_colours, srgb_to_linear
from streamspec.core.container import SpectrumData as Spectrum
from streamspec.core.container import Strip
from streamspec.core.grid import SlotGrid

__all__ = [
    "Segment",
    "SegmentColour",
    "colour_features",
    "colour_segments",
    "find_segments",
    "novelty",
    "segment_spectrum",
]

BINS = 4


@dataclass(frozen=True)
class SegmentColour:
    """One of a segment's dominant colours and its share of the segment."""

    rgb: tuple[int, int, int]
    share: float


@dataclass(frozen=True)
class Segment:
    """A colour segment: a run of strips whose palette holds, and its dominant colours.

    The typed form of a segment; the spectrum JSON keeps the dict form
    (:meth:`to_dict` / :meth:`from_dict`, unchanged on disk). ``end``, ``first_strip``
    and ``last_strip`` may be absent (None) in files written by older versions.
    """

    start: float
    end: float | None
    first_strip: int | None = None
    last_strip: int | None = None
    colours: tuple[SegmentColour, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``start``, ``end``, ``first_strip``, ``last_strip``, ``colours``
        (``[{"rgb": [r, g, b], "share": s}, ...]``); absent strips are left out."""
        d: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.first_strip is not None:
            d["first_strip"] = self.first_strip
        if self.last_strip is not None:
            d["last_strip"] = self.last_strip
        d["colours"] = [{"rgb": list(c.rgb), "share": c.share} for c in self.colours]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Segment:
        """A segment from its JSON form (as checked by the spectrum reader)."""

        def opt_int(v: Any) -> int | None:
            return None if v is None else int(v)

        end = d.get("end")
        return cls(
            start=float(d["start"]),
            end=None if end is None else float(end),
            first_strip=opt_int(d.get("first_strip")),
            last_strip=opt_int(d.get("last_strip")),
            colours=tuple(
                SegmentColour(
                    (int(c["rgb"][0]), int(c["rgb"][1]), int(c["rgb"][2])), float(c["share"])
                )
                for c in d.get("colours") or []
            ),
        )


def colour_features(strips: Sequence[Strip]) -> NDArray[np.float64]:
    """``(n, 64)`` soft RGB histograms of the strips (each row sums to 1)."""
    n = len(strips)
    if n == 0:
        return np.zeros((0, BINS**3))
    sizes = [len(s.counts) for s in strips]
    group = np.repeat(np.arange(n), sizes)
    counts = np.concatenate([s.counts for s in strips]).astype(np.float64)
    share = counts / np.maximum(np.bincount(group, weights=counts, minlength=n), 1.0)[group]
    pos = np.concatenate([s.palette for s in strips]).astype(np.float64) / 255.0 * (BINS - 1)
    lo = np.clip(np.floor(pos), 0, BINS - 2).astype(np.int64)
    frac = pos - lo
    out = np.zeros(n * BINS**3)
    # Trilinear weights over the 8 neighbouring bin centres.
    for corner in range(8):
        off = np.array([(corner >> 2) & 1, (corner >> 1) & 1, corner & 1])
        w = np.prod(np.where(off == 1, frac, 1.0 - frac), axis=1) * share
        b = ((lo[:, 0] + off[0]) * BINS + lo[:, 1] + off[1]) * BINS + lo[:, 2] + off[2]
        out += np.bincount(group * BINS**3 + b, weights=w, minlength=n * BINS**3)
    return out.reshape(n, BINS**3)


def novelty(features: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """How different the ``window`` strips after each position are from those before it:
    the L1 distance between their mean histograms (0..2; NaN where a window would not
    fit). Slow drift gives small values, a change of palette a peak at the change."""
    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    out = np.full(n, np.nan)
    if n < 2 * window:
        return out
    S = np.vstack([np.zeros(x.shape[1]), np.cumsum(x, axis=0)])
    i = np.arange(window, n - window + 1)
    left = (S[i] - S[i - window]) / window
    right = (S[i + window] - S[i]) / window
    out[i] = np.abs(left - right).sum(axis=1)
    return out


def find_segments(
    features: NDArray[np.float64],
    *,
    min_length: int = 3,
    threshold: float | None = None,
    sensitivity: float = 1.0,
) -> list[int]:
    """Start indices of the segments of ``features`` (the first is always 0).

    A boundary is a peak of :func:`novelty` (window ``min_length``) that stands out from
    the film's own variation -- above the smaller of ``median + 8 MAD`` of the novelty
    and ten times the median strip-to-strip change over sqrt(window), and at least 0.25
    (a quarter of the colour mass moved), all divided by ``sensitivity`` -- and is
    ``min_length`` strips from any stronger one, so no segment is shorter.
    """
    x = np.asarray(features, dtype=np.float64)
    w = max(1, int(min_length))
    d = novelty(x, w)
    valid = np.flatnonzero(~np.isnan(d))
    if len(valid) == 0:
        return [0]
    if threshold is None:
        # The film's own variation, two ways: the spread of the novelty itself (robust
        # while boundaries are sparse), and the typical strip-to-strip change, scaled to
        # a mean over the window (robust when they are dense: every position is then
        # near one and the novelty's own median is high).
        med = float(np.median(d[valid]))
        mad = 1.4826 * float(np.median(np.abs(d[valid] - med)))
        step = float(np.median(np.abs(np.diff(x, axis=0)).sum(axis=1)))
        dense = 10.0 * step / np.sqrt(w)
        threshold = max(min(med + 8.0 * mad, dense), 0.25) / max(sensitivity, 1e-6)
    starts: list[int] = []
    for i in valid[np.argsort(-d[valid], kind="stable")]:
        if d[i] < threshold:
            break
        if all(abs(int(i) - s) >= w for s in starts):
            starts.append(int(i))
    return [0, *sorted(starts)]


def _dominant_colours(strips: Sequence[Strip], top: int = 5) -> tuple[SegmentColour, ...]:
    """:func:`_dominant` as typed records."""
    return tuple(
        SegmentColour((int(c["rgb"][0]), int(c["rgb"][1]), int(c["rgb"][2])), c["share"])
        for c in _dominant(strips, top)
    )


def _dominant(strips: Sequence[Strip], top: int = 5) -> list[dict[str, Any]]:
    """The segment's commonest colours (merged over its strips) and their shares.

    Colours are first pooled on a 16-level RGB grid (bounding the work on long segments;
    a cell's colour is its members' linear-light mean), then near-duplicates merged in
    OKLab (:func:`~streamspec.analysis.colour.merge_colours`, the one colour merge)."""
    pal = np.concatenate([s.palette for s in strips]).astype(np.int64)
    cnt = np.concatenate([s.counts for s in strips]).astype(np.float64)
    key = (pal[:, 0] // 16) * 256 + (pal[:, 1] // 16) * 16 + pal[:, 2] // 16
    uniq, inv = np.unique(key, return_inverse=True)
    weight = np.bincount(inv, weights=cnt, minlength=len(uniq))
    lin = srgb_to_linear(pal.astype(np.uint8))
    mean = (
        np.stack(
            [np.bincount(inv, weights=cnt * lin[:, c], minlength=len(uniq)) for c in range(3)],
            axis=1,
        )
        / np.maximum(weight, 1e-300)[:, None]
    )
    colours, shares = merge_colours(linear_to_srgb(mean), weight)
    return [
        {"rgb": [int(v) for v in colours[i]], "share": round(float(shares[i]), 4)}
        for i in range(min(top, len(shares)))
    ]


def colour_segments(
    strips: Sequence[Strip],
    grid: SlotGrid,
    *,
    min_seconds: float | None = None,
    sensitivity: float = 1.0,
) -> list[Segment]:
    """The colour segments of ``strips`` (in slot order) on their slot ``grid``, with
    their times and dominant colours. A function of its arguments: nothing is stored.

    ``min_seconds`` is the shortest segment (default: 2 % of the film, at least 3
    strips)."""
    if not strips:
        return []
    span = strips[-1].time - strips[0].time
    min_seconds = max(span * 0.02, 0.0) if min_seconds is None else min_seconds
    min_len = max(3, round(min_seconds / grid.step))
    starts = find_segments(colour_features(strips), min_length=min_len, sensitivity=sensitivity)
    bounds = [*starts, len(strips)]
    out = []
    for a, b in itertools.pairwise(bounds):
        first, end_strip = strips[a], strips[b - 1]
        start_t = grid.span(first.index if a else 0)[0]
        end_t = grid.span(end_strip.index)[1]
        out.append(
            Segment(
                start=round(max(start_t, 0.0), 3),
                end=round(end_t, 3),
                first_strip=first.index,
                last_strip=end_strip.index,
                colours=_dominant_colours(strips[a:b]),
            )
        )
    return out


def segment_spectrum(
    spectrum: Spectrum, *, min_seconds: float | None = None, sensitivity: float = 1.0
) -> list[dict[str, Any]]:
    """Segments of a spectrum's strips in their JSON form, stored in
    ``spectrum.segments`` too (the convenience of earlier versions; the segmentation
    itself is :func:`colour_segments`, which stores nothing)."""
    found = colour_segments(
        spectrum.strips, spectrum.grid, min_seconds=min_seconds, sensitivity=sensitivity
    )
    spectrum.segments = [s.to_dict() for s in found]
    return spectrum.segments
