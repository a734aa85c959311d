"""Rendering on every core, and on a cluster: films and time ranges of films as tasks.

A task (:func:`render_task`) renders one film, or one contiguous range of its slots,
in a worker and returns the spectrum's JSON dict: plain data, cheap to send back, so
the client alone writes files and its memory does not grow with the number of films.

One code path runs the tasks: a :class:`concurrent.futures.Executor`, either a local
process pool (Pebble's :class:`~pebble.ProcessPool`, workers forked from a forkserver: a
worker never inherits the client's threads or open files; a worker that crashes or
outlives a task's time limit is killed and replaced, and only that task fails) or the
executor of a Dask distributed client (:func:`executor`), which retries a task whose
worker was lost. Both run the same task functions (:func:`render_task`,
:func:`plan_task`).

A film split into ranges keeps its slot grid: slot ``i`` is sampled at the same time,
from the same frame in ``exact`` mode, with the same seed, whichever worker renders it
(see :mod:`streamspec.pipeline.sampling`), so :func:`merge_parts` gives the strips a single
render gives.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import inspect
import ipaddress
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import re
import select
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from typing import Any, TypeVar

from streamspec.core.errors import InputError, StreamspecError
from streamspec.core.options import Crop, RenderOptions
from streamspec.outputs.spectrum import Spectrum
from streamspec.pipeline import _signals

__all__ = [
    "DaskMissingError",
    "FilmTimeoutError",
    "NotStartedError",
    "TaskError",
    "cores",
    "dask_address",
    "decoder_threads",
    "executor",
    "local_cluster",
    "merge_parts",
    "plan_ranges",
    "plan_task",
    "pool_threads",
    "render_parallel",
    "render_task",
    "split_slots",
    "worker_source",
]

T = TypeVar("T")

# How long an unreachable Dask scheduler is waited for.
CONNECT_TIMEOUT = 5.0
# How long a scheduler without workers is waited for (workers starting at the same time).
WORKERS_TIMEOUT = 10.0
# The transports of Dask's distributed (distributed.comm.registry) a client can reach.
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


class FilmTimeoutError(StreamspecError):
    """A film took longer than its time limit (a decoder that hangs); it was killed."""


class TaskError(StreamspecError):
    """A film failed in a worker; the message is the worker's one-line reason."""


