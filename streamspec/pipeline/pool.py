"""The local process pool: tasks in worker processes on this machine, stopped by message.

Pebble's :class:`~pebble.ProcessPool` starts the workers (from a forkserver where there
is one: a worker never inherits the client's threads or open files) and replaces one
that crashes or outlives a task's time limit; :class:`_LocalPool` puts it behind the
:class:`concurrent.futures.Executor` interface, hands it a task only when a worker is
free, and says the pool's own failures as a film's one-line reason. How a worker stops
is decided here (:func:`_worker_init`): Ctrl-C ignored, a stop byte read from a pipe,
gone at once when the client or the forkserver is (``PR_SET_PDEATHSIG``). Also the
errors a task reports in, wherever it runs, and :func:`cores`.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures import wait as futures_wait
from typing import Any, TypeVar

from streamspec.core.errors import StreamspecError
from streamspec.pipeline import _signals

T = TypeVar("T")


class FilmTimeoutError(StreamspecError):
    """A film took longer than its time limit (a decoder that hangs); it was killed."""


class TaskError(StreamspecError):
    """A film failed in a worker; the message is the worker's one-line reason."""


class NotStartedError(StreamspecError):
    """A film was not started: the batch was interrupted before its turn."""


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not just the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


# Modules a local worker process starts with: imported once, in the server it is forked
# from (numpy, PyAV, the render, Numba and the kernels' definitions -- not compiled, and
# no thread started), not once per worker.
_PRELOAD = [
    "pebble.pool.process",
    "streamspec.pipeline.pool",
    "streamspec.pipeline.cluster",
    "streamspec.pipeline.parallel",
    "streamspec.pipeline.rendering",
    "streamspec.analysis._kernels",
]


# -- in the worker -------------------------------------------------------------------------
# A local worker never handles Ctrl-C itself (it is ignored; a terminal sends it to the
# whole group): the client stops its workers through a pipe (:func:`_watch_client`), so
# a stop is a message here too, and the render returns what it did at its next strip.


def _die_with_parent() -> None:
    """Linux: this process is killed when its parent dies (``PR_SET_PDEATHSIG``), even
    by ``kill -9`` -- no orphan goes on rendering, or writes to a terminal, after it."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _worker_init(stop: Any = None) -> None:
    """Initializer of local worker processes: Ctrl-C ignored, stop requests from the
    client (``stop``: the read end of its pipe), and gone at once when the client is."""
    _signals.in_child_process()
    # SIGTERM ends a worker at once, as it ends any process by default (the pool's own
    # handler would run Python clean-up first, and only once a decoder blocked in C
    # returns): a worker past its time limit is gone at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()  # the server the worker was forked from
    if stop is not None:
        threading.Thread(
            target=_watch_client, args=(stop,), name="streamspec-client", daemon=True
        ).start()


def _watch_client(stop: Any) -> None:
    """A byte from the client asks this worker to stop (the render returns what it did;
    queued films are not started); the pipe's other end closing means the client is
    gone (even killed with ``kill -9``): nobody is left to take a result, leave now.
    Only one byte is taken: the others are the other workers'."""
    import select

    fd = stop.fileno()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        events = dict(poller.poll())
        if events.get(fd, 0) & (select.POLLHUP | select.POLLERR):
            os._exit(0)  # the client is gone: no clean-up, nothing printed
        if events.get(fd, 0) & select.POLLIN and not _signals.requested():
            with contextlib.suppress(OSError):
                os.read(fd, 1)
            _signals.request(signal.SIGINT)
            poller.modify(fd, select.POLLHUP | select.POLLERR)  # (the others' bytes)


def _start_servers() -> None:
    """Start multiprocessing's servers (the forkserver, the resource tracker) now, with
    Ctrl-C and SIGTERM blocked: they inherit the mask, so a terminal's Ctrl-C never
    reaches them (no traceback from a server importing its modules), and they end when
    their client does (the forkserver on its pipe's end, the tracker when the last
    process holding it is gone)."""
    from multiprocessing import resource_tracker

    # The tracker first (the forkserver would start it otherwise; it blocks the signals
    # itself, and unblocks them after): its only words are warnings about semaphores it
    # cleans up after a client killed with kill -9, not for the terminal of a process
    # that is gone.
    with _stderr_to_devnull():
        resource_tracker.ensure_running()
    if "forkserver" in multiprocessing.get_all_start_methods():
        with _signals.blocked():
            multiprocessing.forkserver.ensure_running()


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """Within the block, file descriptor 2 is /dev/null (for a process started in it)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _timeout_error(timeout: float) -> FilmTimeoutError:
    return FilmTimeoutError(f"took more than {timeout:g} s (the decoder hangs?); stopped")


def _ended(exitcode: int | None) -> str:
    """How a worker process ended, in words (``killed by SIGKILL``, ``exit status 3``)."""
    if exitcode is None:
        return "ended"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-exitcode).name}"
        return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


class _PoolTask(Future[Any]):
    """A task of the local pool, as callers see it: the pool's own failures said as a
    film's one-line reason (its time limit: :class:`FilmTimeoutError`; its worker gone:
    :class:`TaskError`). A running task is never cancelled (after a stop it returns
    what it did); a waiting one is."""

    def __init__(self, call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]) -> None:
        super().__init__()
        self.call = call
        self.timeout: float | None = None
        self._inner: Future[Any] | None = None

    def attach(self, inner: Future[Any]) -> None:
        """The pool's own future for this task, once it has been handed to the pool."""
        self._inner = inner
        inner.add_done_callback(self._settle)

    def cancel(self) -> bool:
        if self._inner is None:  # still waiting here
            return Future.cancel(self) and (self.set_running_or_notify_cancel() or True)
        return self._inner.cancel()  # _settle cancels this one

    def _settle(self, inner: Future[Any]) -> None:
        from pebble import ProcessExpired

        if self.cancelled():  # cancelled as it was handed over: nobody waits for it
            return
        if inner.cancelled():
            Future.cancel(self)
            self.set_running_or_notify_cancel()
            return
        exc = inner.exception()
        if exc is None:
            self.set_result(inner.result())
        elif isinstance(exc, ProcessExpired):
            self.set_exception(TaskError(f"its worker process died ({_ended(exc.exitcode)})"))
        elif type(exc) is TimeoutError and exc.args[:1] == ("Task timeout",):
            self.set_exception(_timeout_error(self.timeout or 0.0))
        else:
            self.set_exception(exc)


