"""Timelines editors open: OpenTimelineIO, CMX 3600 EDL and CSV.

Every writer takes a :class:`FilmTimeline` (the film's title, running time, frame rate,
media and its items) and returns the file's bytes; :func:`streamspec.outputs.export.export`
writes them atomically. Times are rounded to the nearest frame of the film's rate, the
unit editors cut in.

- ``.otio``: a track ``Film`` holding one clip as long as the film, whose markers are
  the chapters and colour segments (each marker as long as its span, in the nearest of
  OTIO's marker colours, the exact colour in the marker's metadata); and, when there
  are shots, a track ``Shots`` with one clip per shot (gaps where no shot is), coloured
  by the shot's colour when known, its transition and first frame in the metadata.
- ``.edl``: CMX 3600 as OpenTimelineIO's ``cmx_3600`` adapter writes it: one event per
  shot (or one event for the whole film when there are no shots), chapters and segments
  as ``* LOC:`` markers on the event they start in. EDL names are upper case.
- ``.csv``: one row per item; every time column carries its unit in its name
  (``start_s``, ``start_frame``, ``start_tc``).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamspec._version import __version__
from streamspec.analysis.colour import oklab
from streamspec.core.errors import InputError
from streamspec.outputs.export.items import MAX_ITEMS, TimelineItem, hex_colour

__all__ = [
    "CSV_COLUMNS",
    "MARKER_COLOURS",
    "FilmTimeline",
    "marker_colour",
    "timecode",
    "timeline_csv",
    "timeline_edl",
    "timeline_otio",
    "to_otio",
]

#: OpenTimelineIO's marker colours (``otio.schema.MarkerColor``) as sRGB, for choosing the
#: nearest one in OKLab; the exact colour goes in the marker's metadata.
MARKER_COLOURS: dict[str, tuple[int, int, int]] = {
    "RED": (255, 0, 0),
    "PINK": (255, 192, 203),
    "ORANGE": (255, 165, 0),
    "YELLOW": (255, 255, 0),
    "GREEN": (0, 160, 0),
    "CYAN": (0, 255, 255),
    "BLUE": (0, 0, 255),
    "PURPLE": (128, 0, 128),
    "MAGENTA": (255, 0, 255),
    "BLACK": (0, 0, 0),
    "WHITE": (255, 255, 255),
}
# Markers of items without a colour: chapters are blue, segments green, shots red.
_DEFAULT_MARKER = {"chapter": "BLUE", "segment": "GREEN", "shot": "RED"}
# Chromatic markers by their OKLCh hue angle; below this chroma a colour is a grey.
_GREY_CHROMA = 0.03
_HUE_NAMES = ["RED", "ORANGE", "YELLOW", "GREEN", "CYAN", "BLUE", "PURPLE", "MAGENTA"]
_HUE_LAB = oklab(np.array([MARKER_COLOURS[n] for n in _HUE_NAMES], np.uint8))
_HUE_ANGLES = np.arctan2(_HUE_LAB[:, 2], _HUE_LAB[:, 1])

#: The CSV's columns: name -> (unit, meaning). The same text is in the docs.
CSV_COLUMNS: dict[str, tuple[str, str]] = {
    "kind": ("", "shot, chapter or segment"),
    "index": ("1-based", "the item's number among items of its kind"),
    "name": ("", "Shot N, the chapter's title, Segment N"),
    "start_s": ("s", "start, from the film's start"),
    "end_s": ("s", "end (exclusive)"),
    "duration_s": ("s", "end - start"),
    "start_frame": ("frame", "start rounded to the nearest frame"),
    "end_frame": ("frame", "end rounded to the nearest frame (exclusive)"),
    "start_tc": ("HH:MM:SS:FF", "start as non-drop timecode at the nominal rate"),
    "end_tc": ("HH:MM:SS:FF", "end as non-drop timecode"),
    "transition": ("", "shots: cut, dissolve or fade (the edit that opens the shot)"),
    "colour": ("#rrggbb", "sRGB: a segment's dominant colour, a shot's mean colour"),
    "fps": ("frames/s", "the frame rate the frames and timecodes count in"),
}


@dataclass(frozen=True)
class FilmTimeline:
    """A film and the items to put on an editor's timeline.

    ``duration`` in seconds (items are clipped to it), ``fps`` the frame rate times
    are rounded to, ``media`` the film's path or URL (the clips' media reference).
    """

    title: str
    duration: float
    fps: float
    items: tuple[TimelineItem, ...] = field(default_factory=tuple)
    media: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.duration, (int, float)) and math.isfinite(self.duration)):
            raise InputError(
                f"the film's duration must be a number of seconds, got {self.duration!r}"
            )
        if self.duration <= 0:
            raise InputError("the film has no duration; there is nothing to put on a timeline")
        if not (
            isinstance(self.fps, (int, float)) and math.isfinite(self.fps) and 0 < self.fps <= 1000
        ):
            raise InputError(f"the frame rate must be above 0 and at most 1000, got {self.fps!r}")
        items = tuple(self.items)
        if len(items) > MAX_ITEMS:
            raise InputError(f"{len(items):,} items; the limit is {MAX_ITEMS:,}")
        if not all(isinstance(it, TimelineItem) for it in items):
            raise InputError("a timeline's items must be TimelineItem values")
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "duration", float(self.duration))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "title", str(self.title) or "film")

    def frame(self, seconds: float) -> int:
        """``seconds`` as the nearest frame number (halves round up, as editors count)."""
        return math.floor(seconds * self.fps + 0.5)

    @property
    def frames(self) -> int:
        """The film's length in frames (at least 1)."""
        return max(1, self.frame(self.duration))

    def span(self, item: TimelineItem) -> tuple[int, int]:
        """An item's first frame and its end frame (exclusive), at least one frame long,
        within the film."""
        a = min(self.frame(item.start), self.frames - 1)
        b = min(max(self.frame(item.end), a + 1), self.frames)
        return a, b

    def of_kind(self, kind: str) -> list[TimelineItem]:
        return [it for it in self.items if it.kind == kind]


