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

The local pool lives in :mod:`streamspec.pipeline.pool`, Dask in
:mod:`streamspec.pipeline.cluster`; their names are importable from here too.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from streamspec.core.errors import InputError, StreamspecError
from streamspec.core.options import Crop, RenderOptions
from streamspec.outputs.spectrum import Spectrum
from streamspec.pipeline import _signals

# The names that moved to the pool's and the cluster's modules, still importable here.
from streamspec.pipeline.cluster import _LOCAL_DASK_CONFIG as _LOCAL_DASK_CONFIG
from streamspec.pipeline.cluster import _STOP_CHILD as _STOP_CHILD
from streamspec.pipeline.cluster import CONNECT_TIMEOUT as CONNECT_TIMEOUT
from streamspec.pipeline.cluster import DASK_SCHEMES as DASK_SCHEMES
from streamspec.pipeline.cluster import WORKERS_TIMEOUT as WORKERS_TIMEOUT
from streamspec.pipeline.cluster import DaskMissingError as DaskMissingError
from streamspec.pipeline.cluster import _check_readable as _check_readable
from streamspec.pipeline.cluster import _check_tls as _check_tls
from streamspec.pipeline.cluster import _child as _child
from streamspec.pipeline.cluster import _connect as _connect
from streamspec.pipeline.cluster import _dask_quiet as _dask_quiet
from streamspec.pipeline.cluster import _exit_reason as _exit_reason
from streamspec.pipeline.cluster import _in_film_process as _in_film_process
from streamspec.pipeline.cluster import _in_new_interpreter as _in_new_interpreter
from streamspec.pipeline.cluster import _kill_quietly as _kill_quietly
from streamspec.pipeline.cluster import _mark_kernels_used as _mark_kernels_used
from streamspec.pipeline.cluster import _outcome as _outcome
from streamspec.pipeline.cluster import _require_dask as _require_dask
from streamspec.pipeline.cluster import _say_size as _say_size
from streamspec.pipeline.cluster import _subprocess_main as _subprocess_main
from streamspec.pipeline.cluster import _unpack as _unpack
from streamspec.pipeline.cluster import _where as _where
from streamspec.pipeline.cluster import _with_time_limit as _with_time_limit
from streamspec.pipeline.cluster import dask_address as dask_address
from streamspec.pipeline.cluster import local_cluster as local_cluster
from streamspec.pipeline.pool import _PRELOAD as _PRELOAD
from streamspec.pipeline.pool import FilmTimeoutError as FilmTimeoutError
from streamspec.pipeline.pool import NotStartedError as NotStartedError
from streamspec.pipeline.pool import TaskError as TaskError
from streamspec.pipeline.pool import _die_with_parent as _die_with_parent
from streamspec.pipeline.pool import _ended as _ended
from streamspec.pipeline.pool import _local_pool as _local_pool
from streamspec.pipeline.pool import _LocalPool as _LocalPool
from streamspec.pipeline.pool import _PoolTask as _PoolTask
from streamspec.pipeline.pool import _start_servers as _start_servers
from streamspec.pipeline.pool import _stderr_to_devnull as _stderr_to_devnull
from streamspec.pipeline.pool import _timeout_error as _timeout_error
from streamspec.pipeline.pool import _watch_client as _watch_client
from streamspec.pipeline.pool import _worker_init as _worker_init
from streamspec.pipeline.pool import cores as cores

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


def worker_source(source: str) -> str:
    """``source`` as a worker must be given it: a local file as an absolute path (a
    worker runs in a folder of its own, on its own machine), anything else as it is."""
    from streamspec.pipeline.rendering import source_file

    path = source_file(source)
    return source if path is None else os.path.abspath(path)


def _render(
    source: str, options: RenderOptions, slots: tuple[int, int] | None, threads: int | None
) -> dict[str, Any]:
    from streamspec.pipeline.rendering import Renderer

    _mark_kernels_used()
    if _signals.requested():
        raise NotStartedError("not started (interrupted)")
    renderer = Renderer(source, options, threads=threads)
    if slots is not None:
        renderer.only_slots(*slots)
    try:
        return renderer.run().to_json()
    except _signals.Interrupted:  # stopped before its first strip
        raise NotStartedError("not started (interrupted)") from None


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
