"""Film libraries: render many films into one folder, resumably, on every core.

:func:`find_films` turns the inputs (files, folders searched recursively by video
extension, globs, ``@list.txt`` files of paths or URLs) into films; :func:`plan_batch`
gives each its output name in OUTDIR and says whether it is already done;
:func:`run_batch` renders the rest on an executor (:mod:`streamspec.pipeline.parallel`: local
processes or Dask), writes every spectrum as it comes back, and ends with a summary
(``OUTDIR/batch.json``) and the corpus tables.

One bad film never stops a batch: its one-line reason goes in the summary. A film is
skipped when its JSON records the same source (path, size and modification time) and
the same options, and is not partial.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamspec.core._io import (
    atomic_write,
    check_writable,
    load_json,
    output_lock,
    read_limited,
    shown,
)
from streamspec.core.errors import InputError, OutputError, StreamspecError
from streamspec.core.limits import MAX_FILES_SEEN, MAX_FILMS, MAX_JSON_BYTES, MAX_TEXT_BYTES
from streamspec.core.options import DEFAULT_SAMPLING_TEXT, Crop, RenderOptions
from streamspec.outputs.spectrum import Spectrum, image_mismatch, json_path_for
from streamspec.pipeline import _signals
from streamspec.pipeline._signals import save_safely
from streamspec.pipeline.parallel import (
    NotStartedError,
    _stop_future,
    merge_parts,
    plan_task,
    pool_threads,
    render_task,
    worker_source,
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

VIDEO_EXTENSIONS = frozenset(
    (
        *(".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts"),
        *(".mts", ".wmv", ".flv", ".ogv", ".3gp", ".mxf", ".vob", ".y4m", ".dv"),
    )
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
SUMMARY = "batch.json"
CORPUS = "corpus.parquet"


@dataclass
class Film:
    """One film of a batch: what was given, where it goes, and how it went."""

    input: str
    output: Path | None = None
    size: int | None = None
    mtime_ns: int | None = None
    hours: float | None = None  # running time, when it could be probed
    state: str = "todo"  # todo, skipped, done, partial, failed
    reason: str = ""
    seconds: float = 0.0
    ranges: int = 1  # time ranges it was rendered in, on as many workers

    @property
    def is_url(self) -> bool:
        return bool(_URL.match(self.input)) and not self.input.startswith("file://")

    @property
    def source(self) -> str:
        """The film as a worker is given it: a file by its absolute path (workers run in
        folders of their own, on other machines), a URL as it is."""
        return worker_source(self.input)

    def record(self) -> dict[str, Any]:
        """The film's line in the summary."""
        d: dict[str, Any] = {"input": self.input, "state": self.state}
        if self.output is not None:
            d["output"] = str(self.output)
        if self.hours is not None:
            d["hours"] = round(self.hours, 4)
        if self.reason:
            d["reason"] = self.reason
        if self.state in ("done", "partial"):
            d["seconds"] = round(self.seconds, 2)
            if self.ranges > 1:
                d["ranges"] = self.ranges
        return d


# -- finding the films -----------------------------------------------------------------------
# Directories deeper than this are not searched (a path that deep is a loop or an error).
_MAX_DEPTH = 256


