"""The live view's colour segments, found off the window's thread: ``play`` owns one
:class:`SegmentsWorker` and hands it to the model, which gives it a job (a snapshot of
the strips on screen) at most once a second. A job only reads its snapshot, so the
window never waits for it and an unfinished one can be dropped at the end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["SegmentsWorker"]

Segments = list[dict[str, Any]]


class SegmentsWorker:
    """Runs one segment job at a time in a daemon thread (a
    :class:`~streamspec.live.marks.SegmentRunner`)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._closed = False
        self.error: str | None = None  # the last job's failure, if it failed

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def submit(self, job: Callable[[], Segments], done: Callable[[Segments], None]) -> None:
        """Start ``job`` (the last one must have finished); ``done`` gets its segments.
        After :meth:`close`, nothing starts."""
        if self._closed:
            return
        if self.busy:
            raise RuntimeError("a segment job is already running")

        def run() -> None:
            try:
                done(job())
            except Exception as exc:  # the view goes on without new segments
                self.error = str(exc) or repr(exc)

        self._thread = threading.Thread(target=run, name="streamspec-segments", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Return once the running job (if any) has finished, or after ``timeout`` s."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Start no more jobs; give the running one up to ``timeout`` s to finish."""
        self._closed = True
        self.wait(timeout)
