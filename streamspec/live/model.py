"""The live view's state, without a window: :class:`LiveModel`, everything the window
shows, as plain state. Pure Python + NumPy (no pygame, no PyAV, no threads), so all of
it is tested directly; the window in :mod:`streamspec.live.view` only draws it.

The model is a thin front over small parts, each of its own module:

- :class:`~streamspec.live.timeline.StripTimeline` -- the slots, the strips in them
  and which show yet;
- :class:`~streamspec.live.playback.Playback` -- playhead, paused, speed, sound, and
  where seeks go;
- :class:`~streamspec.live.viewport.Viewport` -- zoom, scroll, fit and follow, and the
  maths between time, slots and window x;
- :class:`~streamspec.live.columns.ColumnCache` -- the panel's pixels;
- :class:`~streamspec.live.axis.TimeAxis` -- the axis labels;
- :class:`~streamspec.live.marks.Chapters` and
  :class:`~streamspec.live.marks.LiveSegments` -- the marks under the strips;
- :mod:`streamspec.live.hud` -- the rates, the status line and the tooltip;
- :mod:`streamspec.live.layout` -- where everything goes in the window.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from streamspec.core.grid import SlotGrid
from streamspec.core.timefmt import describe_time, nice_ticks
from streamspec.live.axis import LABEL_GAP, AxisLabel, TimeAxis
from streamspec.live.columns import CACHE_BYTES, PANEL_BG, ColumnCache, provisional_look
from streamspec.live.hud import HoverInfo, Stats, StripColours, status_line
from streamspec.live.layout import CHAPTERS_H, SEGMENTS_H, Layout, Rect, fit_window
from streamspec.live.marks import Chapters, ChapterSpan, LiveSegments, SegmentRunner
from streamspec.live.playback import Playback, SeekThrottle, frame_time_of
from streamspec.live.timeline import StripTimeline
from streamspec.live.viewport import LIVE_PPS, MAX_PPS, MAX_TAPS, Viewport
from streamspec.outputs.spectrum import Spectrum, Strip

__all__ = [
    "CACHE_BYTES",
    "CHAPTERS_H",
    "LABEL_GAP",
    "LIVE_PPS",
    "MAX_PPS",
    "MAX_TAPS",
    "PANEL_BG",
    "SEGMENTS_H",
    "HoverInfo",
    "Layout",
    "LiveModel",
    "Rect",
    "SeekThrottle",
    "fit_window",
    "nice_ticks",
    "provisional_look",
]

T = TypeVar("T")
DEFAULT_SIZE = (1280, 720)  # the window's size until the window says


class _Forward(Generic[T]):
    """An attribute of the model that is one of its parts' (``LiveModel.pps`` is
    ``LiveModel.view.pps``), read and written through."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Forward[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: object | None, owner: type) -> T | _Forward[T]:
        if obj is None:
            return self
        value: T = getattr(getattr(obj, self.part), self.name)
        return value

    def __set__(self, obj: object, value: T) -> None:
        setattr(getattr(obj, self.part), self.name, value)


