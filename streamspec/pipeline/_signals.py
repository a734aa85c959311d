"""Stopping safely: Ctrl-C and SIGTERM are messages, not exceptions.

The signal handler only records the request (which signal, how many so far); a small
thread, woken through :func:`signal.set_wakeup_fd`, sets an :class:`threading.Event` and
runs the callbacks that wake the loops (the batch scheduler's wait). The render loop,
the window loop, the movie writer and the batch scheduler look at :func:`requested` at
safe points, stop their workers through events, and save what was made. Nothing ever
raises an exception in the middle of arbitrary code (a KeyboardInterrupt raised while a
lock is held can leave the lock held for good), so a stop cannot deadlock a clean-up.

A signal while saving is answered with one line (the save goes on). Only the standard
library is imported here: the command line installs the handler before anything heavy
is imported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from streamspec.outputs.spectrum import Spectrum

__all__ = [
    "STOP_SIGNALS",
    "Interrupted",
    "finished",
    "handling",
    "install",
    "mark_partial",
    "on_request",
    "on_signal",
    "request",
    "requested",
    "reset",
    "save_safely",
    "saving",
    "signal_name",
    "wait",
]

# The signals that ask streamspec to stop (and save).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The line a signal gets while a save is under way (at most once a second).
SAVING_LINE = (
    "streamspec: saving what was made, please wait (Ctrl-C again is ignored until it is saved)"
)


class Interrupted(KeyboardInterrupt):
    """Raised by streamspec's own code, at a safe point, when a stop was requested
    before anything was made (a KeyboardInterrupt, so callers that catch Ctrl-C
    catch it too)."""


class _State:
    """The process's stop request. Written by the signal handler with plain
    assignments only (no lock is taken in a handler); read anywhere."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal that asked (0: asked in code)
        self.hits = 0  # how many requests so far
        self.event = threading.Event()  # set by the waker thread (or request())
        self.callbacks: list[Callable[[int], None]] = []
        self.saving = 0  # saves under way
        self.said = 0.0  # when the saving line was last printed
        self.installed = False
        self.wake_r = -1
        self.wake_w = -1
        self.waker: threading.Thread | None = None
        self.old: dict[int, Any] = {}
        self.old_wakeup = -1


_state = _State()
_lock = threading.Lock()  # guards callbacks and the waker's work; never taken by a handler


def requested() -> bool:
    """Whether a stop was asked for (a signal, or :func:`request`)."""
    return _state.hits > 0


def signal_number() -> int | None:
    """The signal that asked first (0: asked in code; None: no request)."""
    return _state.signum


def signal_name() -> str:
    """``"interrupted"`` (Ctrl-C) or ``"terminated"`` (SIGTERM), for messages."""
    return "terminated" if _state.signum == signal.SIGTERM else "interrupted"


def wait(timeout: float | None = None) -> bool:
    """Wait until a stop is requested (at most ``timeout`` s); returns whether it was."""
    if requested():
        return True
    return _state.event.wait(timeout) or requested()


def on_signal(signum: int, frame: object) -> None:
    """The signal handler: records a stop request (and nothing else)."""
    # Plain assignments only: this runs between two bytecodes of the main thread,
    # wherever it is (even inside a lock's critical section).
    if _state.signum is None:
        _state.signum = signum
    _state.hits += 1
    if _state.waker is None:  # no thread to wake (it could not be started): say it here
        _deliver(signum, from_handler=True)


def request(signum: int = 0) -> None:
    """Ask to stop, as a signal would (from any thread)."""
    if _state.signum is None:
        _state.signum = signum
    _state.hits += 1
    _deliver(signum)


def _deliver(signum: int, *, from_handler: bool = False) -> None:
    """Wake whoever waits: the event, the callbacks; answer a signal during a save."""
    if _state.saving and signum and time.monotonic() - _state.said >= 1.0:
        _state.said = time.monotonic()
        # os.write: no Python-level lock (the main thread may be inside print()).
        with contextlib.suppress(OSError):
            os.write(2, (SAVING_LINE + "\n").encode())
    if from_handler:
        return  # an Event or a callback could take a lock the main thread holds
    _state.event.set()
    with _lock:
        callbacks = list(_state.callbacks)
    for cb in callbacks:
        with contextlib.suppress(Exception):
            cb(signum)