class DaskMissingError(StreamspecError, ImportError):
    """Dask distributed is not installed."""


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not just the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def decoder_threads(jobs: int) -> int | None:
    """Decoder threads for each of ``jobs`` films (or ranges of one) rendered at once on
    this machine: None when one has the machine to itself (its mode decides: four per
    core in ``fast`` mode, to keep every core busy through the serial chain of reference
    frames), else two per core of its share -- the other renders keep the cores busy.
    Measured on two cores, eight films two at a time: 7.8 s with two threads a film,
    8.1 s with four, 8.55 s with the eight a lone render takes."""
    if jobs <= 1:
        return None
    return max(2, 2 * cores() // jobs)


def split_slots(total: int, parts: int) -> list[tuple[int, int]]:
    """``total`` slots in at most ``parts`` contiguous ranges ``(first, stop)`` of sizes
    differing by at most one (every range has at least one slot)."""
    parts = max(1, min(parts, total))
    size, extra = divmod(total, parts)
    ranges, first = [], 0
    for i in range(parts):
        stop = first + size + (1 if i < extra else 0)
        ranges.append((first, stop))
        first = stop
    return ranges


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


def dask_address(text: str) -> str:
    """``--dask``'s value checked and normalised: ``"local"``, or a scheduler's address
    ``[SCHEME://]HOST:PORT`` (SCHEME one of :data:`DASK_SCHEMES`, ``tcp`` when left out;
    an IPv6 host in brackets). ``tls://`` needs Dask's TLS settings. Raises a one-line
    :class:`InputError` that does not name the flag (its caller does)."""
    value = text.strip()
    if value == "local":
        return value
    example = "e.g. tcp://HOST:8786, or 'local'"
    if not value:
        raise InputError(f"expected a Dask scheduler's address ({example})")
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    scheme = scheme.lower()
    if scheme not in DASK_SCHEMES:
        known = ", ".join(f"{s}://" for s in DASK_SCHEMES)
        raise InputError(f"{value!r}: unknown scheme {scheme!r} (Dask speaks {known})")
    if rest.startswith("["):
        inside, closed, after = rest[1:].partition("]")
        if not closed:
            raise InputError(f"{value!r}: malformed IPv6 address, no ']' (e.g. tcp://[::1]:8786)")
        try:
            ipaddress.IPv6Address(inside)
        except ValueError:
            raise InputError(f"{value!r}: {inside!r} is not an IPv6 address") from None
        host, port_text = f"[{inside}]", after.removeprefix(":") if after.startswith(":") else None
        if after and not after.startswith(":"):
            raise InputError(f"{value!r}: expected ':PORT' after the IPv6 address")
    elif rest.count(":") > 1:
        raise InputError(f"{value!r}: an IPv6 address goes in brackets (e.g. tcp://[::1]:8786)")
    else:
        host, colon, port_text = rest.partition(":")
        if not colon:
            port_text = None
        if not host:
            raise InputError(f"{value!r}: no host ({example})")
        if not _HOST.match(host):
            raise InputError(f"{value!r}: {host!r} is not a host name or address")
    if port_text is None:
        raise InputError(f"{value!r}: no port (the scheduler's default is 8786: {host}:8786)")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InputError(f"{value!r}: the port must be a number from 1 to 65535")
    if scheme in ("tls", "wss"):
        _check_tls(value)
    if scheme == "ucx" and not any(
        importlib.util.find_spec(m) for m in ("distributed_ucxx", "ucp")
    ):
        raise InputError(f"{value!r}: ucx:// needs Dask's UCX support (distributed-ucxx)")
    return f"{scheme}://{host}:{int(port_text)}"


def _check_tls(value: str) -> None:
    """A TLS address needs Dask's TLS settings (without them Dask fails with a traceback)."""
    try:
        import dask.config
    except ImportError:
        return  # executor() says what to install
    if not dask.config.get("distributed.comm.tls.ca-file", None):
        raise InputError(
            f"{value!r}: TLS needs Dask's TLS settings: distributed.comm.tls.ca-file, "
            "client.cert and client.key in Dask's config (or DASK_DISTRIBUTED__COMM__TLS__"
            "CA_FILE, ...__CLIENT__CERT, ...__CLIENT__KEY)"
        )


def worker_source(source: str) -> str:
    """``source`` as a worker must be given it: a local file as an absolute path (a
    worker runs in a folder of its own, on its own machine), anything else as it is."""
    from streamspec.pipeline.rendering import source_file

    path = source_file(source)
    return source if path is None else os.path.abspath(path)


def _where() -> str:
    """This Dask worker's address and host (empty outside a Dask worker)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return ""
    try:
        address = str(distributed.get_worker().address)
    except ValueError:  # not in a worker
        return ""
    host = socket.gethostname()
    return f"worker {address}" if host in address else f"worker {address} ({host})"


def _check_readable(source: str) -> None:
    """In a Dask worker, a film file it cannot open fails with a line naming the worker
    (the film may be on the client's disk only)."""
    where = _where()
    if not where or not os.path.isabs(source):
        return
    try:
        with open(source, "rb"):
            pass
    except IsADirectoryError:
        return  # the render says what is wrong with it
    except OSError as exc:
        hint = " (is the folder shared at the same path?)" if not os.path.exists(source) else ""
        reason = exc.strerror or type(exc).__name__
        raise TaskError(f"{where} cannot read {source}: {reason}{hint}") from None


# -- in the worker -------------------------------------------------------------------------
# A local worker never handles Ctrl-C itself (it is ignored; a terminal sends it to the
# whole group): the client stops its workers through a pipe (:func:`_watch_client`), so
# a stop is a message here too, and the render returns what it did at its next strip.
# Whether this process has run the kernels (their OpenMP threads make fork unsafe).
_kernels_used = False
# The signal a film's own process (``--timeout``) is told to stop by.
_STOP_CHILD = signal.SIGUSR1


class NotStartedError(StreamspecError):
    """A film was not started: the batch was interrupted before its turn."""


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


def _render(
    source: str, options: RenderOptions, slots: tuple[int, int] | None, threads: int | None
) -> dict[str, Any]:
    from streamspec.pipeline.rendering import Renderer

    global _kernels_used
    _kernels_used = True
    if _signals.requested():
        raise NotStartedError("not started (interrupted)")
    renderer = Renderer(source, options, threads=threads)
    if slots is not None:
        renderer.only_slots(*slots)
    try:
        return renderer.run().to_json()
    except _signals.Interrupted:  # stopped before its first strip
        raise NotStartedError("not started (interrupted)") from None


def _outcome(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """``("ok", fn(*args))``, or ``("error", one line)`` for anything it raises: what a
    task's own process hands back (``("not started", ...)`` when it was stopped first)."""
    try:
        return ("ok", fn(*args))
    except NotStartedError as exc:
        return ("not started", str(exc))
    except StreamspecError as exc:
        return ("error", str(exc))
    except BaseException as exc:  # a bug or a decoder error: still one line
        return ("error", f"{type(exc).__name__}: {exc}")


def _in_film_process() -> None:
    """A film's own process: its own stop requests (from the worker, by
    :data:`_STOP_CHILD`), Ctrl-C ignored, and killed with the worker."""
    _signals.in_child_process()
    signal.signal(_STOP_CHILD, _signals.on_signal)
    _die_with_parent()


def _child(write_fd: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The body of a task's own process: the result or the one-line reason, pickled
    into the pipe; never returns (no atexit handlers, no flushing of the parent's
    buffers, nothing printed if the worker is gone)."""
    try:
        _in_film_process()
        out = _outcome(fn, args)
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(pickle.dumps(out))
    finally:
        os._exit(0)


def _unpack(result: str, value: Any) -> Any:
    if result == "not started":
        raise NotStartedError(value)
    if result != "ok":
        raise TaskError(value)
    return value


# -- a time limit in a Dask worker ------------------------------------------------------------
# The local pool enforces a task's time limit itself (it kills the worker and starts
# another). A Dask worker cannot: Dask never kills a running task, and its workers are
# daemonic processes, where multiprocessing (and so every pool library built on it:
# Pebble, loky, concurrent.futures) refuses to start children. So in a Dask worker a film
# with a time limit runs in a process forked by hand, its outcome pickled back through a
# pipe: the smallest part of process control this package still does itself.


def _with_time_limit(fn: Callable[..., T], args: tuple[Any, ...], timeout: float) -> T:
    """``fn(*args)`` in a process of its own, killed after ``timeout`` seconds: a decoder
    blocked in C (a FIFO, a server that never answers) cannot be stopped any other way.

    A plain ``os.fork``: the worker has imported everything already, so the film starts
    at once, and it works in daemonic workers (Dask's), where multiprocessing refuses
    children. The worker itself never runs the kernels then (their OpenMP threads and
    fork do not mix); each film's process loads them, about a second.
    """
    if _kernels_used:
        return _in_new_interpreter(fn, args, timeout)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (measured by the tests' outcomes)
        os.close(read_fd)
        _child(write_fd, fn, args)
    os.close(write_fd)
    # A stop request here is passed on: the film's process returns what it did.
    forward = _signals.on_request(lambda _: _kill_quietly(pid, _STOP_CHILD))
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([read_fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise _timeout_error(timeout)
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        forward()
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if not chunks:
        raise TaskError(f"the decoder crashed ({_exit_reason(status)})")
    return _unpack(*pickle.loads(b"".join(chunks)))


def _kill_quietly(pid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, sig)


def _in_new_interpreter(fn: Callable[..., T], args: tuple[Any, ...], timeout: float) -> T:
    """``fn(*args)`` in a fresh Python, killed after ``timeout`` seconds: for a worker that
    ran the kernels itself (a long-lived Dask worker that rendered films without a
    time limit), where a fork would abort in OpenMP. Slower to start (imports)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = "from streamspec.pipeline.parallel import _subprocess_main; _subprocess_main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    forward = _signals.on_request(lambda _: _kill_quietly(proc.pid, _STOP_CHILD))
    try:
        out, _ = proc.communicate(pickle.dumps((fn, args)), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise _timeout_error(timeout) from None
    finally:
        forward()
    if not out:
        raise TaskError(f"the decoder crashed (exit status {proc.returncode})")
    return _unpack(*pickle.loads(out))


def _subprocess_main() -> None:
    """The fresh Python of :func:`_in_new_interpreter`: a pickled call on stdin, its
    pickled outcome on stdout."""
    _in_film_process()
    fn, args = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(_outcome(fn, args)))
    sys.stdout.flush()


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def render_task(
    source: str,
    options: RenderOptions,
    slots: tuple[int, int] | None = None,
    timeout: float | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Render ``source`` (or only its ``slots`` range) and return the spectrum's JSON.

    Runs in a worker. ``timeout`` (seconds) is the film's time limit
    (:class:`FilmTimeoutError` when it is up): the local pool enforces it itself, killing
    and replacing the worker; elsewhere (a Dask worker) the film runs in a process of its
    own that is killed. ``threads`` caps the decoder's
    threads (see :func:`decoder_threads`; None: the mode's own). A user error becomes
    :class:`TaskError` with its one-line reason (plain data crosses processes and
    machines; the library's exception classes need not).
    """
    if _signals.requested():
        raise NotStartedError("not started (interrupted)")
    _check_readable(source)
    t0 = time.perf_counter()
    if timeout is not None:
        data = _with_time_limit(_render, (source, options, slots, threads), timeout)
    else:
        try:
            data = _render(source, options, slots, threads)
        except NotStartedError:
            raise
        except StreamspecError as exc:
            raise TaskError(str(exc)) from None
    # The render's own time (not its time in the queue), for the summary's costs.
    data["render_seconds"] = round(time.perf_counter() - t0, 3)
    return data


# -- executors -------------------------------------------------------------------------------
def _require_dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise DaskMissingError(
            "--dask needs Dask distributed: pip install 'streamspec[cluster]'"
        ) from None
    return distributed


# Modules a local worker process starts with: imported once, in the server it is forked
# from (numpy, PyAV, the render, Numba and the kernels' definitions -- not compiled, and
# no thread started), not once per worker.
_PRELOAD = [
    "pebble.pool.process",
    "streamspec.pipeline.parallel",
    "streamspec.pipeline.rendering",
    "streamspec.analysis._kernels",
]
# A LocalCluster's settings (a remote scheduler keeps its own).
_LOCAL_DASK_CONFIG = {
    # Workers forked from a server that has imported streamspec, as the process pool's
    # are, not fresh interpreters: a cluster of two closes in 0.05 s instead of 1.3-1.9 s
    # (measured), and a lost worker comes back sooner.
    "distributed.worker.multiprocessing-method": "forkserver",
    # One task per single-threaded worker at a time: the next film goes to whichever
    # worker frees first (the pool's order), none waits behind a long one (at 1.1, Dask
    # hands each worker two).
    "distributed.scheduler.worker-saturation": 1.0,
    # The worker's sampling profiler walks every thread's stack each 10 ms, holding the
    # GIL the render's decoding and quantizing threads share (a dashboard nobody opens).
    "distributed.worker.profile.enabled": False,
    # Nor does it need its event loop woken 50 times a second to check its own latency,
    # or its system and memory watched 2-10 times a second (each wake takes the GIL).
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    # Workers in the process pool's environment. Dask's default sets
    # MALLOC_TRIM_THRESHOLD_, which turns off glibc's adaptive mmap threshold: every
    # frame-sized buffer is then mapped and faulted in anew.
    "distributed.nanny.pre-spawn-environ": {},
}


@contextlib.contextmanager
def _dask_quiet(verbose: bool) -> Iterator[None]:
    """Dask's own log lines and warnings kept off the terminal (``verbose``: shown)."""
    if verbose:
        yield
        return
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"distributed(\.|$)")
            yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def local_cluster(jobs: int | None = None, *, verbose: bool = False) -> Iterator[Any]:
    """A Dask :class:`~distributed.LocalCluster` of ``jobs`` single-threaded worker
    processes (default: every core) and its :class:`~distributed.Client`, closed on
    exit -- what ``--dask local`` runs on. Its workers are forked from a server that has
    imported streamspec (``forkserver``, as the local process pool's are) and take one
    task at a time. No dashboard, and nothing of Dask's on the terminal (its log lines
    and warnings) unless ``verbose``."""
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    if forkserver and importlib.util.find_spec("distributed") is not None:
        # The server starts importing what a worker runs now, on another core, while
        # this process imports Dask (0.3-0.6 s off the start, measured).
        multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", *_PRELOAD])
        _start_servers()
    distributed = _require_dask()
    import dask  # installed with distributed

    jobs = jobs or cores()
    # For the cluster's whole life: the nannies read it again to restart a lost worker.
    with dask.config.set(_LOCAL_DASK_CONFIG), _dask_quiet(verbose):
        if forkserver:
            # Left to itself, distributed would set the server's preload to its own
            # packages, importing them here first (pandas among them: 0.4 s, measured).
            import distributed.utils

            distributed.utils._forkserver_preload_set = True
        cluster = distributed.LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's HTTP server (health checks, metrics) starts even without a
            # dashboard, on 8787 by default: here on any free port of this machine only.
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.INFO if verbose else logging.CRITICAL,
        )
        try:
            with distributed.Client(cluster, timeout=CONNECT_TIMEOUT * 6) as client:
                yield client
        finally:
            cluster.close()


def _connect(address: str, verbose: bool) -> contextlib.AbstractContextManager[Any]:
    """A client of the scheduler at ``address`` (checked) that has at least one worker,
    or a one-line :class:`InputError` within :data:`CONNECT_TIMEOUT` (no answer) or
    :data:`WORKERS_TIMEOUT` (no workers) seconds."""
    distributed = _require_dask()
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {address!r} within {CONNECT_TIMEOUT:g} s "
            f"({type(exc).__name__})"
        ) from None
    except (ValueError, TypeError, ImportError) as exc:  # a transport Dask cannot set up
        raise InputError(f"cannot connect to the Dask scheduler at {address!r}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(
            f"the Dask scheduler at {address!r} has no workers (waited {WORKERS_TIMEOUT:g} s); "
            f"start some with: dask worker {address}"
        ) from None
    if verbose:
        _say_size(client, address)
    return client


def _say_size(client: Any, where: str) -> None:
    """One line on stderr: the cluster's workers and threads (what a film is split by)."""
    threads = client.nthreads()
    n, t = len(threads), sum(threads.values())
    print(f"dask: {where}: {n} worker{'s' * (n != 1)}, {t} thread{'s' * (t != 1)}", file=sys.stderr)


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


@contextlib.contextmanager
def executor(
    jobs: int | None = None, dask: str | None = None, *, verbose: bool = False
) -> Iterator[Executor]:
    """A :class:`concurrent.futures.Executor` running tasks in ``jobs`` processes (default:
    every core), or on the Dask scheduler at ``dask`` (``"local"``: a
    :func:`local_cluster` of ``jobs`` single-threaded worker processes; an address is
    checked by :func:`dask_address`).

    Dask tasks are retried twice (``retries=2``) and never cached (``pure=False``: a
    film redone with ``--force`` must be rendered again). An unreachable scheduler
    raises :class:`InputError` within :data:`CONNECT_TIMEOUT` seconds, one without
    workers within :data:`WORKERS_TIMEOUT`. Dask's log lines and warnings are shown
    only when ``verbose``. :func:`pool_threads` tells how many tasks it runs at once.
    """
    jobs = jobs or cores()
    if dask is None:
        with _local_pool(jobs) as pool:
            yield pool
        return
    address = dask_address(dask)
    with contextlib.ExitStack() as stack:
        if address == "local":  # imports Dask itself, once its workers' server is starting
            client = stack.enter_context(local_cluster(jobs, verbose=verbose))
            if verbose:
                _say_size(client, f"a local cluster at {client.scheduler.address}")
        else:
            _require_dask()  # imported first: its import sets its loggers' levels
            stack.enter_context(_dask_quiet(verbose))
            client = stack.enter_context(_connect(address, verbose))
        yield client.get_executor(retries=2, pure=False)


def pool_threads(pool: Executor) -> int:
    """How many tasks ``pool`` runs at once: a Dask cluster's worker threads now (what
    a film is split by, whatever the client's cores), a process pool's processes."""
    client = getattr(pool, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        with contextlib.suppress(Exception):
            return max(1, sum(client.nthreads().values()))
    workers = getattr(pool, "_max_workers", None)
    return int(workers) if isinstance(workers, int) and workers > 0 else cores()


# -- one film in ranges ----------------------------------------------------------------------
@dataclass
class RangePlan:
    """A film's slot ranges, with its options settled (the crop detected once)."""

    options: RenderOptions
    slots: int
    ranges: list[tuple[int, int]]
    crop_mode: str
    note: str | None = None  # what the default sampling chose (Renderer.sampling_note)


def plan_ranges(source: str, options: RenderOptions, parts: int) -> RangePlan:
    """Open ``source`` here, settle its crop (detected once, not once per worker) and
    split its slots into ``parts`` ranges. Refuses an open-ended source."""
    from streamspec.pipeline.rendering import Renderer

    renderer = Renderer(source, options)
    try:
        if renderer.grid.slots is None:
            raise InputError(f"{source!r} has no known end: it cannot be split into ranges")
        renderer.prepare()
        crop = renderer.source.crop
        settled = options.override(crop=crop if isinstance(crop, Crop) else None)
        mode = renderer.spectrum.settings.get("crop_mode", "manual")
        slots = renderer.grid.slots
        ranges = split_slots(slots, parts)
        return RangePlan(settled, slots, ranges, mode, renderer.sampling_note)
    finally:
        renderer.close()


def plan_task(
    source: str, options: RenderOptions, parts: int, timeout: float | None = None
) -> RangePlan:
    """:func:`plan_ranges` as a worker's task (within ``timeout`` seconds)."""
    if _signals.requested():
        raise NotStartedError("not started (interrupted)")
    _check_readable(source)
    if timeout is not None:
        return _with_time_limit(plan_ranges, (source, options, parts), timeout)
    try:
        return plan_ranges(source, options, parts)
    except StreamspecError as exc:
        raise TaskError(str(exc)) from None


def merge_parts(parts: Sequence[dict[str, Any]], *, crop_mode: str | None = None) -> Spectrum:
    """One spectrum from the JSON of a film's ranges (in slot order): strips by slot,
    warnings once each, damage counts added, partial if any part is. A part that ended
    early (the video is shorter than it said) ends the film there."""
    from streamspec.analysis.segments import segment_spectrum

    if not parts:
        raise InputError("nothing to merge")
    merged = Spectrum.from_json(parts[0])
    merged.warnings = []
    for data in parts:
        part = Spectrum.from_json(data)
        merged.extend(part.strips)
        merged.partial = merged.partial or part.partial
        for w in part.warnings:
            if w not in merged.warnings:
                merged.warnings.append(w)
    merged.skipped_frames = sum(int(p.get("skipped_frames", 0)) for p in parts)
    slots = [p.get("slots") for p in parts]
    known = [s for s in slots if s is not None]
    if known:
        merged.slots = min(known)
    if crop_mode is not None:
        merged.settings["crop_mode"] = crop_mode
    if merged.settings.get("segments") == "auto" and not merged.partial:
        segment_spectrum(merged, min_seconds=merged.settings.get("min_segment"))
    return merged


def render_parallel(
    source: str,
    options: RenderOptions,
    pool: Executor,
    parts: int,
    *,
    on_part: Any = None,
    on_plan: Callable[[RangePlan], object] | None = None,
    threads: int | None = None,
) -> Spectrum:
    """Render ``source`` as ``parts`` slot ranges on ``pool`` and merge them (``threads``:
    each range's decoder threads, as for :func:`render_task`).

    A stop request (Ctrl-C, SIGTERM) cancels the ranges not started, waits for the
    running ones (which return what they did) and returns the merged partial spectrum;
    with nothing done it raises :class:`~streamspec.pipeline._signals.Interrupted`.
    """
    plan = plan_ranges(source, options, parts)
    there = worker_source(source)
    if on_plan is not None:
        on_plan(plan)
    futures: list[Future[dict[str, Any]]] = [
        pool.submit(render_task, there, plan.options, r, None, threads) for r in plan.ranges
    ]
    results: list[dict[str, Any] | None] = [None] * len(futures)
    reported: set[int] = set()
    stopped = _stop_future()
    try:
        pending: set[Future[Any]] = set(futures)
        while pending and not _signals.requested():
            done, pending = wait({*pending, stopped}, return_when=FIRST_COMPLETED)
            pending.discard(stopped)
            for i, fut in enumerate(futures):
                if fut not in done or i in reported:
                    continue
                reported.add(i)
                try:
                    results[i] = fut.result()
                except NotStartedError:
                    continue
                except TaskError as exc:
                    for f in futures:
                        f.cancel()
                    raise InputError(str(exc)) from None
                if on_part is not None:
                    on_part(i, plan.ranges[i])
        if _signals.requested():
            with _signals.saving():  # the running ranges return what they did
                for f in futures:
                    f.cancel()
                wait(futures, timeout=30)
                for i, fut in enumerate(futures):
                    if results[i] is None and fut.done() and not fut.cancelled():
                        with contextlib.suppress(Exception):
                            results[i] = fut.result()
    finally:
        stopped.cancel()
    done_parts = [r for r in results if r is not None]
    if not done_parts:
        raise _signals.Interrupted()
    spectrum = merge_parts(done_parts, crop_mode=plan.crop_mode)
    if spectrum.source.get("name") == there:  # the film as the user named it
        spectrum.source["name"] = source
    if len(done_parts) < len(results):
        spectrum.partial = True
    return spectrum


def _stop_future() -> Future[int]:
    """A future that completes when a stop is requested: a scheduler waits on it with
    its tasks, so a stop wakes it at once."""
    fut: Future[int] = Future()

    def done(signum: int) -> None:
        with contextlib.suppress(Exception):  # (already done)
            fut.set_result(signum)

    remove = _signals.on_request(done)
    fut.add_done_callback(lambda _: remove())
    return fut
