"""The part of the timeline the spectrum panel shows, and the maths between time,
slots and window x.

The view is a zoom (``pps``: pixels per strip, fractional) and a scroll (``scroll``:
the column at the panel's left edge, in strips). A file opens *fitted* -- the whole film
across the panel -- and stays fitted through resizes until the viewer zooms or pans; a
live source (no end to fit) scrolls at :data:`LIVE_PPS`. While *following*, the view
keeps the playhead in sight. Columns are :mod:`streamspec.core.grid`'s: time is linear in
them, slot ``i`` spans columns ``[i, i + 1)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from streamspec.core.limits import MAX_ZOOM
from streamspec.live.layout import Rect
from streamspec.live.timeline import StripTimeline

__all__ = ["LIVE_PPS", "MAX_PPS", "MAX_TAPS", "Viewport"]

MAX_PPS = float(MAX_ZOOM)  # the closest zoom, pixels per strip
LIVE_PPS = 3.0  # a live source's default zoom (its timeline has no end to fit)
MAX_TAPS = 8  # strips averaged into one pixel column at most (spread over its span)
FOLLOW_AT = 0.8  # where in the panel the followed playhead rides


class Viewport:
    """The panel's window onto ``timeline``: zoom, scroll, fit and follow, and the
    mapping between window x, columns, slots and times.

    ``pixels_per_strip`` is ``"fit"`` (a file: the whole film; live: the default zoom)
    or a number. Methods that keep the playhead in sight take it as an argument.
    """

    def __init__(
        self, timeline: StripTimeline, panel: Rect, pixels_per_strip: float | str = "fit"
    ) -> None:
        self.timeline = timeline
        self.panel = panel
        # A file opens fitted (the whole film across the panel); a live source scrolls.
        self.fit = pixels_per_strip == "fit" and not timeline.live
        self.pps = LIVE_PPS if pixels_per_strip == "fit" else float(pixels_per_strip)
        self.scroll = 0.0  # the column at the panel's left edge (fractional slots)
        self.follow = True  # the view keeps the playhead in sight (until the user pans away)
        if self.fit:  # (a zoom asked for is clamped once the window's size is known)
            self.pps = self.fit_pps()

    # -- limits -------------------------------------------------------------------------------
    @property
    def slots_in_view(self) -> float:
        """How many strips the panel spans at this zoom."""
        return self.panel.w / self.pps

    def fit_pps(self) -> float:
        """Pixels per strip with the whole film across the panel (live: the default)."""
        slots = self.timeline.slots
        if slots is None:
            return LIVE_PPS
        return self.panel.w / max(slots, 1)

    def min_pps(self) -> float:
        """The farthest zoom: fitted (live: one pixel per strip)."""
        return 1.0 if self.timeline.slots is None else self.fit_pps()

    def max_pps(self) -> float:
        """The closest zoom: :data:`MAX_PPS` (or fitted, for a film of very few strips)."""
        return max(MAX_PPS, self.min_pps())

    def max_scroll(self) -> float:
        """The farthest scroll: the timeline's end at the panel's right edge."""
        return max(0.0, self.timeline.total_slots() - self.slots_in_view)

    # -- time, slots and x -----------------------------------------------------------------------
    def slot_of_time(self, t: float) -> float:
        """Fractional slot whose sample time is ``t``."""
        return self.timeline.grid.slot(t)

    def x_of_slot(self, column: float) -> float:
        """Window x of a column coordinate (strips from slot 0's left edge; time is
        linear in columns, see :mod:`streamspec.core.grid`)."""
        return self.panel.x + (column - self.scroll) * self.pps

    def column_at_x(self, x: float) -> float:
        """The column coordinate under window x (the inverse of :meth:`x_of_slot`)."""
        return self.scroll + (x - self.panel.x) / self.pps

    def slot_at_x(self, x: float) -> int:
        """The slot drawn under window x (may be outside the timeline)."""
        return math.floor(self.column_at_x(x))

    def x_of_time(self, t: float) -> float:
        """Window x of time ``t``."""
        return self.x_of_slot(self.timeline.grid.column_of_time(t))

    def time_at_x(self, x: float) -> float:
        """Time under window x in the spectrum panel (clamped to the film)."""
        grid = self.timeline.grid
        t = max(grid.start, grid.time_of_column(self.column_at_x(x)))
        duration = self.timeline.duration
        return t if duration is None else min(t, duration)

    def in_view(self, t: float) -> bool:
        """Whether time ``t`` lies within the panel, edges included."""
        return self.panel.x <= self.x_of_time(t) <= self.panel.right

    def visible_range(self) -> tuple[int, int]:
        """Slots ``[first, last)`` that intersect the panel."""
        first = math.floor(self.scroll)
        last = math.ceil(self.scroll + self.slots_in_view) + 1
        slots = self.timeline.slots
        if slots is not None:
            last = min(last, slots)
        return max(first, 0), max(last, first)

    def taps(self) -> NDArray[np.int64]:
        """``(m, width)``: the slots whose strips make each pixel column of the panel
        (-1: outside the timeline). One row -- the slot under each pixel's centre -- down
        to 1 pixel per strip; below that, ``m`` (up to :data:`MAX_TAPS`) points spread
        evenly over each pixel's span, to be averaged (an area average, supersampled, so
        the fitted film reads like the rendered picture scaled down and nothing flickers
        when the view moves)."""
        m = min(max(math.ceil(1.0 / self.pps - 1e-9), 1), MAX_TAPS)
        left = np.arange(self.panel.w, dtype=np.float64) / self.pps + self.scroll
        at = (np.arange(m, dtype=np.float64) + 0.5) / (m * self.pps)
        taps = np.floor(left[None] + at[:, None]).astype(np.int64)
        taps[(taps < 0) | (taps >= self.timeline.total_slots())] = -1
        return taps

    # -- changes of view ------------------------------------------------------------------------
    def resize(self, panel: Rect, playhead: float) -> None:
        """The panel moved or changed size (a fitted view stays fitted)."""
        self.panel = panel
        self.settle(playhead)

    def clamp(self) -> None:
        """Zoom and scroll within their limits (fit: the whole film, from its start)."""
        lo, hi = self.min_pps(), self.max_pps()
        bounded = self.timeline.slots is not None
        if self.fit and bounded:
            self.pps = lo
        self.pps = min(max(self.pps, lo), hi)
        if bounded and self.pps <= lo * (1 + 1e-9):
            self.fit, self.pps = True, lo
        self.scroll = 0.0 if self.fit else min(max(self.scroll, 0.0), self.max_scroll())

    def settle(self, playhead: float) -> None:
        """After a change of size, zoom or scroll: clamp, then follow the playhead."""
        self.clamp()
        self.keep_in_sight(playhead)

    def keep_in_sight(self, playhead: float, moved: float = 0.0) -> None:
        """Keep the playhead in view while following. Once it leaves the view it is
        brought back at 80 % of the panel; past 80 % the view rides with it (``moved``:
        columns played since the last frame), easing back to 80 % if it is further right."""
        if not self.follow or self.fit:
            return
        view = self.slots_in_view
        pos = self.timeline.grid.column_of_time(playhead) - self.scroll
        if pos < 0 or pos > view:
            target = self.scroll + pos - FOLLOW_AT * view
        elif moved > 0 and pos > FOLLOW_AT * view:
            target = self.scroll + moved + min(pos - FOLLOW_AT * view, 0.5 * moved)
        else:
            return
        self.scroll = min(max(0.0, target), self.max_scroll())

    def zoom(self, factor: float, x: float | None, playhead: float) -> None:
        """Zoom by ``factor`` (fit .. 32 px per strip) around window ``x``: the column under
        it stays under it. Without ``x``, around the playhead (or the panel's middle when
        the playhead is out of view). Zooming the playhead out of view stops following."""
        p = self.panel
        if x is None:
            x = self.x_of_time(playhead) if self.in_view(playhead) else p.x + p.w / 2
            self.follow = True
        column = self.column_at_x(x)
        self.fit = False
        self.pps = min(max(self.pps * factor, self.min_pps()), self.max_pps())
        self.scroll = column - (x - p.x) / self.pps
        self.clamp()
        self.follow = self.follow and self.in_view(playhead)
        self.keep_in_sight(playhead)

    def pan(self, dx: float, playhead: float) -> None:
        """Move the view by ``dx`` window pixels (right: back in time, as when dragging).
        Panning the playhead out of view stops following; back into view, resumes it."""
        if self.fit and self.max_scroll() == 0:
            return
        self.fit = False
        self.scroll -= dx / self.pps
        self.clamp()
        self.follow = self.in_view(playhead)

    def fit_view(self, playhead: float) -> None:
        """The whole film across the panel, following again (Ctrl+0, Z, double-click).
        A live source returns to its default zoom at the newest strips."""
        self.follow = True
        if self.timeline.slots is None:
            self.pps = LIVE_PPS
            self.scroll = self.max_scroll()
        else:
            self.fit = True
        self.settle(playhead)
