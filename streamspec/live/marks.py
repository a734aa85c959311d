"""What the live view marks under its strips, as ``render`` draws them: the chapters
(their spans and titles) and the colour segments of the strips shown so far.

Finding segments takes a while on a long film, so it may run off the window's thread:
the model hands a job to a :class:`SegmentRunner` (the window's side provides one,
:class:`~streamspec.live.segmenter.SegmentsWorker`) and takes the result when it is
done. Without a runner the job runs at once, in the caller's thread.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from streamspec.analysis.segments import colour_segments
from streamspec.core.options import LookOptions
from streamspec.live.timeline import StripTimeline
from streamspec.outputs.annotate import chapter_spans
from streamspec.outputs.spectrum import Spectrum

__all__ = ["ChapterSpan", "Chapters", "LiveSegments", "SegmentJob", "SegmentRunner"]

SEGMENTS_EVERY = 1.0  # s: segments are found again at most this often (unless asked)

# (start, end, title) of a chapter, in seconds.
ChapterSpan = tuple[float, float, str]
Segments = list[dict[str, Any]]
SegmentJob = Callable[[], Segments]


class Chapters:
    """The chapters of a spectrum (when its settings ask for them), each with an end:
    its own, else the next chapter's start, else the end of the timeline."""

    def __init__(self, spectrum: Spectrum) -> None:
        self.spectrum = spectrum
        self._spans: tuple[object, list[ChapterSpan]] | None = None

    def spans(self, end: float) -> list[ChapterSpan]:
        """``(start, end, title)`` of the chapters to draw, in order of start (none when
        the settings do not ask for chapters)."""
        spec = self.spectrum
        if not spec.settings.get("chapters") or not spec.chapters:
            return []
        key = (id(spec.chapters), len(spec.chapters), end)
        if self._spans is None or self._spans[0] != key:
            rows = sorted(spec.chapters, key=lambda c: float(c["start"]))
            spans = [
                (c.start, end if c.end is None else c.end, c.title)
                for c in chapter_spans(rows, end)
            ]
            self._spans = (key, spans)
        return self._spans[1]

    def at(self, t: float, end: float) -> str | None:
        """The title of the chapter at time ``t``, if any."""
        for start, stop, title in self.spans(end):
            if start <= t < stop:
                return title
        return None


class SegmentRunner(Protocol):
    """Runs segment jobs off the caller's thread, one at a time."""

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        ...

    def submit(self, job: SegmentJob, done: Callable[[Segments], None]) -> None:
        """Start ``job``; call ``done`` with its result (from the runner's thread)."""
        ...

    def wait(self) -> None:
        """Return once the running job (if any) has finished."""
        ...


class LiveSegments:
    """The colour segments of the strips on screen (:attr:`found`), found again as
    strips arrive: at most once every :data:`SEGMENTS_EVERY` seconds of ``clock``, by
    ``runner`` when there is one, else at once."""

    def __init__(
        self,
        look: LookOptions,
        clock: Callable[[], float],
        runner: SegmentRunner | None = None,
    ) -> None:
        self.look = look
        self.clock = clock
        self.runner = runner
        self.found: Segments = []
        # A finished job's result, not taken yet (append and pop are atomic: the runner's
        # thread puts, the caller's takes; a newer result replaces an older one).
        self._done: deque[Segments] = deque(maxlen=1)
        self._last = (-math.inf, -1)  # (clock, strips shown) of the last job

    def update(self, timeline: StripTimeline, wait: bool = False) -> bool:
        """Take a finished job's segments, and start a job when strips have been shown
        since the last (``wait``: now, whatever the time, and finish it before
        returning). Returns whether :attr:`found` changed."""
        if not self.look.segments:
            return False
        changed = self._take()
        runner = self.runner
        if runner is not None and runner.busy:
            if wait:
                runner.wait()
                changed = self.update(timeline) or changed
            return changed
        now, shown = self.clock(), len(timeline.visible)
        if shown < 2 or shown == self._last[1]:
            return changed
        if now - self._last[0] < SEGMENTS_EVERY and not wait:
            return changed
        self._last = (now, shown)
        strips = timeline.snapshot()  # the strips on screen now; the spectrum grows
        grid, minimum = timeline.grid, self.look.min_segment

        def job() -> Segments:
            return [s.to_dict() for s in colour_segments(strips, grid, min_seconds=minimum)]

        if runner is not None and not wait:
            runner.submit(job, self._finished)
            return changed
        self._finished(job())
        return self.update(timeline) or changed

    def _finished(self, segments: Segments) -> None:
        self._done.append(segments)  # (from the runner's thread)

    def _take(self) -> bool:
        try:
            self.found = self._done.pop()
        except IndexError:
            return False
        return True