class _LocalPool(Executor):
    """An :class:`~concurrent.futures.Executor` of ``jobs`` worker processes (Pebble's
    :class:`~pebble.ProcessPool`, started from ``context``): a worker that crashes is
    replaced and only its task fails; a task's ``timeout`` argument, when the task
    function has one, is enforced here -- the worker is killed at the limit and replaced
    -- and the task runs with no limit of its own.

    Tasks wait here until a worker is free (Pebble would write them all into its
    workers' pipe at once, and a task cancelled there costs a worker: after Ctrl-C, the
    queued films of a large batch would each kill and restart one)."""

    def __init__(self, jobs: int, context: Any, initargs: tuple[Any, ...]) -> None:
        from pebble import ProcessPool

        self._max_workers = jobs  # (pool_threads)
        self._pool = ProcessPool(jobs, initializer=_worker_init, initargs=initargs, context=context)
        # Reentrant: a future already done runs its callbacks at once, in this thread.
        self._lock = threading.RLock()
        self._waiting: collections.deque[_PoolTask] = collections.deque()
        self._running = 0
        self._tasks: set[_PoolTask] = set()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        limit = None
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except (TypeError, ValueError):  # not bindable: the task says what is wrong
            bound = None
        if bound is not None and bound.arguments.get("timeout") is not None:
            limit = float(bound.arguments["timeout"])
            bound.arguments["timeout"] = None
            args, kwargs = bound.args, bound.kwargs
        task = _PoolTask((fn, args, kwargs))
        task.timeout = limit
        with self._lock:
            self._waiting.append(task)
            self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._feed()
        return task

    def _feed(self) -> None:
        """Hand waiting tasks to the pool while a worker is free."""
        with self._lock:
            while self._waiting and self._running < self._max_workers:
                task = self._waiting.popleft()
                if task.done():  # cancelled while it waited
                    continue
                fn, args, kwargs = task.call
                try:
                    inner = self._pool.schedule(fn, args, kwargs, timeout=task.timeout)
                except Exception as exc:  # the pool is closed or broken
                    task.set_exception(TaskError(f"not started: {exc}"))
                    continue
                self._running += 1
                inner.add_done_callback(self._freed)
                task.attach(inner)

    def _freed(self, _: Future[Any]) -> None:
        with self._lock:
            self._running -= 1
        self._feed()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            with self._lock:
                waiting = list(self._waiting)
            for task in waiting:
                task.cancel()
        elif wait:  # the waiting tasks are still handed out
            futures_wait(list(self._tasks))
        self._pool.close()
        if wait:
            self._pool.join()


@contextlib.contextmanager
def _local_pool(jobs: int) -> Iterator[Executor]:
    """The local process pool, stopped by message: a stop request here (Ctrl-C,
    SIGTERM) writes to a pipe every worker watches (:func:`_watch_client`), so their
    renders return what they did at their next strip; and the pipe closing (this
    process gone, even by ``kill -9``) ends every worker at once."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    _start_servers()
    reader, writer = ctx.Pipe(duplex=False)
    stop_fd = writer.fileno()
    os.set_blocking(stop_fd, False)

    def tell_workers(_: int) -> None:
        # A byte per worker, and spares for workers that are still starting (or that
        # replace one killed at its time limit).
        with contextlib.suppress(OSError):
            os.write(stop_fd, b"s" * (4 * jobs + 16))

    pool = _LocalPool(jobs, ctx, (reader,))
    remove = _signals.on_request(tell_workers)
    try:
        yield pool
    finally:
        remove()
        # Queued films are dropped; the running ones end (at once after a stop).
        pool.shutdown(wait=True, cancel_futures=True)
        reader.close()
        writer.close()