def marker_colour(item: TimelineItem) -> str:
    """The OTIO marker colour for an item: for a colourful item the marker colour of the
    nearest OKLCh hue (pink for light reds), for a near-grey one black or white by its
    lightness; without a colour, the kind's own (chapters blue, segments green, shots
    red). Hue decides, not distance: a dark orange is ORANGE, not the darker RED."""
    if item.colour is None:
        return _DEFAULT_MARKER[item.kind]
    L, a, b = (float(v) for v in oklab(np.array(item.colour, np.uint8)))
    if math.hypot(a, b) < _GREY_CHROMA:
        return "WHITE" if L >= 0.6 else "BLACK"
    hue = math.atan2(b, a)
    gap = np.abs(np.angle(np.exp(1j * (_HUE_ANGLES - hue))))
    name = _HUE_NAMES[int(np.argmin(gap))]
    if name in ("RED", "MAGENTA") and L > 0.8:
        return "PINK"
    return name


def timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF`` non-drop timecode of a frame number at the nominal rate
    (``round(fps)``: 23.976 counts as 24, as CMX 3600 and OTIO do)."""
    nominal = max(1, round(fps))
    f = max(0, int(frame))
    hh, rest = divmod(f, 3600 * nominal)
    mm, rest = divmod(rest, 60 * nominal)
    ss, ff = divmod(rest, nominal)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


# -- CSV ---------------------------------------------------------------------------------
def timeline_csv(tl: FilmTimeline) -> bytes:
    """One row per item, in start order, with :data:`CSV_COLUMNS` (UTF-8, ``\\r\\n``
    line ends as RFC 4180 asks; times to the microsecond)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(list(CSV_COLUMNS))
    counters: dict[str, int] = {}
    for it in tl.items:
        counters[it.kind] = counters.get(it.kind, 0) + 1
        a, b = tl.span(it)
        w.writerow(
            [
                it.kind,
                counters[it.kind],
                it.name,
                f"{it.start:.6f}",
                f"{it.end:.6f}",
                f"{it.duration:.6f}",
                a,
                b,
                timecode(a, tl.fps),
                timecode(b, tl.fps),
                it.transition or "",
                hex_colour(it.colour) if it.colour else "",
                f"{tl.fps:.6g}",
            ]
        )
    return buf.getvalue().encode("utf-8")


# -- OpenTimelineIO ------------------------------------------------------------------------
def _otio() -> Any:
    try:
        import opentimelineio as otio
    except ImportError:
        raise InputError(
            "writing timelines needs OpenTimelineIO: pip install 'streamspec[timeline]'"
        ) from None
    return otio


def _media(otio: Any, tl: FilmTimeline) -> Any:
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    available = tr(rt(0, tl.fps), rt(tl.frames, tl.fps))
    if tl.media:
        return otio.schema.ExternalReference(target_url=tl.media, available_range=available)
    return otio.schema.MissingReference(name=tl.title, available_range=available)


def _metadata(it: TimelineItem, tl: FilmTimeline) -> dict[str, Any]:
    meta: dict[str, Any] = {"kind": it.kind, "start_s": it.start, "end_s": it.end}
    if it.colour is not None:
        meta["colour"] = hex_colour(it.colour)
    if it.transition is not None:
        meta["transition"] = it.transition
    if it.frame is not None:
        meta["frame"] = it.frame
    return {"streamspec": meta}


