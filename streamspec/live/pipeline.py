"""The live view's worker: decode, sample, quantize -- in a thread of its own.

The UI thread never waits on it. Frames for display go through a small bounded queue;
strips and status messages through another. For a file, a full display queue makes the
worker wait (samples are never dropped); for a live source the oldest waiting picture
is dropped instead, so the camera is never held up. Seeking bumps a generation number:
everything from an older generation is ignored by the UI.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core._threads import put_until
from streamspec.media import Frame
from streamspec.outputs.spectrum import Strip
from streamspec.pipeline.sampling import Sample, Sampler, StripMaker

__all__ = ["DisplayFrame", "Ended", "Failed", "Pipeline", "StripReady"]


@dataclass
class DisplayFrame:
    generation: int
    time: float
    rgb: NDArray[np.uint8]
    samples: tuple[int, ...]  # slots sampled from this frame


@dataclass
class StripReady:
    generation: int
    strip: Strip
    quantize_ms: float | None  # None: not playback's (the fill worker's)


@dataclass
class Ended:
    generation: int


@dataclass
class Failed:
    generation: int
    message: str


class Pipeline:
    """Decode from a start time, yielding display frames and strips.

    ``sampler`` says which frame serves each slot (the same sampler ``render`` uses),
    ``maker`` quantizes them, ``display_size`` is the size pictures are shown at.
    ``done`` is a set of slots already computed (kept across seeks, so no strip is
    made twice).
    """

    def __init__(
        self,
        sampler: Sampler,
        maker: StripMaker,
        *,
        display_size: tuple[int, int],
        depth: int = 8,
    ) -> None:
        self.sampler = sampler
        self.maker = maker
        self.source = sampler.source
        self.origin = sampler.grid.start
        self.live = self.source.info.live
        self.display_size = display_size
        self.frames: queue.Queue[DisplayFrame] = queue.Queue(maxsize=depth)
        self.events: queue.Queue[StripReady | Ended | Failed] = queue.Queue()
        self.done: set[int] = set()
        self._done_lock = threading.Lock()
        self.at_end = False  # the worker has shown the last frame and waits
        self.generation = 0
        self.dropped = 0  # live pictures dropped because the UI was behind
        self._seek_to: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamspec-live", daemon=True)
        self._enlarger: Any = None

    # -- control (UI thread) ---------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def seek(self, t: float) -> int:
        """Restart decoding at ``t``; returns the new generation."""
        if self.live:
            return self.generation
        with self._lock:
            self.generation += 1
            self._seek_to = t
        self._wake.set()
        _drain(self.frames)
        return self.generation

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        _drain(self.frames)
        if self._thread.ident is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def claim(self, slot: int) -> bool:
        """Take ``slot`` to compute its exact strip: False if it is done or being done
        (the fill worker of :mod:`.fill` shares this, so no slot is computed twice)."""
        with self._done_lock:
            if slot in self.done:
                return False
            self.done.add(slot)
            return True

    def starving(self) -> bool:
        """Playback is decoding but its queue of pictures runs low: background work
        should step back."""
        if not self._thread.is_alive() or self.at_end or self._stop.is_set():
            return False
        return self.frames.qsize() < max(1, self.frames.maxsize // 2)

    # -- worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        t = self.origin
        gen = 0
        try:
            while not self._stop.is_set():
                outcome = self._play_from(t, gen)
                if outcome is None:  # stopped
                    return
                if outcome == "ended":
                    self.at_end = True
                    self.events.put(Ended(gen))
                    # Wait for a seek (files) or the end of the session.
                    while not self._stop.is_set() and self._seek_to is None:
                        self._wake.wait(0.2)
                        self._wake.clear()
                with self._lock:
                    if self._seek_to is None:
                        continue
                    t, gen = self._seek_to, self.generation
                    self._seek_to = None
                    self.at_end = False
        except Exception as exc:  # shown in the window; the spectrum so far is saved
            self.events.put(Failed(gen, _one_line(exc)))

    def _play_from(self, t: float, gen: int) -> str | None:
        """Decode from ``t``; returns "ended", "seek" or None (stopped)."""
        shown: Frame | None = None
        # A generated graph (lavfi:) makes frames as fast as the CPU can: pace it by its
        # timestamps, like the camera it stands in for.
        pace = self.source.info.kind == "lavfi"
        clock0: tuple[float, float] | None = None  # (wall, media) of the first frame
        for frame, served in self.sampler.walk(t, display=True):
            if self._stop.is_set():
                return None
            if self._seek_to is not None:
                return "seek"
            if pace:
                now = time.monotonic()
                if clock0 is None or frame.time < clock0[1]:
                    clock0 = (now, frame.time)
                wait = clock0[0] + (frame.time - clock0[1]) - now
                if wait > 0 and self._stop.wait(wait):
                    return None
            for slot, target in served:
                if not self.claim(slot):
                    continue
                t0 = time.perf_counter()
                strip = self.maker.make(
                    Sample(slot, target, frame.time, frame=frame, size=self.sampler.size)
                )
                ms = (time.perf_counter() - t0) * 1000
                self.events.put(StripReady(gen, strip, ms))
            if frame is shown:  # a held frame serving the last slots: already on screen
                continue
            shown = frame
            rgb = self._display_rgb(frame)
            item = DisplayFrame(gen, frame.time, rgb, tuple(slot for slot, _ in served))
            if not self._put(item):
                return None if self._stop.is_set() else "seek"
        return "ended"

    def _display_rgb(self, frame: Frame) -> NDArray[np.uint8]:
        """The picture at the display size. A source is never asked for more pixels than
        it has (the demo film paints each one: 74 ms a frame at 1191x670); FFmpeg's
        scaler enlarges its picture instead (~3 ms), so the window only blits."""
        w, h = self.display_size
        nw, nh = self.source.info.width, self.source.info.height
        if w <= nw or h <= nh:
            return frame.to_rgb((w, h), cropped=False)
        if self._enlarger is None:
            from streamspec.media.convert import Enlarger

            self._enlarger = Enlarger()
        return self._enlarger(frame.to_rgb((nw, nh), cropped=False), w, h)

    def _put(self, item: DisplayFrame) -> bool:
        if self.live:
            while True:
                try:
                    self.frames.put_nowait(item)
                    return True
                except queue.Full:
                    try:
                        self.frames.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
        return put_until(
            self.frames, item, lambda: self._stop.is_set() or self._seek_to is not None
        )


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."
