"""The slot grid: which time each strip of a spectrum stands for, both ways.

Slot ``i`` is sampled at ``start + (i + offset) * step``. ``offset`` is 0 for
``--every`` (a sample at the start of each step) and 0.5 for ``--strips`` (a sample at
the centre of each of N equal slots). Slot ``i`` stands for the half-open time span
``[start + i * step, start + (i + 1) * step)``, so N slots cover ``start`` to
``start + N * step`` -- the film, from its first frame to its end -- and drawn as
columns, time maps to pixels linearly: column ``(t - start) / step``. A slot's sample
time sits at ``offset`` of its column (its left edge for ``--every``, its centre for
``--strips``). Everything that maps between slots, times and pixels -- the spectrum
image, annotations, the live view, the sampler -- goes through here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from streamspec.core.errors import InputError

__all__ = ["SlotGrid"]

_EPS = 1e-6


def _tolerance(step: float) -> float:
    """How close to the end a sample time counts as at the end: timestamp rounding
    (1 us), or less for steps so small that 1 us matters."""
    return min(_EPS, step * 1e-3)


@dataclass(frozen=True)
class SlotGrid:
    """``slots`` samples (None: open-ended, e.g. a webcam) from ``start`` every ``step`` s."""

    start: float
    step: float
    offset: float = 0.0
    slots: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.step) and self.step > 0):
            raise InputError(f"the slot step must be a positive number of seconds, got {self.step}")
        if not 0.0 <= self.offset < 1.0:
            raise InputError(f"the slot offset must be from 0 to below 1, got {self.offset}")

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def every(cls, start: float, step: float, end: float | None) -> SlotGrid:
        """A sample every ``step`` s from ``start``; up to ``end`` (open-ended if None).

        A sample within a hair (:func:`_tolerance`) of ``end`` is not taken: its frame
        would be the one after the end.
        """
        if end is None:
            return cls(start, step, 0.0, None)
        tol = _tolerance(step)
        slots = max(1, math.ceil((end - tol - start) / step))
        # Rounding in the division must not disagree with times(): count them the same way.
        while slots > 1 and start + (slots - 1) * step >= end - tol:
            slots -= 1
        while start + slots * step < end - tol:
            slots += 1
        return cls(start, step, 0.0, slots)

    @classmethod
    def spread(cls, start: float, end: float, count: int) -> SlotGrid:
        """``count`` samples at the centres of equal slots of ``[start, end)``."""
        return cls(start, (end - start) / count, 0.5, count)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], slots: int | None = None) -> SlotGrid:
        """The grid a spectrum's saved settings describe."""
        return cls(
            float(settings.get("start", 0.0)),
            float(settings.get("step", 1.0)),
            float(settings.get("offset", 0.0)),
            slots,
        )

    # -- slot <-> time ----------------------------------------------------------------------
    def time(self, slot: float) -> float:
        """Sample time (s) of ``slot``; fractional slots interpolate."""
        return self.start + (slot + self.offset) * self.step

    def slot(self, t: float) -> float:
        """Fractional slot whose sample time is ``t`` (the inverse of :meth:`time`)."""
        return (t - self.start) / self.step - self.offset

    def slot_containing(self, t: float) -> int:
        """The slot whose span holds ``t`` (a sample time on a slot's left edge, give or
        take rounding, is that slot's)."""
        return math.floor(self.column_of_time(t) + _EPS)

    def first_slot_from(self, t: float) -> int:
        """The first slot sampled at or after ``t``."""
        return max(0, math.ceil(self.slot(t) - _EPS))

    def span(self, slot: float) -> tuple[float, float]:
        """The times a slot stands for: from its start to the next slot's."""
        edge = self.time_of_column(slot)
        return edge, edge + self.step

    def times(self, first: int = 0, end: float | None = None) -> Iterator[tuple[int, float]]:
        """``(slot, sample time)`` from slot ``first`` on, while before ``end`` (and within
        ``slots``); endless for an open-ended grid with no ``end``."""
        i = max(0, first)
        tol = _tolerance(self.step)
        while self.slots is None or i < self.slots:
            t = self.time(i)
            if end is not None and t >= end - tol:
                return
            yield i, t
            i += 1

    # -- slot <-> column ----------------------------------------------------------------------
    def column_of_slot(self, slot: float) -> float:
        """The column coordinate (in strips from slot 0's left edge) of a slot's sample
        time: ``offset`` into its column."""
        return slot + self.offset

    def slot_of_column(self, column: float) -> float:
        """The fractional slot at a column coordinate (the inverse of
        :meth:`column_of_slot`)."""
        return column - self.offset

    def time_of_column(self, column: float) -> float:
        """The time at a column coordinate: linear, ``start`` at column 0."""
        return self.start + column * self.step

    def column_of_time(self, t: float) -> float:
        """The column coordinate of time ``t`` (the inverse of :meth:`time_of_column`)."""
        return (t - self.start) / self.step

    # -- a picture of the grid ------------------------------------------------------------------
    def x_of_time(self, t: float, strip_width: int = 1) -> float:
        """The pixel x of time ``t`` in a picture of this grid, ``strip_width`` px a slot:
        linear, slot i covering the columns ``[i, i + 1)`` and the times ``[start + i step,
        ... + step)``. What the bands under a spectrum, a comparison and a page align by."""
        return self.column_of_time(t) * strip_width

    def picture_end(self, slots: int, film_end: float | None = None) -> float:
        """Where a picture of ``slots`` slots ends in time: the last slot's end, or the
        film's end if that is sooner (the last slot of a 10.5-s film sampled every 2 s
        stands for 10-10.5 s)."""
        if not slots:
            return self.start
        first, end = self.span(slots - 1)
        if isinstance(film_end, (int, float)) and first < film_end < end:
            end = float(film_end)  # (a NaN fails the comparison)
        return end
