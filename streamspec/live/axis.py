"""The live view's time axis: where its ticks go and where their labels sit, at the
finest step of :func:`streamspec.core.timefmt.tick_steps` (the one tick rule every time
axis follows) whose labels fit side by side."""

from __future__ import annotations

from collections.abc import Callable

from streamspec.core.timefmt import describe_time, tick_steps, tick_times
from streamspec.live.layout import Rect
from streamspec.live.viewport import Viewport

__all__ = ["LABEL_GAP", "AxisLabel", "TimeAxis", "estimated_width"]

LABEL_GAP = 8.0  # pixels between time labels at least

# (tick x, label, label's left x), in window pixels.
AxisLabel = tuple[float, str, float]


def estimated_width(text: str) -> float:
    """A label's width in pixels before the painter gives its font's (wider than most)."""
    return 8.0 * len(text)


class TimeAxis:
    """The axis labels of a :class:`~streamspec.live.viewport.Viewport`, measured with
    :attr:`text_width` and kept until the view changes."""

    def __init__(self, text_width: Callable[[str], float] | None = None) -> None:
        self._text_width = text_width or estimated_width
        self._labels: tuple[object, list[AxisLabel]] | None = None

    @property
    def text_width(self) -> Callable[[str], float]:
        """A label's width in pixels (the painter gives its font's)."""
        return self._text_width

    @text_width.setter
    def text_width(self, measure: Callable[[str], float]) -> None:
        self._text_width = measure
        self._labels = None  # measured again with the new font

    def labels(self, view: Viewport, axis: Rect) -> list[AxisLabel]:
        """``(tick x, label, label left x)`` along ``axis``: the finest nice step whose
        labels fit side by side within it, never touching."""
        key = (axis, view.pps, view.scroll, view.timeline.total_slots())
        if self._labels is not None and self._labels[0] == key:
            return self._labels[1]
        labels = self._place(view, axis)
        self._labels = (key, labels)
        return labels

    def _place(self, view: Viewport, a: Rect) -> list[AxisLabel]:
        grid = view.timeline.grid
        t0 = max(view.time_at_x(a.x), grid.start)
        t1 = min(view.time_at_x(a.right), view.timeline.end_time())
        if t1 < t0:
            return []
        # Labels are about equally wide: steps narrower than the widest cannot fit.
        widest = max(self._text_width(describe_time(t)) for t in (t0, t1))
        px_per_s = view.pps / grid.step
        for step in tick_steps((0.9 * widest + LABEL_GAP) / px_per_s):
            placed = self._at_step(view, a, t0, t1, step)
            if placed is not None:
                return placed
            if step > t1 - t0:
                # One tick at most, and it did not fit: its label is wider than the axis,
                # and any coarser step's would be too.
                return []
        return []  # (not reached: the steps have no end)

    def _at_step(
        self, view: Viewport, a: Rect, t0: float, t1: float, step: float
    ) -> list[AxisLabel] | None:
        """The labels every ``step`` seconds, or None if two of them would touch."""
        out: list[AxisLabel] = []
        right = -float("inf")
        for t in tick_times(t0, t1, step):
            x = view.x_of_time(t)
            if not a.x <= x <= a.right:
                continue
            label = describe_time(t)
            w = self._text_width(label)
            left = min(max(x - w / 2, a.x), a.right - w)
            if left < a.x or left < right + LABEL_GAP:
                return None
            out.append((x, label, left))
            right = left + w
        return out