def _search(pattern: str, *, hidden: bool = False) -> list[str]:
    """The paths matching a glob ``pattern`` (``*``, ``?``, ``[...]``, ``**`` for any
    folders), searched with bounds: a folder reached again through a symlink (a loop)
    is searched once, and more than ``MAX_FILES_SEEN`` entries looked at is refused
    with one line. Hidden names match only a pattern that names them (or ``hidden``)."""
    parts = pattern.split(os.sep)
    root = os.sep if pattern.startswith(os.sep) else ""
    if root:
        parts = parts[1:]
    found: list[str] = []
    visited: set[tuple[int, int, int]] = set()
    seen = 0

    def entries(folder: str) -> list[os.DirEntry[str]]:
        nonlocal seen
        try:
            with os.scandir(folder or ".") as it:
                listed = sorted(it, key=lambda e: e.name)
        except OSError:
            return []
        seen += len(listed)
        if seen > MAX_FILES_SEEN:
            raise InputError(
                f"{shown(pattern)!r}: more than {MAX_FILES_SEEN:,} files looked at; "
                "name a smaller folder"
            )
        return listed

    def shows(name: str, part: str) -> bool:
        return hidden or not name.startswith(".") or part.startswith(".")

    def is_dir(e: os.DirEntry[str]) -> bool:
        try:
            return e.is_dir()
        except OSError:
            return False

    def join(folder: str, name: str) -> str:
        return os.path.join(folder, name) if folder else name

    def visit(folder: str, i: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if i == len(parts):
            found.append(folder)
            return
        part = parts[i]
        if part == "**":
            visit(folder, i + 1, depth)  # no folder at all
            for e in entries(folder):
                if not shows(e.name, "") or not is_dir(e):
                    continue
                try:
                    st = os.stat(e.path)
                except OSError:
                    continue
                key = (i, st.st_dev, st.st_ino)
                if key not in visited:  # each folder once, however many links lead to it
                    visited.add(key)
                    visit(join(folder, e.name), i, depth + 1)
            return
        last = i == len(parts) - 1
        if not glob.has_magic(part):
            path = join(folder, part) if part else folder
            if last and os.path.lexists(path):
                found.append(path)
            elif not last and os.path.isdir(path or "."):
                visit(path, i + 1, depth + 1)
            return
        for e in entries(folder):
            if shows(e.name, part) and fnmatch.fnmatchcase(e.name, part):
                if last:
                    found.append(join(folder, e.name))
                elif is_dir(e):
                    visit(join(folder, e.name), i + 1, depth + 1)

    visit(root, 0, 0)
    return found


def _videos_in(folder: Path) -> list[Path]:
    pattern = os.path.join(glob.escape(str(folder)), "**", "*")
    return sorted(
        Path(p)
        for p in _search(pattern, hidden=True)
        if Path(p).suffix.lower() in VIDEO_EXTENSIONS and not os.path.isdir(p)
    )


def find_films(inputs: Iterable[str | os.PathLike[str]]) -> tuple[list[Film], list[Film]]:
    """The films named by ``inputs``, in order and each once, and the inputs that name
    none (as failed films with their reason: a missing file, a folder with no videos).

    A folder is searched recursively for video extensions; a name with ``*``, ``?`` or
    ``[`` is a glob; ``@FILE`` lists one path or URL per line (``#`` comments and blank
    lines ignored; relative paths are relative to the list's folder). A file given by
    name is taken whatever its extension.
    """
    films: list[Film] = []
    bad: list[Film] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = name if _URL.match(name) else str(Path(name).resolve())
        if key not in seen:
            if len(films) >= MAX_FILMS:
                raise InputError(f"more than {MAX_FILMS:,} films; split the batch")
            seen.add(key)
            films.append(Film(name))

    def take(item: str, where: str = "") -> None:
        if _URL.match(item) and not item.startswith("file://"):
            add(item)
            return
        p = Path(item.removeprefix("file://"))
        if item.startswith("@"):
            listing = Path(item[1:])
            try:
                raw = read_limited(listing, MAX_TEXT_BYTES, "a list of films", label="list ")
                lines = raw.decode("utf-8").splitlines()
            except (InputError, UnicodeDecodeError) as exc:
                reason = str(exc) if isinstance(exc, InputError) else "not a text file"
                bad.append(Film(item, state="failed", reason=f"cannot read the list: {reason}"))
                return
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    rel = (
                        line
                        if _URL.match(line) or os.path.isabs(line)
                        else str(listing.parent / line)
                    )
                    take(rel, f" (listed in {listing})")
            return
        if p.is_dir():
            found = _videos_in(p)
            if not found:
                bad.append(Film(item, state="failed", reason="a folder with no videos"))
            for f in found:
                add(str(f))
            return
        if p.exists():
            add(str(p))
            return
        if glob.has_magic(item):
            matches = sorted(_search(item))
            videos = [m for m in matches if Path(m).suffix.lower() in VIDEO_EXTENSIONS]
            if not videos:
                bad.append(Film(item, state="failed", reason="no videos match"))
            for m in videos:
                add(m)
            return
        bad.append(Film(item, state="failed", reason=f"no such file{where}"))

    for item in inputs:
        take(os.fspath(item))
    return films, bad


# -- naming and resuming ---------------------------------------------------------------------
def options_key(options: RenderOptions) -> dict[str, Any]:
    """The options as JSON data, to tell whether a film was rendered with the same ones."""
    out: dict[str, Any] = {}
    for name, value in sorted(options.flat().items()):
        out[name] = str(value) if isinstance(value, Crop) else value
    return out


# A film's output name is at most this many bytes before "-N.json": room for the
# numbering within the 255 bytes of a file name.
_STEM_BYTES = 200


def _stem(film: Film) -> str:
    name = film.input.rstrip("/").split("?")[0].split("#")[0] if film.is_url else film.input
    stem = Path(name).stem or "film"
    stem = re.sub(r"[^\w.+-]+", "_", stem).strip("._") or "film"
    raw = stem.encode("utf-8", "surrogateescape")
    if len(raw) > _STEM_BYTES:
        stem = raw[:_STEM_BYTES].decode("utf-8", "ignore")
    return stem


def _recorded(json_path: Path) -> dict[str, Any] | None:
    """The batch record of an earlier spectrum at ``json_path`` (None: none there),
    with ``partial`` and ``torn`` (why its picture is not the one saved with it)."""
    try:
        data = load_json(json_path, MAX_JSON_BYTES, "a spectrum JSON file")
        record = data["source"]["batch"]
        torn = image_mismatch(json_path.with_suffix(".png"), data)
        return {**record, "partial": bool(data.get("partial")), "torn": torn}
    except (InputError, KeyError, TypeError, AttributeError):
        return None


def reserved_names() -> frozenset[str]:
    """The names of a batch's own files in OUTDIR, which no film's output may take."""
    from streamspec.outputs.corpus import films_path_for

    return frozenset({SUMMARY, CORPUS, films_path_for(CORPUS).name})


def _file_keys(paths: Iterable[str]) -> set[object]:
    """What tells files apart: their (device, inode) when they exist, else their
    resolved path -- so a link or another spelling of an input is that input."""
    keys: set[object] = set()
    for path in paths:
        keys.add(os.path.normcase(os.path.realpath(path)))
        with contextlib.suppress(OSError):
            st = os.stat(path)
            keys.add((st.st_dev, st.st_ino))
    return keys


def _is_input(path: Path, keys: set[object]) -> bool:
    if os.path.normcase(os.path.realpath(path)) in keys:
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in keys


def plan_batch(
    films: Sequence[Film],
    outdir: Path,
    options: RenderOptions,
    *,
    force: bool = False,
    inputs: Iterable[str] = (),
) -> None:
    """Give each film its output in ``outdir`` and mark the ones already done.

    A film's name is its file's stem; a name taken by another film (of this batch, or an
    earlier spectrum made from another source), by the batch's own files
    (:func:`reserved_names`: ``batch.mp4`` becomes ``batch-2.png``) or by any file the
    batch reads (its films, ``inputs`` such as lists) becomes ``stem-2``, ``stem-3``,
    ...: no spectrum of another film, and no input, is ever replaced. A film's own
    earlier spectrum is reused as its output: skipped if complete with the same source
    and options and its picture is the one saved with its data (unless ``force``),
    redone otherwise.
    """
    key = options_key(options)
    taken: set[str] = set()
    reserved = reserved_names()
    read = _file_keys([*(f.input for f in films if not f.is_url), *inputs])
    for film in films:
        if not film.is_url:
            try:
                st = os.stat(film.input.removeprefix("file://"))
                film.size, film.mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                pass
        stem, n = _stem(film), 1
        while True:
            name = stem if n == 1 else f"{stem}-{n}"
            n += 1
            png = outdir / f"{name}.png"
            if name in taken or {png.name, f"{name}.json"} & reserved:
                continue
            if _is_input(png, read) or _is_input(json_path_for(png), read):
                continue
            earlier = _recorded(json_path_for(png))
            if earlier is None and (png.exists() or json_path_for(png).exists()):
                continue  # not ours: someone else's file
            if earlier is not None and earlier.get("input") != _identity(film):
                continue
            taken.add(name)
            film.output = png
            if earlier is not None and not force:
                same = (
                    earlier.get("size") == film.size
                    and earlier.get("mtime_ns") == film.mtime_ns
                    and earlier.get("options") == key
                )
                if same and not earlier["partial"] and png.exists() and not earlier["torn"]:
                    film.state = "skipped"
                    film.reason = "already rendered with these options"
                elif earlier["partial"]:
                    film.reason = "redone: it was interrupted"
                elif same and (earlier["torn"] or not png.exists()):
                    film.reason = f"redone: {earlier['torn'] or 'its picture is missing'}"
                else:
                    film.reason = "redone: the film or the options changed"
            break


def _identity(film: Film) -> str:
    """How a spectrum names its film: the absolute path, or the URL."""
    if film.is_url:
        return film.input
    return str(Path(film.input.removeprefix("file://")).resolve())


def _probe_hours(film: Film) -> None:
    """The film's running time in hours, read from its container header (regular local
    files only: opening a FIFO or a URL could block, and that is the workers' job)."""
    if film.is_url or not os.path.isfile(film.input):
        return
    from streamspec.media.probe import container_duration

    seconds = container_duration(film.input, timeout=2.0)
    if seconds:  # a bad film fails later, in its worker, with its reason
        film.hours = seconds / 3600


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
