"""What is exported: timeline items and palettes, as small frozen values.

A :class:`TimelineItem` is a span of the film (a shot, a chapter or a colour segment)
with a name and, for shots, the transition that opens it; a :class:`Palette` is a set of
sRGB colours with their shares. Both are checked when made, so every writer can trust
them. The builders here read a loaded :class:`~streamspec.outputs.spectrum.Spectrum` (its
chapters and segments are JSON-side lists of dicts) and shot lists as the spectrum JSON
keeps them (``start``, ``end`` in seconds, ``frame``, ``kind``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_ITEMS, MAX_PALETTE_COLOURS

if TYPE_CHECKING:
    from streamspec.outputs.spectrum import Spectrum, Strip

__all__ = [
    "ITEM_KINDS",
    "MAX_ITEMS",
    "MAX_PALETTE_COLOURS",
    "TRANSITIONS",
    "Palette",
    "TimelineItem",
    "by_time",
    "chapter_items",
    "film_duration",
    "film_fps",
    "item_palette",
    "segment_items",
    "shot_items",
    "spectrum_items",
    "strips_in",
]

ITEM_KINDS = ("shot", "chapter", "segment")
TRANSITIONS = ("cut", "dissolve", "fade")
#: Colours a pooled palette keeps by default (the rest share under 1-2 % each).
DEFAULT_TOP = 8

RGB = tuple[int, int, int]


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{what} must be a number of seconds, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{what} must be a finite number of seconds, got {value!r}")
    return v


def _rgb(value: Any, what: str) -> RGB:
    try:
        r, g, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be three whole numbers 0-255, got {value!r}") from None
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise InputError(f"{what} must be three whole numbers 0-255, got {value!r}")
    return (r, g, b)


def hex_colour(rgb: RGB) -> str:
    """``#rrggbb`` (lower case) of an sRGB triple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class TimelineItem:
    """A span of the film: ``start`` to ``end`` in seconds (``end`` after ``start``).

    ``kind`` is ``shot``, ``chapter`` or ``segment``; ``transition`` (shots only) is
    ``cut``, ``dissolve`` or ``fade``, the edit that opens the shot; ``frame`` (shots
    only) the index of its first frame; ``colour`` an optional sRGB triple (a
    segment's dominant colour, a shot's mean colour).
    """

    start: float
    end: float
    name: str
    kind: str
    transition: str | None = None
    colour: RGB | None = None
    frame: int | None = None

    def __post_init__(self) -> None:
        start = _finite(self.start, f"the start of {self.name!r}")
        end = _finite(self.end, f"the end of {self.name!r}")
        if start < 0:
            raise InputError(f"{self.name!r} starts before the film ({start} s)")
        if end <= start:
            raise InputError(f"{self.name!r} ends ({end} s) before it starts ({start} s)")
        if self.kind not in ITEM_KINDS:
            raise InputError(f"unknown item kind {self.kind!r}; known: {', '.join(ITEM_KINDS)}")
        if self.transition is not None and self.transition not in TRANSITIONS:
            raise InputError(
                f"unknown transition {self.transition!r} of {self.name!r}; "
                f"known: {', '.join(TRANSITIONS)}"
            )
        if self.transition is not None and self.kind != "shot":
            raise InputError(f"only shots have a transition ({self.name!r} is a {self.kind})")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "name", str(self.name))
        if self.colour is not None:
            object.__setattr__(self, "colour", _rgb(self.colour, f"the colour of {self.name!r}"))
        if self.frame is not None:
            if isinstance(self.frame, bool) or not isinstance(self.frame, (int, np.integer)):
                raise InputError(f"the frame of {self.name!r} must be a whole number")
            if self.frame < 0:
                raise InputError(f"the frame of {self.name!r} must not be negative")
            object.__setattr__(self, "frame", int(self.frame))

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class Palette:
    """Colours (sRGB 0-255 triples) and their shares (fractions summing to 1), largest
    first as given; ``name`` names the palette (a swatch group, a CSS prefix).

    ``coverage`` is the fraction of the pooled pixels that the listed colours stand for
    (1 when none were left out); the shares are of the listed colours among themselves.
    """

    colours: tuple[RGB, ...]
    shares: tuple[float, ...]
    name: str = ""
    coverage: float = 1.0

    def __post_init__(self) -> None:
        colours = tuple(
            _rgb(c, f"colour {i + 1} of palette {self.name!r}") for i, c in enumerate(self.colours)
        )
        if not colours:
            raise InputError(f"palette {self.name!r} has no colours")
        if len(colours) > MAX_PALETTE_COLOURS:
            raise InputError(
                f"palette {self.name!r} has {len(colours)} colours; "
                f"the limit is {MAX_PALETTE_COLOURS}"
            )
        try:
            shares = tuple(float(s) for s in self.shares)
        except (TypeError, ValueError):
            raise InputError(f"the shares of palette {self.name!r} must be numbers") from None
        if len(shares) != len(colours):
            raise InputError(
                f"palette {self.name!r} has {len(colours)} colours but {len(shares)} shares"
            )
        if not all(math.isfinite(s) and s >= 0 for s in shares):
            raise InputError(f"the shares of palette {self.name!r} must be 0 or more")
        if abs(sum(shares) - 1.0) > 1e-6:
            raise InputError(f"the shares of palette {self.name!r} sum to {sum(shares):.6g}, not 1")
        cov = float(self.coverage)
        if not (math.isfinite(cov) and 0.0 < cov <= 1.0 + 1e-9):
            raise InputError(f"the coverage of palette {self.name!r} must be above 0 and at most 1")
        object.__setattr__(self, "colours", colours)
        object.__setattr__(self, "shares", shares)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "coverage", min(cov, 1.0))

    @classmethod
    def from_weights(
        cls,
        colours: Sequence[Sequence[int]] | np.ndarray,
        weights: Sequence[float] | np.ndarray,
        name: str = "",
        *,
        top: int | None = None,
    ) -> Palette:
        """A palette from colours and any non-negative weights (pixel counts, shares of
        a larger whole): sorted by weight (stable), the ``top`` largest kept, shares
        normalised over the kept colours, ``coverage`` what they held of the whole."""
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        cols = np.asarray(colours).reshape(-1, 3)
        total = float(w.sum())
        if len(w) == 0 or total <= 0 or not math.isfinite(total):
            raise InputError(f"palette {name!r} has no colours with a positive weight")
        order = np.argsort(-w, kind="stable")
        keep = order[: top if top is not None else len(order)]
        keep = keep[w[keep] > 0]
        kept = float(w[keep].sum())
        shares = w[keep] / kept
        shares[-1] = 1.0 - float(shares[:-1].sum())  # sums to 1 exactly (to the float)
        return cls(
            tuple(tuple(int(v) for v in cols[i]) for i in keep),  # type: ignore[misc]
            tuple(float(s) for s in shares),
            name,
            coverage=kept / total,
        )

    @property
    def hex(self) -> tuple[str, ...]:
        """The colours as ``#rrggbb``."""
        return tuple(hex_colour(c) for c in self.colours)


