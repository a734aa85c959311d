"""The whole film, early: ``play``'s second worker, which fills the spectrum ahead of
the playhead while the film plays.

When a file opens, a thread of its own (niced) opens the film a second time in the
``keyframes`` decoding mode (two decoder threads) and runs
:class:`~streamspec.pipeline.sampling.Sampler`
over the whole grid: every slot gets a *provisional* strip (the nearest keyframe's
colours, :attr:`Strip.provisional`), sent to the window through the playback pipeline's
events, within a few percent of the time decoding the film takes. Playback's exact strip
replaces each one when it reaches the slot.

With ``--fill`` an exact pass follows: a third opening, in the ``exact`` mode ``play``
itself uses, makes the strips playback would make for the slots it has not reached,
starting well ahead of the playhead. It shares playback's set of done slots
(:meth:`Pipeline.claim`), so no slot is computed twice.

Playback keeps its full rate: both passes step back while playback's picture queue
runs low (:meth:`Pipeline.starving`), and the thread runs at a lower priority.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable

from streamspec.core.grid import SlotGrid
from streamspec.live.pipeline import Pipeline, StripReady
from streamspec.media import Crop, FrameSource
from streamspec.pipeline.sampling import Sampler, StripMaker

__all__ = ["FILL_NICE", "FILL_THREADS", "Filler"]

# Decoder threads of each pass: two for the keyframes (they decode independently, so two
# threads halve the pass when a core is free), one for the exact pass (it runs for long).
FILL_THREADS = {"keyframes": 2, "exact": 1}
# The fill thread's nice value (Linux: per thread): playback's threads win the cores.
FILL_NICE = 5
# s: slots this little ahead of the playhead are left to playback (it is about to make
# them); for a short film, an eighth of it.
AHEAD = 20.0
# s: how long a pass waits, at most, for starving playback before it makes one more strip
# (the keyframe pass is cheap: it must not wait for a machine that never catches up).
_KEYFRAME_PATIENCE = 0.05
_EXACT_PATIENCE = 1.0


class Filler:
    """The background passes over a file (see the module docstring).

    ``open_source(mode)`` opens the film again in a decoding mode; ``crop`` and ``size``
    are playback's (so the strips match its); ``playhead()`` is the time on screen.
    """

    def __init__(
        self,
        open_source: Callable[[str], FrameSource],
        pipeline: Pipeline,
        *,
        grid: SlotGrid,
        end: float | None,
        size: tuple[int, int],
        crop: Crop | None,
        maker: StripMaker,
        playhead: Callable[[], float],
        keyframes: bool = True,
        exact: bool = False,
    ) -> None:
        self.open_source = open_source
        self.pipeline = pipeline
        self.grid = grid
        self.end = end
        self.size = size
        self.crop = crop
        self.maker = maker
        self.playhead = playhead
        self.keyframes = keyframes
        self.exact = exact
        self.provisional_made = 0
        self.exact_made = 0
        self.keyframes_done: float | None = None  # perf_counter when the first pass ended
        self.error: str | None = None
        self._unreachable: set[int] = set()
        # Slots ahead of the playhead left to playback: AHEAD s, or an eighth of a short film.
        self._margin = max(2, min(math.ceil(AHEAD / grid.step), (grid.slots or 0) // 8))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamspec-fill", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        _lower_priority()
        try:
            if self.keyframes:
                self._keyframe_pass()
                self.keyframes_done = time.perf_counter()
            if self.exact and not self._stop.is_set():
                self._exact_pass()
        except Exception as exc:  # a nicety failed: playback goes on, the reason is kept
            self.error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)

    def _open(self, mode: str) -> FrameSource:
        src = self.open_source(mode)
        src.crop = self.crop
        return src

    def _step_back(self, patience: float) -> None:
        """Wait while playback's queue runs low (at most ``patience`` s)."""
        until = time.monotonic() + patience
        while self.pipeline.starving() and not self._stop.is_set() and time.monotonic() < until:
            time.sleep(0.005)

    def _keyframe_pass(self) -> None:
        """A provisional strip in every slot playback has not done, in one quick pass."""
        src = self._open("keyframes")
        try:
            sampler = Sampler(src, self.grid, end=self.end, size=self.size)
            maker = StripMaker(self.maker.k, self.maker.seed, self.maker.space, provisional=True)
            for sample in sampler.samples():
                if self._stop.is_set():
                    return
                if sample.index in self.pipeline.done:
                    continue
                if not sample.repeat:  # a new keyframe to analyse (a repeat is free)
                    self._step_back(_KEYFRAME_PATIENCE)
                strip = maker.make(sample)
                self.pipeline.events.put(StripReady(-1, strip, None))
                self.provisional_made += 1
        finally:
            src.close()

    def _exact_pass(self) -> None:
        """Playback's own strips for the slots it has not reached, from well ahead of it."""
        slots = self.grid.slots
        if slots is None or slots == 0:
            return
        src = self._open("exact")
        try:
            sampler = Sampler(src, self.grid, end=self.end, size=self.size)
            maker = StripMaker(self.maker.k, self.maker.seed, self.maker.space)
            head = self._head()
            cursor = min(slots - 1, (head + slots) // 2)  # halfway from the playhead to the end
            while not self._stop.is_set():
                first = self._next_gap(cursor)
                if first is None:
                    if len(self.pipeline.done) + len(self._unreachable) >= slots:
                        return
                    time.sleep(0.25)  # only slots playback is about to reach are left
                    continue
                cursor = 0  # when this run reaches the end: from the start again
                made = False
                for sample in sampler.samples(self.grid.time(first)):
                    made = True
                    if self._stop.is_set():
                        return
                    self._step_back(_EXACT_PATIENCE)
                    if self._near_playhead(sample.index) or not self.pipeline.claim(sample.index):
                        cursor = sample.index + 1  # playback's stretch: jump past it
                        break
                    strip = maker.make(sample)
                    self.pipeline.events.put(StripReady(-1, strip, None))
                    self.exact_made += 1
                if not made:  # past the frames the file really has
                    self._unreachable.add(first)
                cursor %= slots
        finally:
            src.close()

    def _head(self) -> int:
        return max(0, math.floor(self.grid.slot(self.playhead())))

    def _near_playhead(self, slot: int) -> bool:
        head = self._head()
        return head <= slot < head + self._margin

    def _next_gap(self, cursor: int) -> int | None:
        """The first slot from ``cursor`` on (wrapping round) that nobody has taken and
        playback is not about to reach."""
        slots = self.grid.slots or 0
        done = self.pipeline.done
        for i in itertools.chain(range(cursor, slots), range(0, cursor)):
            if i not in done and i not in self._unreachable and not self._near_playhead(i):
                return i
        return None


def _lower_priority() -> None:
    """Nice the calling thread (Linux gives each thread its own nice value; decoder
    threads started from it inherit it). Elsewhere a thread id is no process id: skip."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FILL_NICE)
