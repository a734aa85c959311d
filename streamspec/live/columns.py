"""The spectrum panel's pixels: every shown strip drawn once as a column at the panel's
height, kept, and gathered into the panel's picture by NumPy indexing alone."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.strip import make_strip
from streamspec.core.options import LookOptions
from streamspec.live.timeline import StripTimeline

__all__ = ["CACHE_BYTES", "PANEL_BG", "ColumnCache", "provisional_look"]

PANEL_BG = (34, 34, 38)  # empty slots
CACHE_BYTES = 192 * 2**20  # the strips' columns kept at the panel's height, at most
LIVE_ROWS = 4096  # a live source's columns kept (its last few thousand strips)


def provisional_look(col: NDArray[np.uint8], slot: int) -> NDArray[np.uint8]:
    """How a provisional strip is drawn: its colours halfway to grey, dimmed, under a
    dark diagonal hatch (rows shift by one per slot), so it never passes for exact."""
    rgb = col.astype(np.float64)
    grey = rgb @ np.array([0.2126, 0.7152, 0.0722])
    out = 0.7 * (0.5 * rgb + 0.5 * grey[:, None])
    hatch = (np.arange(len(col)) + slot) % 8 < 2
    out[hatch] *= 0.45
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class ColumnCache:
    """Every shown strip's column at the panel's height, in one ``(rows, height, 4)``
    array of 32-bit pixels (row 0: the empty-slot colour) with red, green and blue in
    the bytes :attr:`channel_bytes` (the painter's surface's layout, so the picture is
    copied in as it is).

    A slot's row is made again when :meth:`forget` notes that its strip changed (it
    arrived, was replaced or shown); the rows are dropped and refilled when a view needs
    more than fit in :data:`CACHE_BYTES`.
    """

    def __init__(self, timeline: StripTimeline, look: LookOptions) -> None:
        self.timeline = timeline
        self.look = look
        # Where red, green and blue go in a 32-bit pixel (the painter sets its surface's).
        self.channel_bytes: tuple[int, int, int] = (0, 1, 2)
        self.stale: set[int] = set()  # slots whose row must be made again
        self._form: tuple[int, tuple[int, int, int]] = (-1, (0, 1, 2))  # height, RGB bytes
        self._rows = np.zeros((1, 0, 4), np.uint8)
        self._used = 1
        self._row_of = np.full(0, -1, np.int64)  # slot -> row (-1: not looked at yet)
        # Columns asked for one by one (column()), until the rows take them over.
        self._loose: dict[int, NDArray[np.uint8]] = {}
        self._loose_height = 0

    def forget(self, slot: int) -> None:
        """``slot``'s strip changed: make its column again when it is next needed."""
        self._loose.pop(slot, None)
        self.stale.add(slot)

    def column(self, slot: int, height: int) -> NDArray[np.uint8] | None:
        """The strip of a visible slot at ``height`` rows, ``(height, 3)`` RGB (None: the
        slot is empty or not shown yet)."""
        s = self.timeline.strip(slot)
        if s is None:
            return None
        if height != self._loose_height:
            self._loose.clear()
            self._loose_height = height
        col = self._loose.get(slot)
        if col is None:
            look = self.look
            col = make_strip(
                s.palette, s.counts, height, order=look.order, mode=look.mode, column=s.column
            )
            if s.provisional:
                col = provisional_look(col, slot)
            self._loose[slot] = col
        return col

    def pixels(self, taps: NDArray[np.int64], height: int) -> NDArray[np.uint32]:
        """The panel's picture as ``(width, height)`` 32-bit pixels, x first: for each
        pixel column the strip ``taps`` names (one row), or the mean of the strips in
        its column of ``taps`` (several rows; see :meth:`Viewport.taps`)."""
        rows = self._rows_for(taps, height)
        cached = self._rows.view(np.uint32)[:, :, 0]  # (rows, height) pixels
        if len(rows) == 1:
            return np.take(cached, rows[0], axis=0)
        out = np.empty((taps.shape[1], height), np.uint32)
        flat = self._rows.reshape(len(self._rows), -1)  # (rows, 4 height) bytes
        from streamspec.analysis._kernels import (
            mean_rows,  # Numba loads here, not when the model does
        )

        mean_rows(flat, np.array(rows), out.view(np.uint8))
        return out

    def _reset(self, form: tuple[int, tuple[int, int, int]], capacity: int) -> None:
        self._form = form
        self._rows = np.full((capacity, form[0], 4), 255, np.uint8)
        self._rows[0][:, list(form[1])] = PANEL_BG
        self._used = 1
        self._row_of[:] = -1

    def _rows_for(self, taps: NDArray[np.int64], height: int) -> list[Any]:
        """Row indices (one ``(width,)`` array per row of ``taps``) of the slots ``taps``
        names (-1: none), making the rows that are missing or stale."""
        slots = np.unique(taps[taps >= 0])
        need = len(slots) + 1
        top = int(slots[-1]) + 1 if len(slots) else 0
        if top > len(self._row_of):
            grown = np.full(max(top, 2 * len(self._row_of)), -1, np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        form = (height, self.channel_bytes)
        rowless = int(np.count_nonzero(self._row_of[slots] <= 0))  # may need a new row
        if form != self._form or self._used + rowless > len(self._rows):
            # A file's every slot when they fit the budget; a live source's last few thousand.
            timeline = self.timeline
            whole = timeline.total_slots() + 1 if timeline.slots is not None else LIVE_ROWS
            budget = CACHE_BYTES // (max(height, 1) * 4)
            self._reset(form, max(need, min(max(whole, 2 * need), budget)))
        check = slots[self._row_of[slots] < 0].tolist()
        stale = self.stale
        if stale:  # strips arrived, were replaced or shown: those in view
            changed = np.fromiter(stale, np.int64, len(stale))
            check += np.intersect1d(changed, slots[self._row_of[slots] >= 0]).tolist()
            # Every row made now is current; slots out of view stay noted until they
            # come into view (or a reset).
            stale.difference_update(check)
            if len(stale) > 4 * len(self._row_of) + 4096:
                stale.clear()
                self._row_of[:] = -1
        where = list(form[1])
        for s in check:
            col = self.column(s, height)
            self._loose.pop(s, None)  # kept in the rows instead
            if col is None:
                self._row_of[s] = 0
                continue
            r = int(self._row_of[s])
            if r <= 0:
                r, self._used = self._used, self._used + 1
                self._row_of[s] = r
            self._rows[r][:, where] = col
        rows = np.where(taps >= 0, self._row_of[np.maximum(taps, 0)], 0)
        return list(np.maximum(rows, 0))