# -- from a spectrum ------------------------------------------------------------------------
def film_duration(spectrum: Spectrum) -> float:
    """The film's running time: the source's duration when known, else the end of the
    last strip's slot (a webcam, a partial render)."""
    d = spectrum.source.get("duration")
    if isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d) and d > 0:
        return float(d)
    strips = spectrum.strips
    if not strips:
        raise InputError("the spectrum has no strips and its film no known duration")
    return float(spectrum.grid.span(strips[-1].index)[1])


def film_fps(spectrum: Spectrum, default: float = 25.0) -> float:
    """The film's frame rate (``default`` when the source did not say)."""
    fps = spectrum.source.get("fps")
    if (
        isinstance(fps, (int, float))
        and not isinstance(fps, bool)
        and math.isfinite(fps)
        and 0 < fps <= 1000
    ):
        return float(fps)
    return float(default)


def _spans(starts: Sequence[float], ends: Sequence[float | None], stop: float) -> list[tuple]:
    """(start, end) pairs: a missing end is the next start (the last: ``stop``)."""
    out = []
    for i, (a, e) in enumerate(zip(starts, ends, strict=True)):
        nxt = starts[i + 1] if i + 1 < len(starts) else stop
        out.append((a, e if e is not None else nxt))
    return out


def chapter_items(chapters: Sequence[Mapping[str, Any]], duration: float) -> list[TimelineItem]:
    """Chapters (``start``, ``title``, optional ``end``) as items; a chapter without an
    end runs to the next one (the last to ``duration``). Chapters starting at or after
    the end of the film, or empty ones, are left out."""
    rows = sorted(chapters, key=lambda c: float(c.get("start", 0.0)))
    starts = [_finite(c.get("start"), f"the start of chapter {i + 1}") for i, c in enumerate(rows)]
    ends = [
        None if c.get("end") is None else _finite(c.get("end"), f"the end of chapter {i + 1}")
        for i, c in enumerate(rows)
    ]
    out = []
    for i, (c, (a, b)) in enumerate(zip(rows, _spans(starts, ends, duration), strict=True)):
        a, b = max(a, 0.0), min(b, duration)
        if b > a:
            title = str(c.get("title") or f"Chapter {i + 1}")
            out.append(TimelineItem(a, b, title, "chapter"))
    return out


def segment_items(
    segments: Sequence[Mapping[str, Any]], duration: float | None = None
) -> list[TimelineItem]:
    """Colour segments (``start``, ``end``, ``colours``: ``[{"rgb", "share"}]``) as items
    named ``Segment N`` and coloured by their dominant colour."""
    out = []
    for i, s in enumerate(segments):
        a = max(_finite(s.get("start"), f"the start of segment {i + 1}"), 0.0)
        b = _finite(s.get("end"), f"the end of segment {i + 1}")
        if duration is not None:
            b = min(b, duration)
        colours = s.get("colours") or []
        colour = _rgb(colours[0]["rgb"], f"the colour of segment {i + 1}") if colours else None
        if b > a:
            out.append(TimelineItem(a, b, f"Segment {i + 1}", "segment", colour=colour))
    return out


