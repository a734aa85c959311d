"""Film libraries: render many films into one folder, resumably, on every core.

:func:`find_films` turns the inputs (files, folders searched recursively by video
extension, globs, ``@list.txt`` files of paths or URLs) into films; :func:`plan_batch`
gives each its output name in OUTDIR and says whether it is already done (both in
:mod:`streamspec.pipeline.films`, importable from here too);
:func:`run_batch` renders the rest on an executor (:mod:`streamspec.pipeline.parallel`: local
processes or Dask), writes every spectrum as it comes back, and ends with a summary
(``OUTDIR/batch.json``) and the corpus tables.

One bad film never stops a batch: its one-line reason goes in the summary. A film is
skipped when its JSON records the same source (path, size and modification time) and
the same options, and is not partial.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamspec.core._io import atomic_write, check_writable, output_lock, shown
from streamspec.core.errors import InputError, OutputError, StreamspecError
from streamspec.core.options import DEFAULT_SAMPLING_TEXT, RenderOptions
from streamspec.outputs.spectrum import Spectrum, json_path_for
from streamspec.pipeline import _signals
from streamspec.pipeline._signals import save_safely
from streamspec.pipeline.films import (
    CORPUS,
    SUMMARY,
    VIDEO_EXTENSIONS,
    Film,
    _identity,
    _probe_hours,
    find_films,
    options_key,
    plan_batch,
)
from streamspec.pipeline.films import reserved_names as reserved_names
from streamspec.pipeline.parallel import (
    NotStartedError,
    _stop_future,
    merge_parts,
    plan_task,
    pool_threads,
    render_task,
)

__all__ = [
    "VIDEO_EXTENSIONS",
    "BatchResult",
    "Film",
    "find_films",
    "options_key",
    "plan_batch",
    "run_batch",
]


# -- running ---------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What a batch did, film by film; :attr:`failed` non-empty means exit status 1."""

    films: list[Film]
    outdir: Path
    seconds: float = 0.0
    interrupted: bool = False
    corpus: str = ""
    notes: list[str] = field(default_factory=list)

    def of(self, state: str) -> list[Film]:
        return [f for f in self.films if f.state == state]

    @property
    def failed(self) -> list[Film]:
        return self.of("failed")

    def summary(self) -> dict[str, Any]:
        return {
            "format": "streamspec-batch",
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "outdir": str(self.outdir),
            "seconds": round(self.seconds, 2),
            "interrupted": self.interrupted,
            "counts": {s: len(self.of(s)) for s in ("done", "skipped", "partial", "failed")},
            "films": [f.record() for f in self.films],
            "corpus": self.corpus,
        }


