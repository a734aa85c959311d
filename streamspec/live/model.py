"""The live view's state, without a window: timeline, slots, scroll, playhead, layout,
hit-testing and the numbers the HUD shows. Pure Python + NumPy (no pygame, no PyAV), so
all of it is tested directly; the window in :mod:`streamspec.live.view` only draws it.
"""

from __future__ import annotations

import math
import time as _time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..colour import merge_colours
from ..grid import SlotGrid
from ..spectrum import Spectrum, Strip
from ..strip import make_strip
from ..timefmt import describe_time, nice_ticks

__all__ = ["Layout", "LiveModel", "Rect", "nice_ticks", "provisional_look"]


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

    @staticmethod
    def compute(width: int, height: int, aspect: float, mode: str = "below") -> Layout:
        """Split the window: video above the spectrum (``below``) or left of it (``right``)."""
        width, height = max(int(width), 64), max(int(height), 64)
        hud_h = 22
        axis_h = 20
        if mode == "right":
            side = max(160, int(width * 0.42))
            video_area = Rect(0, 0, width - side, height - hud_h)
            panel = Rect(width - side + 8, 8, side - 16, max(height - hud_h - axis_h - 16, 16))
        else:
            spec_h = max(int(height * 0.36), 90)
            video_area = Rect(0, 0, width, height - spec_h - hud_h)
            panel = Rect(8, video_area.bottom + 6, width - 16, max(spec_h - axis_h - 8, 16))
        axis = Rect(panel.x, panel.bottom, panel.w, axis_h)
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
        return Layout(Rect(0, 0, width, height), video, panel, axis, hud)


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
        pixels_per_strip: int = 3,
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        self.spectrum = spectrum
        self.look = spectrum.look  # order and mode (their defaults live in LookOptions)
        self.duration = duration
        self.aspect = aspect
        self.layout_mode = layout
        self.live = live
        self.pps = max(1, int(pixels_per_strip))
        self.clock = clock
        self.playhead = spectrum.grid.start
        self.visible: set[int] = set()
        self.provisional: set[int] = set()  # slots showing a provisional strip
        self._waiting: dict[int, Strip] = {}  # arrived, not yet due
        self._shown_at: dict[int, float] = {}  # slot -> when its sample frame was shown
        self.paused = False
        self.ended = False
        self.error: str | None = None
        self.show_help = False
        self.hover: tuple[int, int] | None = None
        self.stats = _Stats()
        self.scroll = 0.0  # first visible slot (fractional)
        self.follow = True
        self.dirty = True  # the spectrum picture must be rebuilt
        self._columns: dict[int, NDArray[np.uint8]] = {}
        self._column_height = 0
        self.layout = Layout.compute(1280, 720, aspect, layout)

    # -- geometry -------------------------------------------------------------------------
    def resize(self, width: int, height: int) -> Layout:
        """Recompute the layout for a new window size."""
        self.layout = Layout.compute(width, height, self.aspect, self.layout_mode)
        self.dirty = True
        self._follow()
        return self.layout

    @property
    def slots(self) -> int | None:
        return self.spectrum.slots

    @property
    def grid(self) -> SlotGrid:
        return self.spectrum.grid

    @property
    def slots_in_view(self) -> float:
        return self.layout.panel.w / self.pps

    def slot_of_time(self, t: float) -> float:
        """Fractional slot at time ``t`` (slot i is centred on its sample time)."""
        return self.grid.slot(t)

    def x_of_slot(self, column: float) -> float:
        """Window x of a column coordinate (strips from slot 0's left edge; a slot's
        sample time is at ``slot + 0.5``)."""
        return self.layout.panel.x + (column - self.scroll) * self.pps

    def column_at_x(self, x: float) -> float:
        """The column coordinate under window x (the inverse of :meth:`x_of_slot`)."""
        return self.scroll + (x - self.layout.panel.x) / self.pps

    def slot_at_x(self, x: float) -> int:
        return math.floor(self.column_at_x(x))

    def time_at_x(self, x: float) -> float:
        """Time under window x in the spectrum panel (clamped to the film)."""
        t = max(self.grid.start, self.grid.time_of_column(self.column_at_x(x)))
        if self.duration is not None:
            t = min(t, self.duration)
        return t

    @property
    def playhead_x(self) -> float:
        return self.x_of_slot(self.grid.column_of_time(self.playhead))

    def max_scroll(self) -> float:
        total = self.slots if self.slots is not None else self._last_slot() + 1
        return max(0.0, total - self.slots_in_view)

    def _last_slot(self) -> int:
        return max(self.visible) if self.visible else 0

    def _follow(self) -> None:
        """Keep the playhead in view: it rides at 80 % of the panel once the view is full."""
        if not self.follow:
            return
        head = self.slot_of_time(self.playhead)
        target = head - 0.8 * self.slots_in_view
        new = min(max(0.0, target), self.max_scroll())
        if abs(new - self.scroll) >= 1.0 / self.pps:
            self.scroll = new
            self.dirty = True

    def zoom(self, factor: float) -> None:
        """Change the pixels per strip (1..32), keeping the playhead in view."""
        new = int(min(32, max(1, round(self.pps * factor) if factor > 1 else self.pps // 2)))
        if new != self.pps:
            self.pps = new
            self.dirty = True
            self._follow()

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
        self.playhead = t
        self.stats.frames_shown += 1
        self.stats.shown.append(self.clock())
        for i in sorted(i for i, s in self._waiting.items() if s.time <= t + 1e-6):
            self._reveal(i)
        self._follow()

    def frames_dropped(self, n: int) -> None:
        self.stats.frames_dropped += n

    def sample_shown(self, slot: int) -> None:
        """The frame a sample was taken from is on screen (for the latency figure)."""
        self._shown_at.setdefault(slot, self.clock())

    def _reveal(self, slot: int) -> None:
        self._waiting.pop(slot, None)
        self.visible.add(slot)
        self.dirty = True

    def presented(self) -> None:
        """The window was flipped. For every sample whose frame is on screen and whose
        strip is too, record the wait from the frame to the strip (the live latency)."""
        now = self.clock()
        shown = [s for s in self._shown_at if s in self.visible and s not in self.provisional]
        for slot in shown:
            self.stats.latencies.append(max(0.0, now - self._shown_at.pop(slot)))

    def seeked(self, t: float) -> None:
        """Playback jumps to ``t``. Strips made ahead of the old position stay waiting;
        they show when playback reaches (or jumps past) their time."""
        self.playhead = t
        self.follow = True
        self._follow()
        self.dirty = True

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

    def panel_pixels(self) -> tuple[NDArray[np.uint8], NDArray[np.bool_], int]:
        """``(height, n, 3)`` columns of the visible slots, their filled mask, first slot."""
        first, last = self.visible_range()
        h = self.layout.panel.h
        n = max(last - first, 0)
        out = np.zeros((h, n, 3), np.uint8)
        filled = np.zeros(n, bool)
        for j, slot in enumerate(range(first, last)):
            col = self.column(slot, h)
            if col is not None:
                out[:, j] = col
                filled[j] = True
        # Keep drawn columns for what is in view only: a long webcam session must grow
        # by its strips alone.
        if len(self._columns) > 2 * n + 64:
            self._columns = {i: c for i, c in self._columns.items() if first <= i < last}
        self.dirty = False
        return out, filled, first

    def ticks(self) -> list[tuple[float, str]]:
        """(x, label) of the time axis ticks inside the panel."""
        p = self.layout.panel
        t0, t1 = self.time_at_x(p.x), self.time_at_x(p.right)
        n = max(2, p.w // 90)
        return [
            (self.x_of_slot(self.slot_of_time(t) + 0.5), describe_time(t))
            for t in nice_ticks(t0, t1, n)
            if p.x <= self.x_of_slot(self.slot_of_time(t) + 0.5) <= p.right
        ]

    def hover_info(
        self, x: int, y: int
    ) -> tuple[str, list[tuple[tuple[int, int, int], float]]] | None:
        """Time and top colours (RGB, share) of the strip under the mouse, if any."""
        if not self.layout.panel.contains(x, y):
            return None
        slot = self.slot_at_x(x)
        s = self.spectrum.get(slot) if slot in self.visible else None
        if s is None:
            return None
        # Near-duplicates merged (OKLab, MERGE_DISTANCE): five distinct colours.
        merged, shares = merge_colours(s.palette, s.counts)
        colours = [
            ((int(c[0]), int(c[1]), int(c[2])), float(share))
            for c, share in zip(merged[:5], shares[:5], strict=True)
        ]
        return describe_time(s.time), colours

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
        if self.paused:
            parts.append("paused")
        if self.ended:
            parts.append("end - Q to quit")
        if self.error:
            parts.append(f"error: {self.error}")
        return "   ".join(parts)


def _rgb(colour: NDArray[np.uint8]) -> tuple[int, int, int]:
    """A palette row as an (r, g, b) tuple of ints."""
    r, g, b = (int(v) for v in colour)
    return r, g, b
