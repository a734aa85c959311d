"""Saving a live session off the window's thread: snapshots (S) and periodic checkpoints.

The window hands over a *copy* of the spectrum (its strips dict copied: microseconds);
drawing the image and writing PNG + JSON (atomically, ~0.4 s at 3,000 strips) happen in
one background thread, so the picture never stalls. A checkpoint is saved to the
session's own output path, marked partial and ``settings["checkpoint"]``; the final save
replaces it. If the process dies (``kill -9``, the display gone), the checkpoint stays,
and the next ``play`` to that path finds it and sets it aside instead of overwriting it.
No pygame here.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from streamspec.core._io import load_json, unique_path
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_JSON_BYTES
from streamspec.outputs.spectrum import Spectrum, json_path_for
from streamspec.pipeline._signals import mark_partial

__all__ = ["Checkpointer", "Saver", "find_checkpoint", "set_aside", "snapshot_of"]

Done = Callable[[Path | None, str | None], None]  # (saved image, or None and the error)


def snapshot_of(spectrum: Spectrum, *, checkpoint: bool = False) -> Spectrum:
    """A copy of ``spectrum`` that later strips do not change (strips are shared: they
    are never modified, only replaced), marked partial when slots are missing or
    provisional. ``checkpoint`` marks it partial and stamped."""
    copy = spectrum.copy()
    if checkpoint or not copy.complete:  # a snapshot mid-film is partial too
        mark_partial(copy)
    if checkpoint:
        copy.settings["checkpoint"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return copy


class Saver:
    """One background thread saving spectrum copies in the order given."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Spectrum, Path, Done | None] | None] = queue.Queue()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamspec-saver", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return not self._busy.is_set() and self._jobs.empty()

    def submit(self, spectrum: Spectrum, path: Path, done: Done | None = None) -> None:
        """Save ``spectrum`` (a copy nobody changes any more) to ``path``, then call
        ``done(path, None)`` or ``done(None, error)`` from the saving thread."""
        self._busy.set()
        self._jobs.put((spectrum, path, done))

    def close(self, timeout: float = 30.0) -> None:
        """Finish the saves under way (the final save must not race them), then stop."""
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            spectrum, path, done = job
            try:
                png, _ = spectrum.save(path)
                result: tuple[Path | None, str | None] = (png, None)
            except Exception as exc:  # a full disk must not end the session
                result = (None, str(exc) or type(exc).__name__)
            finally:
                if self._jobs.empty():
                    self._busy.clear()
            if done is not None:
                done(*result)


class Checkpointer:
    """Every ``interval`` seconds (when there is something new), a checkpoint of
    ``spectrum`` to ``path`` through ``saver``. Call :meth:`poll` from the thread that
    adds strips (the copy is taken there, so it is never half-changed)."""

    def __init__(
        self,
        spectrum: Spectrum,
        path: Path,
        interval: float,
        saver: Saver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spectrum = spectrum
        self.path = path
        self.interval = interval
        self.saver = saver
        self.clock = clock
        self.saved = 0  # checkpoints written
        self.error: str | None = None
        self._last = clock()
        self._strips = 0

    def poll(self) -> bool:
        """Start a checkpoint if one is due; True if one was started."""
        if self.interval <= 0 or self.clock() - self._last < self.interval:
            return False
        n = len(self.spectrum)
        if n == 0 or n == self._strips or not self.saver.idle:
            return False
        self._last, self._strips = self.clock(), n
        self.saver.submit(snapshot_of(self.spectrum, checkpoint=True), self.path, self._done)
        return True

    def _done(self, png: Path | None, error: str | None) -> None:
        if png is not None:
            self.saved += 1
        self.error = error


def find_checkpoint(out: Path) -> int | None:
    """The number of strips in a checkpoint an interrupted session left at ``out``
    (its JSON sidecar says so), or None."""
    sidecar = json_path_for(out)
    try:
        if not sidecar.is_file():
            return None
        data = load_json(sidecar, MAX_JSON_BYTES, "a spectrum JSON file")
    except InputError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
        return None
    if not data["settings"].get("checkpoint"):
        return None
    strips = data.get("strips")
    return len(strips) if isinstance(strips, list) else 0


def set_aside(out: Path) -> Path:
    """Move the image and sidecar at ``out`` to ``STEM-interrupted.EXT`` (a free name,
    never overwriting); returns the new image path."""
    new = unique_path(out.with_name(f"{out.stem}-interrupted{out.suffix}"))
    while json_path_for(new).exists():  # both names must be free
        new = unique_path(new.with_name(f"{new.stem}-2{new.suffix}"))
    if out.exists():
        os.replace(out, new)
    os.replace(json_path_for(out), json_path_for(new))
    return new
