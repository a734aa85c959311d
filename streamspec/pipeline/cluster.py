"""Dask: a scheduler's address checked, a client or a local cluster, and what a task
needs in a Dask worker.

:func:`dask_address` checks and normalises ``--dask``'s value; :func:`local_cluster` is
what ``--dask local`` runs on; :func:`_connect` reaches a remote scheduler that has
workers, in one line when it cannot; Dask's own log lines and warnings stay off the
terminal unless asked for (:func:`_dask_quiet`). In a worker, a film file it cannot
read fails naming the worker (:func:`_check_readable`), and a film with a time limit
runs in a process forked by hand (:func:`_with_time_limit`): Dask never kills a running
task, and its daemonic workers may start no multiprocessing child. Dask itself is
imported only when a cluster is used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import logging
import multiprocessing
import os
import pickle
import re
import select
import signal
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from streamspec.core.errors import InputError, StreamspecError
from streamspec.pipeline import _signals
from streamspec.pipeline.pool import (
    _PRELOAD,
    NotStartedError,
    TaskError,
    _die_with_parent,
    _start_servers,
    _timeout_error,
    cores,
)

T = TypeVar("T")

# How long an unreachable Dask scheduler is waited for.
CONNECT_TIMEOUT = 5.0
# How long a scheduler without workers is waited for (workers starting at the same time).
WORKERS_TIMEOUT = 10.0
# The transports of Dask's distributed (distributed.comm.registry) a client can reach.
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


class DaskMissingError(StreamspecError, ImportError):
    """Dask distributed is not installed."""


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


def _require_dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise DaskMissingError(
            "--dask needs Dask distributed: pip install 'streamspec[cluster]'"
        ) from None
    return distributed


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


# -- a time limit in a Dask worker ------------------------------------------------------------
# The local pool enforces a task's time limit itself (it kills the worker and starts
# another). A Dask worker cannot: Dask never kills a running task, and its workers are
# daemonic processes, where multiprocessing (and so every pool library built on it:
# Pebble, loky, concurrent.futures) refuses to start children. So in a Dask worker a film
# with a time limit runs in a process forked by hand, its outcome pickled back through a
# pipe: the smallest part of process control this package still does itself.

# Whether this process has run the kernels (their OpenMP threads make fork unsafe).
_kernels_used = False
# The signal a film's own process (``--timeout``) is told to stop by.
_STOP_CHILD = signal.SIGUSR1


def _mark_kernels_used() -> None:
    """This process has run the kernels: a film with a time limit then starts a fresh
    Python (:func:`_in_new_interpreter`), not a fork."""
    global _kernels_used
    _kernels_used = True


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

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = "from streamspec.pipeline.cluster import _subprocess_main; _subprocess_main()"
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