class Progress:
    """Films done/total, hours of film done/total with an ETA, and films in flight."""

    def __init__(self, films: Sequence[Film], write: Callable[[str], None] | None) -> None:
        self.total = len(films)
        self.hours_total = sum(f.hours or 0.0 for f in films)
        self.done = 0
        self.hours_done = 0.0
        self.t0 = time.perf_counter()
        self.write = write
        self.workers = 1  # how many films can be in flight at once

    def film(self, film: Film, in_flight: int) -> None:
        self.done += 1
        self.hours_done += film.hours or 0.0
        if self.write is None:
            return
        elapsed = time.perf_counter() - self.t0
        eta = ""
        if self.hours_done > 0 and self.hours_total > self.hours_done:
            left = elapsed / self.hours_done * (self.hours_total - self.hours_done)
            eta = f", ETA {_duration(left)}"
        what = film.state if film.state != "failed" else f"FAILED: {film.reason}"
        if film.ranges > 1 and film.state != "failed":
            what += f" ({film.ranges} ranges)"
        self.write(
            f"[{self.done}/{self.total} films, {self.hours_done:.2f}/{self.hours_total:.2f} h"
            f"{eta}, {in_flight} in flight] {shown(Path(film.input).name)}: {shown(what)}"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_outdir(outdir: str | os.PathLike[str]) -> Path:
    """OUTDIR, checked before any work: an existing writable folder, or a name that can
    be created (a writable folder above it). Nothing is created here."""
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {str(out)!r} is a file")
    if out.is_dir():
        check_writable(out / SUMMARY)
        return out
    parent = out.parent
    while not parent.exists() and parent != parent.parent:  # mkdir -p makes the rest
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(
            f"cannot create the output folder {str(out)!r}: {str(parent)!r} is a file"
        )
    check_writable(parent / f".{out.name}.probe")
    return out


def _save(film: Film, data: dict[str, Any], options: RenderOptions) -> None:
    """Write a film's spectrum (its batch record added) to its output, atomically."""
    source = dict(data.get("source") or {})
    if source.get("name") == film.source:
        source["name"] = film.input  # the film as the user named it
    data["source"] = {
        **source,
        "batch": {
            "input": _identity(film),
            "size": film.size,
            "mtime_ns": film.mtime_ns,
            "options": options_key(options),
        },
    }
    spectrum = Spectrum.from_json(data, name=repr(film.input))
    assert film.output is not None
    save_safely(spectrum, film.output)
    duration = spectrum.source.get("duration")
    if isinstance(duration, (int, float)) and film.hours is None:
        film.hours = duration / 3600
    film.state = "partial" if spectrum.partial else "done"


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    options: RenderOptions | None = None,
    pool: Executor | None = None,
    *,
    jobs: int | None = None,
    dask: str | None = None,
    verbose: bool = False,
    force: bool = False,
    timeout: float | None = None,
    corpus: bool = True,
    split: bool = True,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Render every film of ``inputs`` into ``outdir`` (see the module's description).

    ``pool`` is the executor to use (default: :func:`streamspec.pipeline.parallel.executor` of
    ``jobs`` and ``dask``; ``verbose`` shows Dask's own messages). With ``split``, a film
    longer than a worker's share of the batch is rendered as time ranges on several
    workers (:func:`split_parts`; ``jobs`` workers, by default as many as the pool runs
    at once: a Dask cluster's worker threads, :func:`streamspec.pipeline.parallel.pool_threads`).
    ``threads`` caps each film's decoder threads
    (:func:`streamspec.pipeline.parallel.decoder_threads`; None: its mode's own). ``log`` gets the
    progress lines.
    A stop request (Ctrl-C, SIGTERM; see :mod:`streamspec.pipeline._signals`) stops the batch:
    films not started are left for the next run, the running ones come back partial
    (local processes) and are saved; the summary is written either way. Raises
    :class:`InputError` when no input names a film, :class:`OutputError` when
    ``outdir`` cannot be written -- both before any work.
    """
    from streamspec.pipeline.parallel import executor

    t0 = time.perf_counter()
    options = options or RenderOptions()
    if jobs is not None:
        from streamspec.core.limits import check_jobs

        check_jobs(jobs, local=dask in (None, "local"), flag="jobs")
    out = check_outdir(outdir)
    inputs = list(inputs)
    films, bad = find_films(inputs)
    if not films:
        reasons = "; ".join(f"{f.input}: {f.reason}" for f in bad) or "no inputs"
        raise InputError(f"no films to render ({reasons})")
    lists = [os.fspath(i)[1:] for i in inputs if os.fspath(i).startswith("@")]
    plan_batch(films, out, options, force=force, inputs=lists)
    for film in films:
        if film.state == "todo":
            _probe_hours(film)
    result = BatchResult([*films, *bad], out)
    result.seconds = time.perf_counter() - t0  # finding and planning; the rest is added
    todo = [f for f in films if f.state == "todo"]
    progress = Progress(todo, log)
    if log is not None:
        skipped = len(films) - len(todo)
        log(
            f"{len(todo)} films to render ({progress.hours_total:.2f} h known), "
            f"{skipped} already done, {len(bad)} bad inputs"
        )
        sampling = options.sampling
        if todo and sampling.every is None and sampling.strips is None:
            log(f"{DEFAULT_SAMPLING_TEXT}; --every or --strips to choose")
    if _signals.requested():  # asked to stop while the films were found: start nothing
        result.interrupted = True
        todo, films_left = [], todo
        for film in films_left:
            film.reason = "not started (interrupted)"
    with contextlib.ExitStack() as stack:
        if todo and pool is None:
            # Before OUTDIR is made: an unreachable scheduler leaves nothing behind.
            pool = stack.enter_context(executor(jobs, dask, verbose=verbose))
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {str(out)!r}: {exc}") from None
        # One batch at a time in a folder: a second is refused before it renders.
        stack.enter_context(output_lock(out / SUMMARY, advice="write to another folder with -o"))
        progress.workers = jobs or (pool_threads(pool) if pool is not None else 1)
        split_jobs = progress.workers if split else 1
        _run_and_report(todo, pool, options, timeout, progress, result, corpus, split_jobs, threads)
    return result


def _run_and_report(
    todo: list[Film],
    pool: Executor | None,
    options: RenderOptions,
    timeout: float | None,
    progress: Progress,
    result: BatchResult,
    corpus: bool,
    split_jobs: int,
    threads: int | None,
) -> None:
    """Render the films, then write the corpus and the summary (also when interrupted)."""
    t0 = progress.t0
    try:
        if todo:
            assert pool is not None
            _run(todo, pool, options, timeout, progress, result, split_jobs, threads)
    finally:
        result.interrupted = result.interrupted or _signals.requested()
        for film in todo:
            if film.state == "todo":
                film.reason = "not started (interrupted)"
        result.seconds = time.perf_counter() - t0 + result.seconds
        with _signals.saving():
            if corpus and not result.interrupted:
                _write_corpus(result)
            text = json.dumps(result.summary(), indent=1)
            atomic_write(result.outdir / SUMMARY, lambda fh: fh.write(text.encode("utf-8")))


@dataclass
class _Job:
    """A film in flight: one task, or a plan task and then one task per range."""

    film: Film
    parts: list[dict[str, Any] | None] | None = None  # the ranges' results (split films)
    crop_mode: str | None = None
    data: dict[str, Any] | None = None  # the whole film's result
    error: str = ""
    not_started: bool = False


def split_parts(film: Film, share_hours: float, jobs: int) -> int:
    """How many ranges a film is rendered in: its running time over a worker's fair
    share of the batch (``share_hours``), at most ``jobs``. A film of about a share or
    less is one task; one long film among short ones (or alone) keeps every worker
    busy. Films of unknown length (URLs, unreadable headers) are never split."""
    if film.hours is None or share_hours <= 0 or jobs < 2:
        return 1
    return max(1, min(jobs, round(film.hours / share_hours)))


def _longest_first(film: Film) -> float:
    return -math.inf if film.hours is None else -film.hours


def _run(
    todo: list[Film],
    pool: Executor,
    options: RenderOptions,
    timeout: float | None,
    progress: Progress,
    result: BatchResult,
    split_jobs: int = 1,
    threads: int | None = None,
) -> None:
    """Submit every film (long ones as ranges, planned by a worker), then save each film
    as soon as all of it is back (the client alone writes OUTDIR)."""
    running: dict[Future[Any], tuple[_Job, str, int]] = {}
    share = progress.hours_total / split_jobs if split_jobs > 1 else 0.0

    def submit(job: _Job, kind: str, index: int, fn: Any, *args: Any) -> None:
        running[pool.submit(fn, *args)] = (job, kind, index)

    # Longest first: the films that start last are short ones, so no worker is left
    # rendering a long film alone at the end (films of unknown length count as long).
    for film in sorted(todo, key=_longest_first):
        job = _Job(film)
        parts = split_parts(film, share, split_jobs)
        there = film.source
        if parts > 1:
            submit(job, "plan", 0, plan_task, there, options, parts, timeout)
        else:
            submit(job, "film", 0, render_task, there, options, None, timeout, threads)

    def collect(fut: Future[Any]) -> None:
        job, kind, index = running.pop(fut)
        try:
            value = fut.result()
        except NotStartedError:
            job.not_started = True
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            if _signals.requested():
                # After Ctrl-C an error is the interruption's (a cluster's workers stop
                # too): the film is left for the next run, not reported as failed.
                job.not_started = True
            elif isinstance(exc, (StreamspecError, OSError)):
                job.error = job.error or _one_line(exc)
            else:  # a worker's bug or a lost worker: one film's failure
                job.error = job.error or f"{type(exc).__name__}: {_one_line(exc)}"
        else:
            if kind == "plan":
                job.parts, job.crop_mode = [None] * len(value.ranges), value.crop_mode
                job.film.ranges = len(value.ranges)
                try:
                    for i, r in enumerate(value.ranges if not _signals.requested() else []):
                        args = (job.film.source, value.options, r, timeout, threads)
                        submit(job, "range", i, render_task, *args)
                except Exception as exc:  # a broken pool (a worker crashed): this film fails
                    job.error = f"{type(exc).__name__}: {_one_line(exc)}"
            else:
                job.film.seconds += float(value.pop("render_seconds", 0.0))
                if kind == "range":
                    assert job.parts is not None
                    job.parts[index] = value
                else:
                    job.data = value
        if job.error:  # the film has failed: its other ranges need not run
            for f, (other, _, _) in running.items():
                if other is job:
                    f.cancel()
        if any(other is job for other, _, _ in running.values()):
            return
        finish(job)

    def finish(job: _Job) -> None:
        film = job.film
        try:
            if job.error:
                film.state, film.reason = "failed", job.error
            elif job.data is not None:
                _save(film, job.data, options)
            elif job.parts is not None and any(p is not None for p in job.parts):
                done = [p for p in job.parts if p is not None]
                spectrum = merge_parts(done, crop_mode=job.crop_mode)
                spectrum.partial = spectrum.partial or len(done) < len(job.parts)
                _save(film, spectrum.to_json(), options)
            else:
                film.reason = "not started (interrupted)"
                return
        except (StreamspecError, OSError) as exc:
            film.state, film.reason = "failed", _one_line(exc)
        # Every film is submitted at once, so the films not finished are "in flight" only
        # as far as there are workers for them (a split film counts once).
        waiting = len({id(j) for j, _, _ in running.values()})
        progress.film(film, min(waiting, progress.workers))

    # A stop request (Ctrl-C, SIGTERM) completes this future: the wait below wakes at
    # once; the local pool has already told its workers (their renders return what
    # they did at their next strip).
    stopped = _stop_future()
    try:
        while running and not _signals.requested():
            finished, _ = wait([*running, stopped], return_when=FIRST_COMPLETED)
            for fut in finished:
                if fut is not stopped:
                    collect(fut)
        if running:
            _stop(running, result, collect, finish)
    finally:
        stopped.cancel()


def _stop(
    running: dict[Future[Any], tuple[_Job, str, int]],
    result: BatchResult,
    collect: Callable[[Future[Any]], None],
    finish: Callable[[_Job], None],
) -> None:
    """After a stop request: cancel what has not started, and save what the running
    films return (partial spectra) as they come back, within 30 s."""
    result.interrupted = True
    with _signals.saving():  # a second Ctrl-C gets a line saying so
        for fut in running:
            fut.cancel()
        deadline = time.monotonic() + 30
        while running:
            left = deadline - time.monotonic()
            finished, _ = wait(list(running), timeout=max(0.0, left))
            for fut in finished:
                collect(fut)  # its spectrum saved, or the film left for the next run
            if left <= 0:
                break
        for fut in list(running):  # not back in time: left for the next run
            job, _, _ = running.pop(fut)
            if not any(other is job for other, _, _ in running.values()):
                finish(job)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _write_corpus(result: BatchResult) -> None:
    """``corpus.parquet`` of every film in OUTDIR, or a note saying why not."""
    from streamspec.outputs.corpus import MissingDependencyError, build_corpus

    spectra = [
        json_path_for(f.output)
        for f in result.films
        if f.state in ("done", "skipped", "partial") and f.output is not None
    ]
    if not spectra:
        result.corpus = "not written: no spectra"
        return
    try:
        built = build_corpus(spectra, result.outdir / CORPUS)
    except MissingDependencyError:
        result.corpus = "not written: pip install 'streamspec[corpus]' for corpus.parquet"
    except StreamspecError as exc:
        result.corpus = f"not written: {exc}"
    else:
        result.corpus = str(built.colours_path)


def print_summary(result: BatchResult, file: Any = None) -> None:
    """The end-of-batch summary: counts, then each failure with its reason."""
    file = file or sys.stdout
    n = {s: len(result.of(s)) for s in ("done", "skipped", "partial", "failed")}
    print(
        f"batch: {n['done']} done, {n['skipped']} skipped, {n['partial']} partial, "
        f"{n['failed']} failed in {_duration(result.seconds)}; summary in "
        f"{shown(result.outdir / SUMMARY)}",
        file=file,
    )
    if result.interrupted:
        left = len([f for f in result.films if f.state == "todo"])
        print(
            f"  interrupted: {n['partial']} saved partial, {left} not started; "
            "the next run renders them",
            file=file,
        )
    for film in result.failed:
        print(f"  failed: {shown(film.input)}: {shown(film.reason)}", file=file)
    if result.corpus and not result.corpus.startswith(str(result.outdir)):
        print(f"  corpus {shown(result.corpus)}", file=file)
    elif result.corpus:
        print(f"  corpus: {shown(result.corpus)}", file=file)