def shot_items(
    shots: Iterable[Mapping[str, Any]], duration: float | None = None
) -> list[TimelineItem]:
    """Shots (``start``, ``end`` in seconds, ``frame``, ``kind`` = the transition that
    opens the shot: ``cut``, ``dissolve`` or ``fade``) as items named ``Shot N``.
    A damaged shot list is one :class:`InputError` naming the shot."""
    out: list[TimelineItem] = []
    for i, s in enumerate(shots):
        if len(out) >= MAX_ITEMS:
            raise InputError(f"more than {MAX_ITEMS:,} shots")
        if not isinstance(s, Mapping):
            raise InputError(f"shot {i + 1} is not a record with start and end")
        a = _finite(s.get("start"), f"the start of shot {i + 1}")
        b = _finite(s.get("end"), f"the end of shot {i + 1}")
        if duration is not None:
            b = min(b, duration)
        kind = s.get("kind", "cut")
        out.append(
            TimelineItem(a, b, f"Shot {i + 1}", "shot", transition=kind, frame=s.get("frame"))
        )
    return out


def spectrum_items(
    spectrum: Spectrum,
    shots: Sequence[Mapping[str, Any]] | None = None,
    kinds: Iterable[str] = ITEM_KINDS,
) -> list[TimelineItem]:
    """Every item of the ``kinds`` asked for: shots (``shots``, else the spectrum's own
    ``shots`` when it has them), chapters and colour segments, sorted by start."""
    kinds = set(kinds)
    if unknown := kinds - set(ITEM_KINDS):
        raise InputError(
            f"unknown item kind {sorted(unknown)[0]!r}; known: {', '.join(ITEM_KINDS)}"
        )
    duration = film_duration(spectrum)
    items: list[TimelineItem] = []
    if "shot" in kinds:
        own = getattr(spectrum, "shots", None)
        items += shot_items(shots if shots is not None else own or [], duration)
    if "chapter" in kinds:
        items += chapter_items(spectrum.chapters, duration)
    if "segment" in kinds:
        items += segment_items(spectrum.segments, duration)
    if len(items) > MAX_ITEMS:
        raise InputError(f"{len(items):,} items; the limit is {MAX_ITEMS:,}")
    order = {k: i for i, k in enumerate(ITEM_KINDS)}
    return sorted(items, key=lambda it: (it.start, order[it.kind]))


def by_time(spectrum: Spectrum) -> list[Strip]:
    """The spectrum's strips in order of their frames' times (for :func:`strips_in`)."""
    return sorted(spectrum.strips, key=lambda s: s.time)


def strips_in(strips: Spectrum | Sequence[Strip], start: float, end: float) -> list[Strip]:
    """The strips whose frame time lies in ``[start, end)``; when none does (an item
    shorter than the sample step), the strip nearest the item's middle. ``strips`` is a
    spectrum or its strips in time order (:func:`by_time`: a binary search, for tables of
    thousands of shots)."""
    ordered = by_time(strips) if not isinstance(strips, Sequence) else strips
    if not ordered:
        return []
    lo = bisect.bisect_left(ordered, start, key=lambda s: s.time)
    hi = bisect.bisect_left(ordered, end, key=lambda s: s.time)
    if hi > lo:
        return list(ordered[lo:hi])
    mid = (start + end) / 2
    near = [ordered[i] for i in (lo - 1, lo) if 0 <= i < len(ordered)]
    return [min(near, key=lambda s: abs(s.time - mid))]


def item_palette(
    spectrum: Spectrum | Sequence[Strip],
    start: float | None = None,
    end: float | None = None,
    *,
    name: str = "",
    top: int | None = DEFAULT_TOP,
) -> Palette:
    """The palette of the strips in ``[start, end)`` (every strip when both are None),
    pooled as colour segments' colours are (the same code: a 16-level grid, means in
    linear light, near-duplicates merged in OKLab by
    :func:`~streamspec.analysis.colour.merge_colours`), the ``top`` largest kept. ``spectrum``
    may be its strips in time order (:func:`by_time`)."""
    from streamspec.analysis.segments import _dominant  # one home for pooling a span's colours

    ordered = by_time(spectrum) if not isinstance(spectrum, Sequence) else spectrum
    if start is None and end is None:
        strips = list(ordered)
    else:
        strips = strips_in(ordered, start or 0.0, end if end is not None else math.inf)
    if not strips:
        raise InputError(f"no strips to take the palette of {name or 'the film'!r} from")
    pooled = _dominant(strips, top=MAX_PALETTE_COLOURS * 64)
    colours = [c["rgb"] for c in pooled]
    shares = [c["share"] for c in pooled]
    return Palette.from_weights(colours, shares, name, top=top)