def on_request(callback: Callable[[int], None]) -> Callable[[], None]:
    """Call ``callback(signum)`` (in another thread) when a stop is requested -- at
    once if it already was. Returns what removes it."""
    with _lock:
        _state.callbacks.append(callback)
    if requested():
        with contextlib.suppress(Exception):
            callback(_state.signum or 0)

    def remove() -> None:
        with _lock, contextlib.suppress(ValueError):
            _state.callbacks.remove(callback)

    return remove


def _wake_loop(fd: int) -> None:
    """The waker thread: each byte the C handler writes is one signal."""
    while True:
        try:
            data = os.read(fd, 64)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum in STOP_SIGNALS:
                _deliver(signum)


def reset() -> None:
    """Forget an earlier request (a new command, a new call of the library)."""
    _state.signum = None
    _state.hits = 0
    _state.event.clear()


def install(signals: tuple[int, ...] = STOP_SIGNALS) -> bool:
    """Handle ``signals`` as stop requests from now on, for the whole process (the
    command line's entry point calls this first). Only possible in the main thread;
    returns whether the handler is (now) in place."""
    if _state.installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    for sig in signals:
        _state.old[sig] = signal.signal(sig, on_signal)
    _state.installed = True
    try:
        r, w = os.pipe()
        os.set_blocking(w, False)
        _state.old_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        _state.wake_r, _state.wake_w = r, w
        waker = threading.Thread(
            target=_wake_loop, args=(r,), name="streamspec-signals", daemon=True
        )
        waker.start()
        _state.waker = waker
    except (OSError, RuntimeError, ValueError):  # no thread or pipe: the handler wakes
        _state.waker = None
    return True


def uninstall() -> None:
    """Put the handlers that were there before :func:`install` back."""
    if not _state.installed:
        return
    for sig, old in _state.old.items():
        signal.signal(sig, old if old is not None else signal.SIG_DFL)
    _state.old.clear()
    if _state.waker is not None:
        signal.set_wakeup_fd(_state.old_wakeup)
        os.close(_state.wake_w)  # the waker reads EOF and ends
        _state.waker.join(1.0)
        os.close(_state.wake_r)
        _state.waker = None
    _state.installed = False


def finished() -> None:
    """The process's result is final (its exit status decided): from now on Ctrl-C and
    SIGTERM are ignored while it exits. (At shutdown the interpreter puts the default
    actions back, and a signal then would end the process with another status.)"""
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def handling() -> Iterator[bool]:
    """Within the block, Ctrl-C and SIGTERM are stop requests (a fresh one for the
    block); the handlers before it are put back after, unless they were streamspec's
    already. Yields whether signals reach the request (only in the main thread)."""
    mine = not _state.installed
    if mine:
        reset()
    ok = install()
    try:
        yield ok
    finally:
        if mine and ok:
            uninstall()
            reset()


def in_child_process(*, ignore: tuple[int, ...] = (signal.SIGINT,)) -> None:
    """In a worker process (forked, or started by a pool): no request inherited from
    the parent, no waker thread (a fork copies only the thread that forked), ``ignore``
    ignored -- the parent stops its workers itself, through :func:`request`."""
    _state.signum = None
    _state.hits = 0
    _state.event = threading.Event()
    _state.callbacks = []
    _state.saving = 0
    # "Installed" for handling(): a worker's requests come from its parent, never from
    # a handler of its own, and must not be reset by the render it runs.
    _state.installed = True
    _state.waker = None
    _state.old.clear()
    with contextlib.suppress(ValueError):  # not the main thread: nothing to do
        signal.set_wakeup_fd(-1)
        for sig in ignore:
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def blocked(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, ``signals`` are held back in this thread: processes started in
    it (a pool's server) start with them blocked and never see a terminal's Ctrl-C."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def saving() -> Iterator[None]:
    """Mark a save under way: a signal now gets one line saying the save goes on."""
    _state.saving += 1
    try:
        yield
    finally:
        _state.saving -= 1


def mark_partial(spectrum: Spectrum, skipped_frames: int | None = None) -> None:
    """Mark a spectrum whose render was stopped early."""
    spectrum.partial = True
    if skipped_frames is not None:
        spectrum.skipped_frames = skipped_frames


def save_safely(spectrum: Spectrum, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """:meth:`Spectrum.save` (atomic: a signal cannot cut it short, it only records a
    request), saying so if a signal comes while it runs."""
    with saving():
        return spectrum.save(path)
