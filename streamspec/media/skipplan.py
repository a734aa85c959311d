"""Fast mode's skip plan: what the decoder may skip for each packet.

Between samples, ``fast`` mode skips non-reference frames, and whole GOPs when the next
sample lies at or after the next keyframe; it decodes fully from one packet ahead of each
sample time. :class:`LookAhead` reads packets ahead to find the next keyframe's
presentation time; :class:`SkipPlan` decides, packet by packet. Pure logic over packet
objects (``pts``, ``dts``, ``size``, ``is_keyframe``): no PyAV import.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Generator
from typing import Any, Literal

__all__ = ["EPS", "LookAhead", "Skip", "SkipPlan"]

EPS = 1e-6
# The values of the decoder's skip_frame that fast mode uses (see SkipPlan).
Skip = Literal["NONE", "NONREF", "ALL"]


class LookAhead:
    """The packets of a pass, read ahead on demand as far as the next keyframe.

    ``fast`` mode needs to know when the next keyframe is presented to skip the rest
    of a GOP. Container indexes cannot say: MP4's holds decoding times, and with an
    open GOP a keyframe is presented several frames after its decoding time; MPEG-TS
    and raw streams have none; Matroska's cues may list only a few. The packets
    themselves can: they are read ahead (at most ``MAX_PACKETS`` packets or
    ``MAX_BYTES`` bytes, then the answer is "unknown") and handed out in order.
    """

    MAX_PACKETS = 4096
    MAX_BYTES = 128 << 20

    def __init__(self, packets: Generator[Any, None, None], when: Callable[[Any], float | None]):
        self._packets = packets
        self._when = when
        self._buf: collections.deque[Any] = collections.deque()
        self._bytes = 0
        self._scanned = 0  # packets of the buffer known not to be keyframes
        self._key: float | None = None  # the next keyframe's time, once found
        self._at_end = False

    def __iter__(self) -> LookAhead:
        return self

    def __next__(self) -> Any:
        if self._buf:
            packet = self._buf.popleft()
            self._bytes -= packet.size
            if self._scanned:
                self._scanned -= 1
            else:  # that was the keyframe found: look for the next one
                self._key = None
            return packet
        self._key = None
        return next(self._packets)

    def close(self) -> None:
        """End the pass: the packets read ahead are dropped."""
        self._buf.clear()
        self._bytes = self._scanned = 0
        self._key = None
        self._packets.close()

    def next_key(self) -> float | None:
        """When the first keyframe after the packet last handed out is presented (s):
        ``inf`` when the stream ends first, None when that is not known (too far ahead,
        or a keyframe without timestamps)."""
        if self._key is not None:
            return self._key
        buf = self._buf
        while True:
            while self._scanned < len(buf):
                packet = buf[self._scanned]
                if packet.is_keyframe and packet.size:
                    t = self._when(packet)
                    if t is not None:
                        self._key = t
                    return t
                self._scanned += 1
            if self._at_end:
                return math.inf
            if len(buf) >= self.MAX_PACKETS or self._bytes >= self.MAX_BYTES:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self._at_end = True
                continue
            buf.append(packet)
            self._bytes += packet.size


class SkipPlan:
    """What the decoder may skip for each packet in ``fast`` mode.

    The decision is made when a packet goes in; a frame-threaded decoder gives frames
    back several packets later, so a packet is judged against every sample still to
    come, not only the one being waited for. ``NONE`` for packets that may hold a
    sample itself -- presented at a sample time or within ``window`` after it (the
    first frame there is the one ``exact`` mode takes; the frames it is predicted from
    are reference frames, decoded anyway); ``ALL`` for the rest of a GOP when the next
    sample is presented at or after the next keyframe (decoding restarts there, and no
    frame decoded before a keyframe is presented after it); ``NONREF`` otherwise
    (only frames that later frames depend on).
    """

    def __init__(self, packets: LookAhead, window: float) -> None:
        self.packets = packets
        self.window = window

    def decide(self, t: float | None, next_target: Callable[[float], float | None]) -> Skip:
        if t is None:
            return "NONE"
        first = next_target(t - self.window - EPS)
        if first is not None and first <= t + EPS:
            return "NONE"
        nxt = next_target(-math.inf)
        if nxt is not None and nxt >= t:
            key = self.packets.next_key()
            if key is not None and nxt >= key - EPS:
                return "ALL"
        return "NONREF"