def _marker(otio: Any, it: TimelineItem, tl: FilmTimeline, *, point: bool = False) -> Any:
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    a, b = tl.span(it)
    return otio.schema.Marker(
        name=it.name,
        marked_range=tr(rt(a, tl.fps), rt(0 if point else b - a, tl.fps)),
        color=marker_colour(it),
        metadata=_metadata(it, tl),
    )


def _shot_clip(otio: Any, it: TimelineItem, tl: FilmTimeline) -> Any:
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    a, b = tl.span(it)
    colour = None
    if it.colour is not None:
        colour = otio.core.Color(*(c / 255.0 for c in it.colour), 1.0)
    return otio.schema.Clip(
        name=it.name,
        media_reference=_media(otio, tl),
        source_range=tr(rt(a, tl.fps), rt(b - a, tl.fps)),
        metadata=_metadata(it, tl),
        color=colour,
    )


def _track_of(otio: Any, clips: Sequence[tuple[int, int, Any]], name: str, tl: FilmTimeline) -> Any:
    """A video track of clips at their film frames, gaps between (overlaps trimmed:
    a clip starts where the one before it ends)."""
    rt = otio.opentime.RationalTime
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Video)
    at = 0
    for a, b, clip in sorted(clips, key=lambda c: c[0]):
        if b <= at:
            continue
        if a > at:
            track.append(otio.schema.Gap(duration=rt(a - at, tl.fps)))
        elif a < at:  # trim the overlap off the clip's head
            clip.source_range = otio.opentime.TimeRange(rt(at, tl.fps), rt(b - at, tl.fps))
        track.append(clip)
        at = b
    return track


def to_otio(tl: FilmTimeline) -> Any:
    """The timeline as an ``opentimelineio.schema.Timeline`` (see the module docstring)."""
    otio = _otio()
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline(
        name=tl.title,
        global_start_time=rt(0, tl.fps),
        metadata={"streamspec": {"version": __version__, "fps": tl.fps, "duration_s": tl.duration}},
    )
    film = otio.schema.Clip(
        name=tl.title,
        media_reference=_media(otio, tl),
        source_range=tr(rt(0, tl.fps), rt(tl.frames, tl.fps)),
    )
    for it in tl.items:
        if it.kind != "shot":
            film.markers.append(_marker(otio, it, tl))
    film_track = otio.schema.Track(name="Film", kind=otio.schema.TrackKind.Video)
    film_track.append(film)
    timeline.tracks.append(film_track)
    shots = tl.of_kind("shot")
    if shots:
        clips = [(*tl.span(it), _shot_clip(otio, it, tl)) for it in shots]
        timeline.tracks.append(_track_of(otio, clips, "Shots", tl))
    return timeline


def timeline_otio(tl: FilmTimeline) -> bytes:
    """The timeline as OpenTimelineIO's JSON (``.otio``)."""
    otio = _otio()
    return str(otio.adapters.write_to_string(to_otio(tl), adapter_name="otio_json")).encode()


def _cmx_adapter(otio: Any) -> None:
    names = {a.name for a in otio.plugins.ActiveManifest().adapters}
    if "cmx_3600" not in names:
        raise InputError(
            "writing an EDL needs OpenTimelineIO's CMX 3600 adapter "
            "(a separate package since OpenTimelineIO 0.17): "
            "pip install 'streamspec[timeline]'"
        )


def timeline_edl(tl: FilmTimeline) -> bytes:
    """The timeline as a CMX 3600 EDL, written by OpenTimelineIO's ``cmx_3600``
    adapter: one event per shot (the whole film when there are none), chapters and
    segments as ``LOC`` markers on the event each starts in."""
    otio = _otio()
    _cmx_adapter(otio)
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline(name=tl.title, global_start_time=rt(0, tl.fps))
    shots = tl.of_kind("shot")
    if shots:
        clips = [(*tl.span(it), _shot_clip(otio, it, tl)) for it in shots]
    else:
        whole = otio.schema.Clip(
            name=tl.title,
            media_reference=_media(otio, tl),
            source_range=tr(rt(0, tl.fps), rt(tl.frames, tl.fps)),
        )
        clips = [(0, tl.frames, whole)]
    track = _track_of(otio, clips, "Film", tl)
    events = [c for c in track if isinstance(c, otio.schema.Clip)]
    for it in tl.items:
        if it.kind == "shot":
            continue
        a, _ = tl.span(it)
        host = next(
            (
                c
                for c in events
                if c.source_range.start_time.value <= a < c.source_range.end_time_exclusive().value
            ),
            None,
        )
        if host is None:  # in a gap between shots: the next event, at its first frame
            host = next((c for c in events if c.source_range.start_time.value > a), events[-1])
        host.markers.append(_marker(otio, it, tl, point=True))
    timeline.tracks.append(track)
    text = otio.adapters.write_to_string(timeline, adapter_name="cmx_3600")
    return str(text).encode("ascii", errors="replace")
