"""The live window's media clock: which time of the film should be on screen now.

Two masters, as in ffplay and mpv. Without sound, :class:`MediaClock` runs on the wall
clock (times the speed, frozen while paused). With sound, :class:`AudioTimeline` says
which media time is being *heard*: the audio callback reports what it handed the device
and when, and the time in between is interpolated -- so the pictures follow the sound.

Pure Python (no pygame, no PyAV), with the time source injected, so every rule here is
tested without a window, a device or a wall-clock limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SPEEDS", "AudioTimeline", "MediaClock", "next_speed"]

# The speeds ``[`` and ``]`` step through (FFmpeg's atempo takes 0.5 - 2.0 in one pass).
SPEEDS: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def next_speed(speed: float, step: int) -> float:
    """The speed one ``step`` (+1 faster, -1 slower) from ``speed`` in :data:`SPEEDS`."""
    if step > 0:
        return next((s for s in SPEEDS if s > speed + 1e-9), SPEEDS[-1])
    return next((s for s in reversed(SPEEDS) if s < speed - 1e-9), SPEEDS[0])


class MediaClock:
    """The video clock: media time from the wall clock, with speed and pause.

    It is *started* by the first picture of a run (at the start, after a seek, after a
    resume) and then runs at ``speed`` media seconds per wall second.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.speed = 1.0
        self.paused = False
        self._base: tuple[float, float] | None = None  # (wall time, media time)

    @property
    def started(self) -> bool:
        return self._base is not None

    def start(self, t: float) -> None:
        """The picture at ``t`` is shown first: the clock runs from it."""
        self._base = (self.now(), t)

    def time(self) -> float | None:
        """The media time now (None before the first picture of a run)."""
        if self._base is None:
            return None
        wall, media = self._base
        return media + (self.now() - wall) * self.speed

    def hold(self, t: float) -> None:
        """The decoder is behind: do not run past ``t``, so the pictures that arrive next
        are shown rather than dropped as late."""
        now = self.time()
        if now is not None and now > t:
            self._base = (self.now(), t)

    def seek(self, t: float) -> None:
        """Playback jumps to ``t``: the next picture restarts the clock."""
        self._base = None

    def set_paused(self, paused: bool) -> None:
        """Pause or resume; on resume the picture on screen restarts the clock."""
        self.paused = paused
        self._base = None

    def set_speed(self, speed: float) -> None:
        """Change the speed without a jump in media time."""
        now = self.time()
        self.speed = float(speed)
        if now is not None:
            self._base = (self.now(), now)


@dataclass(frozen=True)
class _Delivery:
    wall: float  # when the callback handed the chunk to the device
    media: float  # media time of its first sample
    real: float  # seconds (of device time) of film audio in it; the rest was silence
    tempo: float  # media seconds per device second


class AudioTimeline:
    """The audio clock: the media time of the sample being heard now.

    The audio callback calls :meth:`delivered` with its wall time, the media time of
    the first sample it handed over, how much of the chunk was film audio, and the tempo.
    A chunk handed over at wall time ``w`` is heard from ``w + latency`` (``latency`` is
    the device's own buffering: none for SDL's disk driver, which writes each chunk as it
    gets it; ffplay's two buffers for a sound card). Between callbacks the time advances
    smoothly; past the end of the film audio handed over (an underrun) it waits, unless
    the audio is ``drained`` (its end, or a decoding failure), when it runs on with the
    wall clock so the pictures go on. Thread-safe: the callback runs in SDL's thread.
    """

    def __init__(self, latency: float = 0.0, now: Callable[[], float] = time.monotonic) -> None:
        self.latency = latency
        self.now = now
        self._lock = threading.Lock()
        self._log: deque[_Delivery] = deque(maxlen=16)
        self._anchor = 0.0  # media time while nothing was delivered since reset
        self._anchor_wall: float | None = None  # when the anchor began to run
        self._frozen: float | None = None  # paused at this media time
        self.drained = False
        self.speed = 1.0

    def reset(self, t: float, running: bool = False) -> None:
        """Start over at media time ``t`` (a seek, a speed change): held there until
        audio is delivered (or, if ``running`` and drained, running from now)."""
        with self._lock:
            self._log.clear()
            self._anchor = t
            self._anchor_wall = self.now() if running else None
            self._frozen = None
            self.drained = False

    def run(self) -> None:
        """Playback is released (the first picture is up): a drained clock runs from now."""
        with self._lock:
            if self._anchor_wall is None:
                self._anchor_wall = self.now()

    def delivered(self, wall: float, media: float, real: float, tempo: float) -> None:
        """The callback handed the device film audio from ``media`` at ``wall``."""
        with self._lock:
            self._log.append(_Delivery(wall, media, real, tempo))

    def pause(self) -> None:
        """Freeze at the time heard now."""
        t = self.time()
        with self._lock:
            self._frozen = t

    def resume(self) -> None:
        """Go on from where it was paused; what comes next restarts the interpolation."""
        t = self._frozen if self._frozen is not None else self.time()
        self.reset(t, running=True)

    @property
    def paused(self) -> bool:
        return self._frozen is not None

    def time(self, wall: float | None = None) -> float:
        """The media time heard at ``wall`` (default: now)."""
        w = self.now() if wall is None else wall
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            heard = w - self.latency
            last = None
            for d in reversed(self._log):
                if d.wall <= heard:
                    last = d
                    break
            if last is None:
                if self._log:  # the first chunk is still in the device's buffer
                    return self._log[0].media
                if self.drained and self._anchor_wall is not None:
                    return self._anchor + max(0.0, w - self._anchor_wall) * self.speed
                return self._anchor
            elapsed = heard - last.wall
            newest = last is self._log[-1]
            if not (self.drained and newest):
                elapsed = min(elapsed, last.real)  # an underrun: wait for the audio
            return last.media + elapsed * last.tempo