class LiveModel:
    """Everything the live window shows, as plain state (see the module docstring for
    its parts; the attributes below read and write theirs).

    ``spectrum`` holds the strips by slot; ``duration`` is the film's (None: a live
    source). ``pixels_per_strip`` is ``"fit"`` or a zoom; ``fps`` the source's rate;
    ``text_width`` measures an axis label (the painter gives its font's).
    ``segments_runner`` finds the colour segments off the window's thread (None, or
    ``segments_in_background`` False: in the caller's, as strips are presented).
    """

    # The timeline's
    spectrum: _Forward[Spectrum] = _Forward("strips")
    visible: _Forward[set[int]] = _Forward("strips")
    provisional: _Forward[set[int]] = _Forward("strips")
    live: _Forward[bool] = _Forward("strips")
    # Playback's
    playhead: _Forward[float] = _Forward("playback")
    paused: _Forward[bool] = _Forward("playback")
    ended: _Forward[bool] = _Forward("playback")
    error: _Forward[str | None] = _Forward("playback")
    speed: _Forward[float] = _Forward("playback")
    volume: _Forward[int | None] = _Forward("playback")
    muted: _Forward[bool] = _Forward("playback")
    frame_time: _Forward[float] = _Forward("playback")
    # The viewport's
    pps: _Forward[float] = _Forward("view")
    scroll: _Forward[float] = _Forward("view")
    fit: _Forward[bool] = _Forward("view")
    follow: _Forward[bool] = _Forward("view")
    # The rest
    channel_bytes: _Forward[tuple[int, int, int]] = _Forward("columns")
    text_width: _Forward[Callable[[str], float]] = _Forward("time_axis")

    def __init__(
        self,
        spectrum: Spectrum,
        *,
        duration: float | None,
        aspect: float,
        layout: str = "below",
        live: bool = False,
        pixels_per_strip: float | str = "fit",
        clock: Callable[[], float] = _time.monotonic,
        fps: float | None = None,
        text_width: Callable[[str], float] | None = None,
        segments_in_background: bool = True,
        segments_runner: SegmentRunner | None = None,
    ) -> None:
        self.look = spectrum.look  # order and mode (their defaults live in LookOptions)
        self.aspect = aspect
        self.layout_mode = layout
        self.clock = clock
        self.strips = StripTimeline(spectrum, duration, live)
        start = self.strips.grid.start
        self.playback = Playback(start, duration, frame_time_of(fps), playhead=start)
        self.columns = ColumnCache(self.strips, self.look)
        self.time_axis = TimeAxis(text_width)
        self.chapter_marks = Chapters(spectrum)
        runner = segments_runner if segments_in_background else None
        self.segment_marks = LiveSegments(self.look, clock, runner)
        self.stats = Stats()
        self.strip_colours = StripColours()
        self.show_help = False
        self.show_marks = True  # chapters and segments (C shows or hides them)
        self.hover: tuple[int, int] | None = None  # the pointer, over the window
        self.dirty = True  # the spectrum picture must be rebuilt
        self._size = DEFAULT_SIZE
        self.layout = self._layout()
        self.view = Viewport(self.strips, self.layout.panel, pixels_per_strip)

    # -- the timeline -------------------------------------------------------------------
    @property
    def duration(self) -> float | None:
        """The film's duration (None: a live source)."""
        return self.strips.duration

    @property
    def slots(self) -> int | None:
        """The slots planned (None: a live source's open-ended timeline)."""
        return self.strips.slots

    @property
    def grid(self) -> SlotGrid:
        """The slot grid: slot <-> time."""
        return self.strips.grid

    def total_slots(self) -> int:
        """Slots the timeline spans: the plan, or (live) up to the newest strip."""
        return self.strips.total_slots()

    @property
    def segments(self) -> list[dict[str, Any]]:
        """The colour segments of the strips on screen, as ``render`` draws them."""
        return self.segment_marks.found

    # -- geometry -------------------------------------------------------------------------
    def _layout(self) -> Layout:
        show = self.show_marks
        seg_h = SEGMENTS_H if show and self.look.segments else 0
        chap_h = CHAPTERS_H if show and self.chapters() else 0
        w, h = self._size
        return Layout.compute(w, h, self.aspect, self.layout_mode, seg_h, chap_h)

    def resize(self, width: int, height: int) -> Layout:
        """Recompute the layout for a new window size (a fitted view stays fitted)."""
        self._size = (width, height)
        self.layout = self._layout()
        self.dirty = True
        self.view.resize(self.layout.panel, self.playhead)
        return self.layout

    def toggle_marks(self) -> None:
        """Show or hide the chapters and segments (the C key)."""
        self.show_marks = not self.show_marks
        self.resize(*self._size)

    @property
    def slots_in_view(self) -> float:
        return self.view.slots_in_view

    def fit_pps(self) -> float:
        """Pixels per strip with the whole film across the panel (live: the default)."""
        return self.view.fit_pps()

    def min_pps(self) -> float:
        return self.view.min_pps()

    def max_pps(self) -> float:
        return self.view.max_pps()

    def max_scroll(self) -> float:
        return self.view.max_scroll()

    def slot_of_time(self, t: float) -> float:
        """Fractional slot whose sample time is ``t``."""
        return self.view.slot_of_time(t)

    def x_of_slot(self, column: float) -> float:
        """Window x of a column coordinate (see :meth:`Viewport.x_of_slot`)."""
        return self.view.x_of_slot(column)

    def column_at_x(self, x: float) -> float:
        """The column coordinate under window x (the inverse of :meth:`x_of_slot`)."""
        return self.view.column_at_x(x)

    def slot_at_x(self, x: float) -> int:
        return self.view.slot_at_x(x)

    def x_of_time(self, t: float) -> float:
        return self.view.x_of_time(t)

    def time_at_x(self, x: float) -> float:
        """Time under window x in the spectrum panel (clamped to the film)."""
        return self.view.time_at_x(x)

    @property
    def playhead_x(self) -> float:
        return self.view.x_of_time(self.playhead)

    def playhead_in_view(self) -> bool:
        return self.view.in_view(self.playhead)

    def visible_range(self) -> tuple[int, int]:
        """Slots ``[first, last)`` that intersect the panel."""
        return self.view.visible_range()

    def zoom(self, factor: float, x: float | None = None) -> None:
        """Zoom by ``factor`` around window ``x`` (None: the playhead), see
        :meth:`Viewport.zoom`."""
        self.view.zoom(factor, x, self.playhead)

    def pan(self, dx: float) -> None:
        """Move the view by ``dx`` window pixels (right: back in time, as when dragging)."""
        self.view.pan(dx, self.playhead)

    def fit_view(self) -> None:
        """The whole film across the panel, following again (Ctrl+0, Z, double-click)."""
        self.view.fit_view(self.playhead)

    # -- where seeks go -------------------------------------------------------------------
    @property
    def last_moment(self) -> float:
        """The time End goes to: a few frames before the end of the film."""
        return self.playback.last_moment

    def clamp_time(self, t: float) -> float:
        """``t`` kept inside the film (up to 50 ms before its end)."""
        return self.playback.clamp_time(t)

    def time_at_fraction(self, fraction: float) -> float:
        """The time ``fraction`` (0..1) of the way through the film (digits 0-9)."""
        return self.playback.time_at_fraction(fraction)

    # -- events from the worker and the window ---------------------------------------------
    def add_strip(self, strip: Strip, quantize_ms: float | None = None) -> None:
        """A strip arrived; it shows once the playhead reaches its frame. A provisional
        one (the whole film's first pass) shows at once, until the exact one replaces it."""
        arrival = self.strips.arrive(strip, self.playhead)
        if arrival == "ignored":
            return  # a provisional strip after the exact one: nothing changes
        self.columns.forget(strip.index)
        if quantize_ms is not None:
            self.stats.quantize_ms.append(quantize_ms)
        if arrival == "shown":
            self.dirty = True

    def frame_decoded(self) -> None:
        self.stats.decoded.append(self.clock())

    def frame_shown(self, t: float) -> None:
        """The picture at time ``t`` is on screen: advance the playhead, reveal strips."""
        grid = self.grid
        moved = grid.slot(t) - grid.slot(self.playhead)
        self.playhead = t
        self.stats.frames_shown += 1
        self.stats.shown.append(self.clock())
        for slot in self.strips.reach(t):
            self.columns.forget(slot)
            self.dirty = True
        if self.slots is None:
            self.view.clamp()  # a live timeline grows
        self.view.keep_in_sight(t, moved)

    def frames_dropped(self, n: int) -> None:
        self.stats.frames_dropped += n

    def sample_shown(self, slot: int) -> None:
        """The frame a sample was taken from is on screen (for the latency figure)."""
        self.stats.sample_shown(slot, self.clock())

    def presented(self) -> None:
        """The window was flipped: record the live latency of the strips now on screen
        (from their frame to them) and look for segments again."""
        self.stats.presented(self.clock(), self.strips)
        self.update_segments()

    def seeked(self, t: float) -> None:
        """Playback jumps to ``t``. Strips made ahead of the old position stay waiting;
        they show when playback reaches (or jumps past) their time."""
        self.playhead = t
        self.follow = True  # a seek brings the view back to the playhead
        self.view.keep_in_sight(t)
        self.dirty = True

    def update_segments(self, wait: bool = False) -> None:
        """Find the colour segments again when strips have arrived: at most once a
        second, by the segments runner (``wait``: now, and finished on return)."""
        if self.segment_marks.update(self.strips, wait):
            self.dirty = True

    # -- what to draw -----------------------------------------------------------------------
    def column(self, slot: int, height: int) -> NDArray[np.uint8] | None:
        """The strip of a visible slot at ``height`` rows (cached)."""
        return self.columns.column(slot, height)

    def panel_image(self) -> NDArray[np.uint8]:
        """The panel's picture, ``(width, height, 3)`` RGB, x first (see
        :meth:`panel_pixels32`)."""
        return (
            self.panel_pixels32()
            .view(np.uint8)
            .reshape(-1, self.layout.panel.h, 4)[:, :, list(self.channel_bytes)]
        )

    def panel_pixels32(self) -> NDArray[np.uint32]:
        """The panel's picture as ``(width, height)`` 32-bit pixels, x first, with red,
        green and blue in the bytes :attr:`channel_bytes`: for each pixel column the
        strip under its centre, or the mean of the strips it covers when several share
        it (:meth:`Viewport.taps`). Empty slots are :data:`PANEL_BG`."""
        pixels = self.columns.pixels(self.view.taps(), self.layout.panel.h)
        self.dirty = False
        return pixels

    def axis_labels(self) -> list[AxisLabel]:
        """``(tick x, label, label left x)`` of the time axis: the finest nice step
        (:func:`streamspec.core.timefmt.tick_steps`) whose labels, measured with
        :attr:`text_width`, fit side by side within the axis."""
        return self.time_axis.labels(self.view, self.layout.axis)

    def ticks(self) -> list[tuple[float, str]]:
        """(x, label) of the time axis ticks inside the panel."""
        return [(x, label) for x, label, _ in self.axis_labels()]

    def chapters(self) -> list[ChapterSpan]:
        """``(start, end, title)`` of the chapters to draw (when asked for, as render)."""
        return self.chapter_marks.spans(self._chapters_end())

    def chapter_at(self, t: float) -> str | None:
        """The title of the chapter at time ``t``, if any."""
        return self.chapter_marks.at(t, self._chapters_end())

    def _chapters_end(self) -> float:
        # The last chapter ends with the film (live: at the playhead).
        return self.duration if self.duration is not None else self.playhead

    def hover_info(self, x: int, y: int) -> HoverInfo | None:
        """What the tooltip shows over (x, y): the time there, anywhere on the timeline;
        over a strip also its distinct colours (RGB, share); the chapter."""
        if not self.layout.panel.contains(x, y):
            return None
        t = self.time_at_x(x)
        slot = self.slot_at_x(x)
        if self.slots is not None and not 0 <= slot < self.slots:
            return None  # past the end of the film
        s = self.strips.strip(slot)
        colours = []
        if s is not None:
            t = s.time
            colours = self.strip_colours.of(slot, s)
        chapter = self.chapter_at(t) if self.show_marks else None
        return HoverInfo(describe_time(t), colours, chapter)

    def click_time(self, x: int, y: int) -> float | None:
        """The time to seek to for a click at (x, y), or None (not in the spectrum)."""
        p = self.layout.panel
        if not Rect(p.x, p.y, p.w, p.h + self.layout.axis.h).contains(x, y):
            return None
        return self.time_at_x(x)

    def hud_text(self) -> str:
        """Time / duration, samples, decode fps, quantize ms (and state)."""
        return status_line(self.playback, self.strips, self.stats)
