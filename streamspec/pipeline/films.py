"""A batch's films: found, named, and told apart from the ones already done.

:func:`find_films` turns the inputs (files, folders searched recursively by video
extension, globs, ``@list.txt`` files of paths or URLs) into films, each once; the
searches are bounded (a folder reached again through a link is searched once, and the
files looked at are counted against ``MAX_FILES_SEEN``). :func:`plan_batch` gives each
film its output name in OUTDIR -- never another film's, an input's or the batch's own
files' -- and marks the ones whose earlier spectrum can be kept (same source, same
options, complete, its picture the one saved with it).
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamspec.core._io import load_json, read_limited, shown
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_FILES_SEEN, MAX_FILMS, MAX_JSON_BYTES, MAX_TEXT_BYTES
from streamspec.core.options import Crop, RenderOptions
from streamspec.outputs.spectrum import image_mismatch, json_path_for
from streamspec.pipeline.parallel import worker_source

__all__ = [
    "CORPUS",
    "SUMMARY",
    "VIDEO_EXTENSIONS",
    "Film",
    "find_films",
    "options_key",
    "plan_batch",
    "reserved_names",
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
