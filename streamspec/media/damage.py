"""Damage counting: packets a damaged container lost without any error.

Pure logic over packet timestamps (no PyAV import); :class:`~.pyav.AVSource` feeds it
the timestamps of the packets a pass reads one after the other.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter

__all__ = ["GapCounter"]


class GapCounter:
    """Counts packets missing from a constant-frame-rate stream.

    A damaged container often loses packets without any error: the demuxer just
    resynchronises further on. Packet timestamps (sorted through a small reorder buffer,
    as B-frames arrive out of order) then jump by a whole number of frame durations.

    Only steps between packets read one after the other count: a seek restarts the
    count and drops the buffer (the packets that would fill its holes were never read),
    and the buffer is drained only at the end of the stream, when it is complete. A
    stretch read twice (opening reads ahead, then the first pass seeks back to the
    start) is counted once.

    Gaps only count on a constant-rate grid: at least 90 % of the steps are one frame
    (give or take the time base's rounding) and every other step is a whole number of
    frames. Any step off that grid means a variable frame rate: then nothing is
    reported, as timestamps alone cannot tell a held frame from a lost one.
    """

    DEPTH = 16

    def __init__(self) -> None:
        self.steps: Counter[int] = Counter()
        self.heap: list[int] = []
        self.first: int | None = None  # the stretch counted since the last seek
        self.last: int | None = None
        self.spans: list[tuple[int, int]] = []  # stretches counted before, sorted, disjoint

    def restart(self) -> None:
        """After a seek, timestamps are not continuous."""
        if self.first is not None and self.last is not None and self.last > self.first:
            self._remember(self.first, self.last)
        self.heap.clear()
        self.first = self.last = None

    def _remember(self, lo: int, hi: int) -> None:
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self.spans, (lo, hi)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.spans = merged

    def _counted_before(self, lo: int, hi: int) -> bool:
        i = bisect.bisect_right(self.spans, (lo, math.inf)) - 1
        return i >= 0 and self.spans[i][1] >= hi

    def add(self, pts: int) -> None:
        heapq.heappush(self.heap, pts)
        if len(self.heap) > self.DEPTH:
            self._step(heapq.heappop(self.heap))

    def finish(self) -> None:
        """At the end of the stream: every packet was read, the buffer is complete."""
        while self.heap:
            self._step(heapq.heappop(self.heap))

    def _step(self, pts: int) -> None:
        if self.last is None:
            self.first = self.last = pts
            return
        if pts > self.last and not self._counted_before(self.last, pts):
            self.steps[pts - self.last] += 1
        self.last = max(self.last, pts)

    def missing(self) -> int:
        steps = self.steps
        total = sum(steps.values())
        if total < 10:
            return 0
        mode = max(steps, key=lambda step: (steps[step], -step))  # the commonest step
        # Timestamps rounded to the time base make one frame vary by a tick (29.97 fps in
        # 1/1000 s: 33 and 34 ms); with at least 10 ticks a frame, that is no lost frame.
        slack = max(mode // 50, 1 if mode >= 10 else 0)
        frame = {step: n for step, n in steps.items() if abs(step - mode) <= slack}
        regular = sum(frame.values())
        if regular < 0.9 * total:
            return 0
        unit = sum(step * n for step, n in frame.items()) / regular
        lost = 0
        for step, n in steps.items():
            if step in frame:
                continue
            k = round(step / unit)
            if k < 2 or abs(step - k * unit) > slack + 0.002 * step:
                return 0  # not a whole number of frames: a variable frame rate
            lost += (k - 1) * n
        return lost
