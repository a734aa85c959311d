"""The live view's state, without a window: timeline, slots, scroll, playhead, layout,
hit-testing and the numbers the HUD shows. Pure Python + NumPy (no pygame, no PyAV), so
all of it is tested directly; the window in :mod:`streamspec.live.view` only draws it.
"""

from __future__ import annotations

import math
import threading
import time as _time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..annotate import chapter_spans
from ..colour import merge_colours
from ..grid import SlotGrid
from ..limits import MAX_ZOOM
from ..segments import colour_segments
from ..spectrum import Spectrum, Strip
from ..strip import make_strip
from ..timefmt import describe_time, nice_ticks

__all__ = [
    "HoverInfo",
    "Layout",
    "LiveModel",
    "Rect",
    "SeekThrottle",
    "fit_window",
    "nice_ticks",
    "provisional_look",
]

MAX_PPS = float(MAX_ZOOM)  # the closest zoom, pixels per strip
LIVE_PPS = 3.0  # a live source's default zoom (its timeline has no end to fit)
MAX_TAPS = 8  # strips averaged into one pixel column at most (spread over its span)
PANEL_BG = (34, 34, 38)  # empty slots
SEGMENTS_H = 10  # the segments' band under the strips
CHAPTERS_H = 18  # the chapters' band under that
CACHE_BYTES = 192 * 2**20  # the strips' columns kept at the panel's height, at most
LABEL_GAP = 8.0  # pixels between time labels at least
# Tick steps: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h.
TICK_STEPS: tuple[int, ...] = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)
TICK_STEPS += (3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


def provisional_look(col: NDArray[np.uint8], slot: int) -> NDArray[np.uint8]:
    """How a provisional strip is drawn: its colours halfway to grey, dimmed, under a
    dark diagonal hatch (rows shift by one per slot), so it never passes for exact."""
    rgb = col.astype(np.float64)
    grey = rgb @ np.array([0.2126, 0.7152, 0.0722])
    out = 0.7 * (0.5 * rgb + 0.5 * grey[:, None])
    hatch = (np.arange(len(col)) + slot) % 8 < 2
    out[hatch] *= 0.45
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in window pixels."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class Layout:
    """Where things go in a window of a given size."""

    window: Rect
    video: Rect  # the picture, letterboxed to the source's aspect
    panel: Rect  # the spectrum strips
    axis: Rect  # tick labels under the strips
    hud: Rect  # one line of status text
    segments: Rect = Rect(0, 0, 0, 0)  # the colour segments' band, under the strips
    chapters: Rect = Rect(0, 0, 0, 0)  # chapter brackets and names, under the segments

    @staticmethod
    def compute(
        width: int,
        height: int,
        aspect: float,
        mode: str = "below",
        segments_h: int = 0,
        chapters_h: int = 0,
    ) -> Layout:
        """Split the window: video above the spectrum (``below``) or left of it (``right``);
        under the strips, the bands for segments and chapters (when shown), then the axis."""
        width, height = max(int(width), 64), max(int(height), 64)
        hud_h = 22
        axis_h = 20 + segments_h + chapters_h
        if mode == "right":
            side = max(160, int(width * 0.42))
            video_area = Rect(0, 0, width - side, height - hud_h)
            panel = Rect(width - side + 8, 8, side - 16, max(height - hud_h - axis_h - 16, 16))
        else:
            spec_h = max(int(height * 0.36), 90) + segments_h + chapters_h
            video_area = Rect(0, 0, width, height - spec_h - hud_h)
            panel = Rect(8, video_area.bottom + 6, width - 16, max(spec_h - axis_h - 8, 16))
        segments = Rect(panel.x, panel.bottom, panel.w, segments_h)
        chapters = Rect(panel.x, segments.bottom, panel.w, chapters_h)
        axis = Rect(panel.x, chapters.bottom, panel.w, axis_h - segments_h - chapters_h)
        hud = Rect(0, height - hud_h, width, hud_h)
        # Fit the picture into its area, keeping the aspect ratio.
        aw, ah = max(video_area.w, 1), max(video_area.h, 1)
        if aw / ah > aspect:
            vh = ah
            vw = max(1, round(ah * aspect))
        else:
            vw = aw
            vh = max(1, round(aw / aspect))
        video = Rect(video_area.x + (aw - vw) // 2, video_area.y + (ah - vh) // 2, vw, vh)
        return Layout(Rect(0, 0, width, height), video, panel, axis, hud, segments, chapters)


class HoverInfo(NamedTuple):
    """What the tooltip shows: the time, the strip's distinct colours (RGB, share; none
    over an empty slot) and the chapter there."""

    time: str
    colours: list[tuple[tuple[int, int, int], float]]
    chapter: str | None


class _ColumnCache:
    """Every strip's column at the panel's height, in one ``(rows, height, 4)`` array of
    32-bit pixels (row 0: the empty-slot colour), so a view is built by NumPy indexing
    alone and lands in a 32-bit surface as it is.

    A slot's row is remade when the model notes it changed (:attr:`LiveModel.changed`:
    a strip arrived, was replaced or shown); the rows are dropped and refilled when a
    view needs more than fit.
    """

    def __init__(self) -> None:
        self.form: tuple[int, tuple[int, int, int]] = (-1, (0, 1, 2))  # height, RGB bytes
        self.rows = np.zeros((1, 0, 4), np.uint8)
        self.used = 1
        self.row_of = np.full(0, -1, np.int64)  # slot -> row (-1: not looked at yet)

    def _reset(self, form: tuple[int, tuple[int, int, int]], capacity: int) -> None:
        self.form = form
        self.rows = np.full((capacity, form[0], 4), 255, np.uint8)
        self.rows[0][:, list(form[1])] = PANEL_BG
        self.used = 1
        self.row_of[:] = -1

    def rows_for(self, model: LiveModel, taps: NDArray[np.int64], height: int) -> list[Any]:
        """Row indices (one ``(width,)`` array per tap) of the slots ``taps`` (-1: none)."""
        slots = np.unique(taps[taps >= 0])
        need = len(slots) + 1
        top = int(slots[-1]) + 1 if len(slots) else 0
        if top > len(self.row_of):
            grown = np.full(max(top, 2 * len(self.row_of)), -1, np.int64)
            grown[: len(self.row_of)] = self.row_of
            self.row_of = grown
        form = (height, model.channel_bytes)
        rowless = int(np.count_nonzero(self.row_of[slots] <= 0))  # may need a new row
        if form != self.form or self.used + rowless > len(self.rows):
            # A file's every slot when they fit the budget; a live source's last few thousand.
            whole = model.total_slots() + 1 if model.slots is not None else 4096
            budget = CACHE_BYTES // (max(height, 1) * 4)
            self._reset(form, max(need, min(max(whole, 2 * need), budget)))
        check = slots[self.row_of[slots] < 0].tolist()
        if model.changed:  # strips arrived, were replaced or shown: those in view
            changed = np.fromiter(model.changed, np.int64, len(model.changed))
            check += np.intersect1d(changed, slots[self.row_of[slots] >= 0]).tolist()
            # Every row made now is current; slots out of view stay noted until they
            # come into view (or a reset).
            model.changed.difference_update(check)
            if len(model.changed) > 4 * len(self.row_of) + 4096:
                model.changed.clear()
                self.row_of[:] = -1
        where = list(form[1])
        for s in check:
            col = model.column(s, height)
            model._columns.pop(s, None)  # kept here instead
            if col is None:
                self.row_of[s] = 0
                continue
            r = int(self.row_of[s])
            if r <= 0:
                r, self.used = self.used, self.used + 1
                self.row_of[s] = r
            self.rows[r][:, where] = col
        rows = np.where(taps >= 0, self.row_of[np.maximum(taps, 0)], 0)
        return list(np.maximum(rows, 0))


@dataclass
class _Stats:
    """Rolling rates for the HUD and the benchmark."""

    shown: deque[float] = field(default_factory=lambda: deque(maxlen=120))
    decoded: deque[float] = field(default_factory=lambda: deque(maxlen=120))
    quantize_ms: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    frames_shown: int = 0
    frames_dropped: int = 0  # by the window, when drawing fell behind
    frames_skipped_live: int = 0  # by the worker: a live source's pictures nobody showed
    latencies: list[float] = field(default_factory=list)

    @staticmethod
    def rate(stamps: deque[float]) -> float:
        if len(stamps) < 2 or stamps[-1] <= stamps[0]:
            return 0.0
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])


