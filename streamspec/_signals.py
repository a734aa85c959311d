"""Stopping safely: Ctrl-C and SIGTERM end a render or a live session, and what is done
is saved whole -- one piece of code for ``render()``, the CLI and ``play``."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from .spectrum import Spectrum

__all__ = ["Terminated", "interrupts_as_keyboard", "mark_partial", "save_safely", "signals_held"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, save what is done."""


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def interrupts_as_keyboard() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) like
    Ctrl-C does. Signals can only be handled in the main thread; elsewhere this does
    nothing."""
    if not _in_main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM are ignored: a save is never cut short."""
    if not _in_main_thread():
        yield
        return
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    old_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def mark_partial(spectrum: Spectrum, skipped_frames: int | None = None) -> None:
    """Mark a spectrum whose render was stopped early."""
    spectrum.partial = True
    if skipped_frames is not None:
        spectrum.skipped_frames = skipped_frames


def save_safely(spectrum: Spectrum, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """:meth:`Spectrum.save` (atomic), with Ctrl-C and SIGTERM held off while it runs."""
    with signals_held():
        return spectrum.save(path)
