"""The live view's playback state -- the playhead, paused or ended, speed and sound --
where the seek keys go, and the throttle that keeps seeks within what the decoder can
follow. Plain state: the window changes it, the model and the painter read it."""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_FRAME_TIME", "Playback", "SeekThrottle", "frame_time_of"]

DEFAULT_FRAME_TIME = 0.04  # s: one frame at 25 fps, for a source that does not say
END_MARGIN = 0.05  # s: how near the end a seek may go


def frame_time_of(fps: float | None) -> float:
    """One frame's duration (s) at ``fps``; :data:`DEFAULT_FRAME_TIME` when the rate is
    unknown or implausible."""
    return 1.0 / fps if fps and 0 < fps <= 1000 else DEFAULT_FRAME_TIME


@dataclass
class Playback:
    """Where playback is and how it runs.

    ``start`` and ``duration`` are the film's (``duration`` None: a live source);
    ``frame_time`` is one frame's duration (the frame step, and how near the end End
    goes).
    """

    start: float
    duration: float | None
    frame_time: float = DEFAULT_FRAME_TIME
    playhead: float = 0.0  # the time of the picture on screen
    paused: bool = False
    ended: bool = False
    error: str | None = None  # the worker's, shown until the window closes
    speed: float = 1.0
    volume: int | None = None  # percent; None: no sound
    muted: bool = False

    @property
    def last_moment(self) -> float:
        """The time End goes to: a few frames before the end of the film."""
        if self.duration is None:
            return self.playhead
        return max(self.start, self.duration - 3 * self.frame_time)

    def clamp_time(self, t: float) -> float:
        """``t`` kept inside the film (up to 50 ms before its end)."""
        end = self.duration if self.duration is not None else t
        return min(max(t, self.start), max(end - END_MARGIN, self.start))

    def time_at_fraction(self, fraction: float) -> float:
        """The time ``fraction`` (0..1) of the way through the film (digits 0-9)."""
        if self.duration is None:
            return self.playhead
        span = self.duration - self.start
        return self.clamp_time(self.start + min(max(fraction, 0.0), 1.0) * span)


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
        """Whether a seek was issued and its first picture has not arrived yet."""
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