class LiveModel:
    """Everything the live window shows, as plain state.

    ``spectrum`` holds the strips by slot. A strip arrives from the worker (usually
    ahead of the picture) and becomes *visible* when playback reaches its time, so the
    spectrum builds in step with the video; once visible it stays, so the spectrum fills
    in wherever the viewer seeks.
    """

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
    ) -> None:
        self.spectrum = spectrum
        self.look = spectrum.look  # order and mode (their defaults live in LookOptions)
        self.duration = duration
        self.aspect = aspect
        self.layout_mode = layout
        self.live = live
        # A file opens fitted (the whole film across the panel); a live source scrolls.
        self.fit = pixels_per_strip == "fit" and not live
        self.pps = LIVE_PPS if pixels_per_strip == "fit" else float(pixels_per_strip)
        self.clock = clock
        # One frame's time (s): the frame step and how near the end End goes.
        self.frame_time = 1.0 / fps if fps and 0 < fps <= 1000 else 0.04
        # Label widths in pixels (the painter gives its font's; this estimate is wider).
        self.text_width = text_width or (lambda text: 8.0 * len(text))
        self.playhead = spectrum.grid.start
        self.visible: set[int] = set()
        self.provisional: set[int] = set()  # slots showing a provisional strip
        self._waiting: dict[int, Strip] = {}  # arrived, not yet due
        self._shown_at: dict[int, float] = {}  # slot -> when its sample frame was shown
        self.paused = False
        self.ended = False
        self.error: str | None = None
        self.show_help = False
        self.volume: int | None = None  # percent; None: no sound
        self.muted = False
        self.speed = 1.0
        self.hover: tuple[int, int] | None = None
        self.stats = _Stats()
        self.scroll = 0.0  # the column at the panel's left edge (fractional slots)
        self.follow = True  # the view keeps the playhead in sight (until the user pans away)
        self.dirty = True  # the spectrum picture must be rebuilt
        self._columns: dict[int, NDArray[np.uint8]] = {}
        self._column_height = 0
        self._cache = _ColumnCache()
        self.changed: set[int] = set()  # slots whose column must be made again
        # Chapters and colour segments (as render draws them); C shows or hides them.
        self.show_marks = True
        self.segments: list[dict[str, Any]] = []
        self._segments_async = segments_in_background
        self._segments_job: threading.Thread | None = None
        self._segments_done: list[dict[str, Any]] | None = None
        self._segments_at = (-math.inf, -1)  # (clock, strips) of the last run
        # Where red, green and blue go in a 32-bit pixel (the painter sets its surface's).
        self.channel_bytes: tuple[int, int, int] = (0, 1, 2)
        self._grid: SlotGrid | None = None
        self._chapters: tuple[Any, list[tuple[float, float, str]]] | None = None
        self._labels: tuple[Any, list[tuple[float, str, float]]] | None = None
        self._merged: dict[int, tuple[Strip, list[tuple[tuple[int, int, int], float]]]] = {}
        self._newest = (0, 0)  # (visible slots, the last of them)
        self._size = (1280, 720)
        self.layout = self._layout()
        if self.fit:  # (a zoom asked for is clamped once the window's size is known)
            self.pps = self.fit_pps()

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
        self._settle()
        return self.layout

    def toggle_marks(self) -> None:
        """Show or hide the chapters and segments (the C key)."""
        self.show_marks = not self.show_marks
        self.resize(*self._size)

    @property
    def slots(self) -> int | None:
        return self.spectrum.slots

    @property
    def grid(self) -> SlotGrid:
        spec = self.spectrum
        grid = self._grid
        if grid is None or grid.slots != spec.slots:  # (the settings never change)
            grid = self._grid = spec.grid
        return grid

    @property
    def slots_in_view(self) -> float:
        return self.layout.panel.w / self.pps

    def total_slots(self) -> int:
        """Slots the timeline spans: the plan, or (live) up to the newest strip."""
        return self.slots if self.slots is not None else self._last_slot() + 1

    def fit_pps(self) -> float:
        """Pixels per strip with the whole film across the panel (live: the default)."""
        if self.slots is None:
            return LIVE_PPS
        return self.layout.panel.w / max(self.slots, 1)

    def min_pps(self) -> float:
        return 1.0 if self.slots is None else self.fit_pps()

    def max_pps(self) -> float:
        return max(MAX_PPS, self.min_pps())

    def slot_of_time(self, t: float) -> float:
        """Fractional slot whose sample time is ``t``."""
        return self.grid.slot(t)

    def x_of_slot(self, column: float) -> float:
        """Window x of a column coordinate (strips from slot 0's left edge; time is
        linear in columns, see :mod:`streamspec.grid`)."""
        return self.layout.panel.x + (column - self.scroll) * self.pps

    def column_at_x(self, x: float) -> float:
        """The column coordinate under window x (the inverse of :meth:`x_of_slot`)."""
        return self.scroll + (x - self.layout.panel.x) / self.pps

    def slot_at_x(self, x: float) -> int:
        return math.floor(self.column_at_x(x))

    def x_of_time(self, t: float) -> float:
        return self.x_of_slot(self.grid.column_of_time(t))

    def time_at_x(self, x: float) -> float:
        """Time under window x in the spectrum panel (clamped to the film)."""
        t = max(self.grid.start, self.grid.time_of_column(self.column_at_x(x)))
        if self.duration is not None:
            t = min(t, self.duration)
        return t

    @property
    def playhead_x(self) -> float:
        return self.x_of_time(self.playhead)

    def playhead_in_view(self) -> bool:
        p = self.layout.panel
        return p.x <= self.playhead_x <= p.right

    def max_scroll(self) -> float:
        return max(0.0, self.total_slots() - self.slots_in_view)

    def _last_slot(self) -> int:
        # Slots are only ever added to the visible set: its size tells when to look again.
        n = len(self.visible)
        if self._newest[0] != n:
            self._newest = (n, max(self.visible) if self.visible else 0)
        return self._newest[1]

    def _clamp(self) -> None:
        """Zoom and scroll within their limits (fit: the whole film, from its start)."""
        lo, hi = self.min_pps(), self.max_pps()
        if self.fit:
            self.pps = lo if self.slots is not None else self.pps
        self.pps = min(max(self.pps, lo), hi)
        if self.slots is not None and self.pps <= lo * (1 + 1e-9):
            self.fit, self.pps = True, lo
        self.scroll = 0.0 if self.fit else min(max(self.scroll, 0.0), self.max_scroll())

    def _settle(self) -> None:
        """After a change of size, zoom or scroll: clamp, then follow the playhead."""
        self._clamp()
        self._follow()

    def _follow(self, moved: float = 0.0) -> None:
        """Keep the playhead in view while following. Once it leaves the view it is
        brought back at 80 % of the panel; past 80 % the view rides with it (``moved``:
        columns played since the last frame), easing back to 80 % if it is further right."""
        if not self.follow or self.fit:
            return
        view = self.slots_in_view
        pos = self.grid.column_of_time(self.playhead) - self.scroll
        if pos < 0 or pos > view:
            target = self.scroll + pos - 0.8 * view
        elif moved > 0 and pos > 0.8 * view:
            target = self.scroll + moved + min(pos - 0.8 * view, 0.5 * moved)
        else:
            return
        self.scroll = min(max(0.0, target), self.max_scroll())

    def zoom(self, factor: float, x: float | None = None) -> None:
        """Zoom by ``factor`` (fit .. 32 px per strip) around window ``x``: the column under
        it stays under it. Without ``x``, around the playhead (or the panel's middle when
        the playhead is out of view). Zooming the playhead out of view stops following."""
        p = self.layout.panel
        if x is None:
            x = self.playhead_x if self.playhead_in_view() else p.x + p.w / 2
            self.follow = True
        column = self.column_at_x(x)
        self.fit = False
        self.pps = min(max(self.pps * factor, self.min_pps()), self.max_pps())
        self.scroll = column - (x - p.x) / self.pps
        self._clamp()
        self.follow = self.follow and self.playhead_in_view()
        self._follow()

    def pan(self, dx: float) -> None:
        """Move the view by ``dx`` window pixels (right: back in time, as when dragging).
        Panning the playhead out of view stops following; back into view, resumes it."""
        if self.fit and self.max_scroll() == 0:
            return
        self.fit = False
        self.scroll -= dx / self.pps
        self._clamp()
        self.follow = self.playhead_in_view()

    def fit_view(self) -> None:
        """The whole film across the panel, following again (Ctrl+0, Z, double-click).
        A live source returns to its default zoom at the newest strips."""
        self.follow = True
        if self.slots is None:
            self.pps = LIVE_PPS
            self.scroll = self.max_scroll()
        else:
            self.fit = True
        self._settle()

    # -- events from the worker -------------------------------------------------------------
    def add_strip(self, strip: Strip, quantize_ms: float | None = None) -> None:
        """A strip arrived; it shows once the playhead reaches its frame. A provisional
        one (the whole film's first pass) shows at once, until the exact one replaces it."""
        if not self.spectrum.add(strip):
            return  # a provisional strip after the exact one: nothing changes
        if strip.provisional:
            self.provisional.add(strip.index)
        else:
            self.provisional.discard(strip.index)
        self._columns.pop(strip.index, None)
        self.changed.add(strip.index)
        if quantize_ms is not None:
            self.stats.quantize_ms.append(quantize_ms)
        if strip.index in self.visible:
            self.dirty = True
            return
        if self.live or strip.provisional or strip.time <= self.playhead + 1e-6:
            self._reveal(strip.index)
        else:
            self._waiting[strip.index] = strip

    def frame_decoded(self) -> None:
        self.stats.decoded.append(self.clock())

    def frame_shown(self, t: float) -> None:
        """The picture at time ``t`` is on screen: advance the playhead, reveal strips."""
        moved = self.grid.slot(t) - self.grid.slot(self.playhead)
        self.playhead = t
        self.stats.frames_shown += 1
        self.stats.shown.append(self.clock())
        for i in sorted(i for i, s in self._waiting.items() if s.time <= t + 1e-6):
            self._reveal(i)
        if self.slots is None:
            self._clamp()  # a live timeline grows
        self._follow(moved)

    def frames_dropped(self, n: int) -> None:
        self.stats.frames_dropped += n

    def sample_shown(self, slot: int) -> None:
        """The frame a sample was taken from is on screen (for the latency figure)."""
        self._shown_at.setdefault(slot, self.clock())

    def _reveal(self, slot: int) -> None:
        self._waiting.pop(slot, None)
        self.visible.add(slot)
        self.changed.add(slot)
        self.dirty = True

    def presented(self) -> None:
        """The window was flipped. For every sample whose frame is on screen and whose
        strip is too, record the wait from the frame to the strip (the live latency)."""
        now = self.clock()
        shown = [s for s in self._shown_at if s in self.visible and s not in self.provisional]
        for slot in shown:
            self.stats.latencies.append(max(0.0, now - self._shown_at.pop(slot)))
        self.update_segments()

    def seeked(self, t: float) -> None:
        """Playback jumps to ``t``. Strips made ahead of the old position stay waiting;
        they show when playback reaches (or jumps past) their time."""
        self.playhead = t
        self.follow = True  # a seek brings the view back to the playhead
        self._follow()
        self.dirty = True

    # -- where seeks go ---------------------------------------------------------------------
    @property
    def last_moment(self) -> float:
        """The time End goes to: a few frames before the end of the film."""
        start = self.grid.start
        if self.duration is None:
            return self.playhead
        return max(start, self.duration - 3 * self.frame_time)

    def clamp_time(self, t: float) -> float:
        """``t`` kept inside the film (up to 50 ms before its end)."""
        start = self.grid.start
        end = self.duration if self.duration is not None else t
        return min(max(t, start), max(end - 0.05, start))

    def time_at_fraction(self, fraction: float) -> float:
        """The time ``fraction`` (0..1) of the way through the film (digits 0-9)."""
        start = self.grid.start
        if self.duration is None:
            return self.playhead
        return self.clamp_time(start + min(max(fraction, 0.0), 1.0) * (self.duration - start))

    # -- what to draw -----------------------------------------------------------------------
    def visible_range(self) -> tuple[int, int]:
        """Slots ``[first, last)`` that intersect the panel."""
        first = math.floor(self.scroll)
        last = math.ceil(self.scroll + self.slots_in_view) + 1
        if self.slots is not None:
            last = min(last, self.slots)
        return max(first, 0), max(last, first)

    def column(self, slot: int, height: int) -> NDArray[np.uint8] | None:
        """The strip of a visible slot at ``height`` rows (cached)."""
        if slot not in self.visible:
            return None
        if height != self._column_height:
            self._columns.clear()
            self._column_height = height
        col = self._columns.get(slot)
        if col is None:
            s = self.spectrum.get(slot)
            if s is None:
                return None
            look = self.look
            col = make_strip(
                s.palette, s.counts, height, order=look.order, mode=look.mode, column=s.column
            )
            if s.provisional:
                col = provisional_look(col, slot)
            self._columns[slot] = col
        return col

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
        green and blue in the bytes :attr:`channel_bytes` (the painter's surface's
        layout, so it is copied in as it is): for each pixel column the slot under its
        centre, or, when several strips share a pixel (below 1 px per strip), the mean
        of up to :data:`MAX_TAPS` strips at points spread evenly over its span -- an area
        average (supersampled), so the fitted film reads like the rendered picture
        scaled down and nothing flickers when the view moves. Empty slots are
        :data:`PANEL_BG`."""
        p = self.layout.panel
        total = self.total_slots()
        # m points spread evenly over each pixel's span of columns (1: its centre).
        m = min(max(math.ceil(1.0 / self.pps - 1e-9), 1), MAX_TAPS)
        left = np.arange(p.w, dtype=np.float64) / self.pps + self.scroll
        at = (np.arange(m, dtype=np.float64) + 0.5) / (m * self.pps)
        taps = np.floor(left[None] + at[:, None]).astype(np.int64)
        taps[(taps < 0) | (taps >= total)] = -1
        rows = self._cache.rows_for(self, taps, p.h)
        self.dirty = False
        cached = self._cache.rows.view(np.uint32)[:, :, 0]  # (rows, height) pixels
        if len(rows) == 1:
            return np.take(cached, rows[0], axis=0)
        out = np.empty((p.w, p.h), np.uint32)
        flat = self._cache.rows.reshape(len(self._cache.rows), -1)  # (rows, 4 h) bytes
        from .._kernels import mean_rows  # Numba loads here, not when the model does

        mean_rows(flat, np.array(rows), out.view(np.uint8))
        return out

    def axis_labels(self) -> list[tuple[float, str, float]]:
        """``(tick x, label, label left x)`` of the time axis: the smallest nice step
        (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6 h ...) whose labels,
        measured with :attr:`text_width`, fit side by side within the axis."""
        a = self.layout.axis
        key = (a, self.pps, self.scroll, self.total_slots())
        if self._labels is not None and self._labels[0] == key:
            return self._labels[1]
        labels = self._axis_labels()
        self._labels = (key, labels)
        return labels

    def _axis_labels(self) -> list[tuple[float, str, float]]:
        a = self.layout.axis
        grid = self.grid
        t0 = max(self.time_at_x(a.x), grid.start)
        end = self.duration if self.duration is not None else grid.span(self.total_slots())[0]
        t1 = min(self.time_at_x(a.right), end)
        if t1 < t0:
            return []
        # Labels are about equally wide: steps narrower than the widest cannot fit.
        widest = max(self.text_width(describe_time(t)) for t in (t0, t1))
        px_per_s = self.pps / grid.step
        for step in TICK_STEPS:
            if step * px_per_s < 0.9 * widest + LABEL_GAP:
                continue
            out: list[tuple[float, str, float]] = []
            right = -math.inf
            t = math.ceil(t0 / step - 1e-9) * step
            ok = True
            while t <= t1 + 1e-9:
                x = self.x_of_time(t)
                if a.x <= x <= a.right:
                    label = describe_time(t)
                    w = self.text_width(label)
                    left = min(max(x - w / 2, a.x), a.right - w)
                    if left < a.x or left < right + LABEL_GAP:
                        ok = False
                        break
                    out.append((x, label, left))
                    right = left + w
                t += step
            if ok:
                return out
        return []

    def ticks(self) -> list[tuple[float, str]]:
        """(x, label) of the time axis ticks inside the panel."""
        return [(x, label) for x, label, _ in self.axis_labels()]

    def chapters(self) -> list[tuple[float, float, str]]:
        """``(start, end, title)`` of the chapters to draw (when asked for, as render)."""
        spec = self.spectrum
        if not spec.settings.get("chapters") or not spec.chapters:
            return []
        end = self.duration if self.duration is not None else self.playhead
        key = (id(spec.chapters), len(spec.chapters), end)
        if self._chapters is not None and self._chapters[0] == key:
            return self._chapters[1]
        self._chapters = (key, self._chapter_spans(end))
        return self._chapters[1]

    def _chapter_spans(self, end: float) -> list[tuple[float, float, str]]:
        spec = self.spectrum
        rows = sorted(spec.chapters, key=lambda c: float(c["start"]))
        spans = chapter_spans(rows, end)
        return [(c.start, end if c.end is None else c.end, c.title) for c in spans]

    def chapter_at(self, t: float) -> str | None:
        """The title of the chapter at time ``t``, if any."""
        for start, stop, title in self.chapters():
            if start <= t < stop:
                return title
        return None

    def update_segments(self, wait: bool = False) -> None:
        """Find the colour segments again when strips have arrived: at most once a
        second, in a background thread (``wait``: now, in this one)."""
        if not self.look.segments:
            return
        if self._segments_done is not None:
            self.segments, self._segments_done = self._segments_done, None
            self.dirty = True
        job = self._segments_job
        if job is not None and job.is_alive():
            if wait:
                job.join()
                self.update_segments()
            return
        now, n = self.clock(), len(self.visible)
        if n < 2 or n == self._segments_at[1] or (now - self._segments_at[0] < 1.0 and not wait):
            return
        self._segments_at = (now, n)
        spec = self.spectrum
        # A snapshot of the strips on screen: the real spectrum grows meanwhile.
        strips = [s for i in sorted(self.visible) if (s := spec.get(i)) is not None]
        grid, minimum = spec.grid, self.look.min_segment

        def run() -> None:
            found = colour_segments(strips, grid, min_seconds=minimum)
            self._segments_done = [s.to_dict() for s in found]

        if self._segments_async and not wait:
            self._segments_job = threading.Thread(target=run, name="segments", daemon=True)
            self._segments_job.start()
        else:
            run()
            self.update_segments()

    def hover_info(self, x: int, y: int) -> HoverInfo | None:
        """What the tooltip shows over (x, y): the time there, anywhere on the timeline;
        over a strip also its distinct colours (RGB, share); the chapter."""
        if not self.layout.panel.contains(x, y):
            return None
        t = self.time_at_x(x)
        slot = self.slot_at_x(x)
        if self.slots is not None and not 0 <= slot < self.slots:
            return None  # past the end of the film
        s = self.spectrum.get(slot) if slot in self.visible else None
        colours: list[tuple[tuple[int, int, int], float]] = []
        if s is not None:
            t = s.time
            known = self._merged.get(slot)
            if known is not None and known[0] is s:
                colours = known[1]
            else:
                # Near-duplicates merged (OKLab, MERGE_DISTANCE): five distinct colours.
                merged, shares = merge_colours(s.palette, s.counts)
                colours = [
                    (_rgb(c), float(share)) for c, share in zip(merged[:5], shares[:5], strict=True)
                ]
                if len(self._merged) > 4096:
                    self._merged.clear()
                self._merged[slot] = (s, colours)
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
        parts = [
            f"{describe_time(self.playhead)} / {describe_time(self.duration)}"
            if self.duration is not None
            else f"{describe_time(self.playhead)} live"
        ]
        total = f"/{self.slots}" if self.slots is not None else ""
        parts.append(f"{len(self.visible)}{total} samples")
        if self.provisional:
            parts.append(f"{len(self.provisional)} provisional")
        parts.append(f"decode {_Stats.rate(self.stats.decoded):.1f} fps")
        q = self.stats.quantize_ms
        parts.append(f"quantize {np.median(q):.1f} ms" if q else "quantize - ms")
        if self.volume is not None:
            parts.append("muted" if self.muted else f"vol {self.volume}%")
        if abs(self.speed - 1.0) > 1e-9:
            parts.append(f"speed {self.speed:g}x")
        if self.paused:
            parts.append("paused")
        if self.ended:
            parts.append("end - Q to quit")
        if self.error:
            parts.append(f"error: {self.error}")
        return "   ".join(parts)


class SeekThrottle:
    """Coalesces seeks so a held key or a drag never piles up more than the decoder can
    follow: one seek is in flight until its first picture arrives (or ``patience``
    seconds pass); requests meanwhile replace each other and the newest goes next."""

    def __init__(self, clock: Callable[[], float] = _time.monotonic, patience: float = 0.5):
        self.clock = clock
        self.patience = patience
        self.queued: float | None = None
        self._since: float | None = None  # when the seek in flight was issued

    @property
    def in_flight(self) -> bool:
        return self._since is not None and self.clock() - self._since < self.patience

    def request(self, t: float) -> float | None:
        """A seek to ``t`` is wanted: returns the time to seek to now, or None (queued)."""
        if self.in_flight:
            self.queued = t
            return None
        self.queued = None
        self._since = self.clock()
        return t

    def arrived(self) -> None:
        """The seek in flight showed its first picture."""
        self._since = None

    def poll(self) -> float | None:
        """The queued seek, once the one in flight is done (then it is in flight)."""
        if self.queued is None or self.in_flight:
            return None
        t, self.queued = self.queued, None
        self._since = self.clock()
        return t


def fit_window(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[int, int]:
    """``size`` shrunk (keeping its aspect) to fit ``screen``; unchanged if it fits."""
    w, h = size
    if not screen or screen[0] <= 0 or screen[1] <= 0:
        return w, h
    scale = min(1.0, screen[0] / w, screen[1] / h)
    return max(1, math.floor(w * scale)), max(1, math.floor(h * scale))


def _rgb(colour: NDArray[np.uint8]) -> tuple[int, int, int]:
    """A palette row as an (r, g, b) tuple of ints."""
    r, g, b = (int(v) for v in colour)
    return r, g, b
