"""The live view's timeline: the film's slots and the strips in them, and which of
those strips the viewer can see yet.

A strip arrives from the worker (usually ahead of the picture) and shows when
playback reaches its time, so the spectrum builds in step with the video; once shown
it stays, so the spectrum fills in wherever the viewer seeks. A provisional strip (the
whole film's quick first pass) shows at once, until the exact one replaces it.
"""

from __future__ import annotations

from typing import Literal

from streamspec.core.grid import SlotGrid
from streamspec.outputs.spectrum import Spectrum, Strip

__all__ = ["Arrival", "StripTimeline"]

# What became of an arriving strip: it shows now (or replaced one already shown), it
# waits for playback to reach its time, or nothing changed (a provisional strip after
# the exact one).
Arrival = Literal["shown", "waiting", "ignored"]


class StripTimeline:
    """The slots of a film (or of a live source, growing) and the strips in them.

    ``visible`` holds the slots the viewer sees; ``provisional`` those of them showing a
    provisional strip. ``duration`` is the film's (None: a live source, without end).
    """

    def __init__(self, spectrum: Spectrum, duration: float | None, live: bool = False) -> None:
        self.spectrum = spectrum
        self.duration = duration
        self.live = live
        self.visible: set[int] = set()
        self.provisional: set[int] = set()  # slots showing a provisional strip
        self._waiting: dict[int, Strip] = {}  # arrived, not yet due
        self._grid: SlotGrid | None = None
        self._newest = (0, 0)  # (visible slots, the last of them)

    @property
    def slots(self) -> int | None:
        """The slots planned (None: a live source's open-ended timeline)."""
        return self.spectrum.slots

    @property
    def grid(self) -> SlotGrid:
        """The slot grid (slot <-> time), made again only when the slots change."""
        spec = self.spectrum
        grid = self._grid
        if grid is None or grid.slots != spec.slots:  # (the settings never change)
            grid = self._grid = spec.grid
        return grid

    def total_slots(self) -> int:
        """Slots the timeline spans: the plan, or (live) up to the newest strip."""
        return self.slots if self.slots is not None else self.last_slot() + 1

    def last_slot(self) -> int:
        """The newest visible slot (0 before any)."""
        # Slots are only ever added to the visible set: its size tells when to look again.
        n = len(self.visible)
        if self._newest[0] != n:
            self._newest = (n, max(self.visible) if self.visible else 0)
        return self._newest[1]

    def end_time(self) -> float:
        """Where the timeline ends: the film's end, or (live) the newest slot's start."""
        if self.duration is not None:
            return self.duration
        return self.grid.span(self.total_slots())[0]

    def arrive(self, strip: Strip, playhead: float) -> Arrival:
        """A strip arrived with playback at ``playhead``: put it in its slot and say
        whether it shows now, waits for playback, or changed nothing."""
        if not self.spectrum.add(strip):
            return "ignored"  # a provisional strip after the exact one
        if strip.provisional:
            self.provisional.add(strip.index)
        else:
            self.provisional.discard(strip.index)
        if strip.index in self.visible:
            return "shown"
        if self.live or strip.provisional or strip.time <= playhead + 1e-6:
            self.reveal(strip.index)
            return "shown"
        self._waiting[strip.index] = strip
        return "waiting"

    def reach(self, t: float) -> list[int]:
        """Playback reached (or jumped past) time ``t``: show the strips waiting for it.
        Returns their slots, in order."""
        due = sorted(i for i, s in self._waiting.items() if s.time <= t + 1e-6)
        for i in due:
            self.reveal(i)
        return due

    def reveal(self, slot: int) -> None:
        """Show ``slot``'s strip from now on."""
        self._waiting.pop(slot, None)
        self.visible.add(slot)

    def strip(self, slot: int) -> Strip | None:
        """The strip the viewer sees in ``slot`` (None: empty, or not shown yet)."""
        return self.spectrum.get(slot) if slot in self.visible else None

    def snapshot(self) -> list[Strip]:
        """The strips on screen, in slot order (the spectrum grows meanwhile, so work on
        another thread reads this list)."""
        spec = self.spectrum
        return [s for i in sorted(self.visible) if (s := spec.get(i)) is not None]
