"""A film library as tables: every strip colour of many spectra, queryable.

``build_corpus`` turns a folder of spectrum ``.json`` files into two Parquet files:

``corpus.parquet`` (the *colours* table), one row per colour of every strip, ordered
by film, slot and rank; ``corpus-films.parquet`` (the *films* table, beside it:
``<stem>-films.parquet``), one row per film. :data:`COLOUR_COLUMNS` and
:data:`FILM_COLUMNS` give every column's type, unit and meaning; the same text is in
each Parquet field's metadata (``unit``, ``description``).

``film``, in both tables, is the film's *key*: a 63-bit integer, unique across corpora
and the same for the same film rendered with the same colour settings, wherever and
whenever (:func:`film_key`). A glob over several corpora joins on it without
multiplying rows.

Both are plain Parquet (zstd-compressed, with ``format``/``format_version`` markers in
the schema metadata; format 1 files still read), with colour values in signed integers
that survive arithmetic in every engine (``r + g`` does not wrap), so pandas, Polars,
DuckDB or Spark read them as they are. Films are written one at a time (a Parquet row
group per ~1M colours), so building a corpus of a thousand films holds one film and one
row group in memory.

:class:`Corpus` reads such a corpus (or builds one in memory from a folder) and answers
a few questions with NumPy: a film's overall palette, films ranked by a colour, a film's
timeline. Colours are compared in OKLab (Björn Ottosson's perceptual space, where a
Euclidean distance of about 0.02 is a just-noticeable difference) and averaged in
linear light.

pyarrow (and pandas, for :class:`Corpus`) come with ``pip install 'streamspec[corpus]'``;
this module imports them only when they are needed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._io import atomic_write, check_outputs, check_writable
from ._version import __version__
from .colour import (
    FILM_MERGE_DISTANCE,
    linear_to_oklab,
    linear_to_srgb,
    merge_colours,
    oklab,
    srgb_to_linear,
)
from .errors import InputError, OutputError, StreamspecError
from .spectrum import Spectrum

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyarrow import RecordBatch

__all__ = [
    "COLOUR_COLUMNS",
    "FILM_COLUMNS",
    "MERGE_DISTANCE",
    "RANK_TOLERANCE",
    "Corpus",
    "CorpusResult",
    "MissingDependencyError",
    "build_corpus",
    "film_key",
    "film_title",
    "films_path_for",
    "find_spectra",
    "linear_to_srgb",
    "oklab",
    "srgb_to_linear",
]

FORMAT = "streamspec-corpus"
# 2: colours in int32 (sums, products and squared differences of 0-255 values fit in
# every engine; int16 wraps at 255 * 255 in Polars and pandas), films keyed across
# corpora, units in the field metadata.
FORMAT_VERSION = 2
# A column: its Arrow type's name (pyarrow.<name>()), its unit, what it means.
COLOUR_COLUMNS: dict[str, tuple[str, str, str]] = {
    "film": ("int64", "key", "the film's key (see the films table)"),
    "slot": ("int32", "index", "the strip's slot in the film's sample grid, 0 = the first"),
    "time": ("float64", "s", "real time of the strip's sampled frame, from the film's start"),
    "rank": ("int16", "index", "the colour's place in its strip by share, 0 = the largest"),
    "r": ("int32", "sRGB code value 0-255", "red of the colour (8-bit sRGB)"),
    "g": ("int32", "sRGB code value 0-255", "green of the colour (8-bit sRGB)"),
    "b": ("int32", "sRGB code value 0-255", "blue of the colour (8-bit sRGB)"),
    "share": (
        "float32",
        "fraction 0-1",
        "the colour's share of its strip (a strip's shares sum to 1)",
    ),
    "segment": (
        "int32",
        "index",
        "the colour segment the strip falls in, 0 = the first; null when none",
    ),
}
FILM_COLUMNS: dict[str, tuple[str, str, str]] = {
    "film": (
        "int64",
        "key",
        "unique across corpora; the same for the same film and colour settings",
    ),
    "key_basis": (
        "string",
        "",
        "what the key is made of: 'file' (the film file's content fingerprint) or "
        "'data' (the recorded source and strips: older spectra, URLs, live sources)",
    ),
    "fingerprint": (
        "string",
        "",
        "the film file's content fingerprint (BLAKE2b of its size and first and last MiB)",
    ),
    "title": ("string", "", "the source's file name (or the source as named)"),
    "path": ("string", "", "absolute path of the spectrum's .json"),
    "source": ("string", "", "the source as given to the render (path, URL, webcam:N)"),
    "kind": ("string", "", "file, url, webcam, lavfi or demo"),
    "duration": ("float64", "s", "the film's running time"),
    "width": ("int32", "px", "display width (rotated, square pixels, before cropping)"),
    "height": ("int32", "px", "display height"),
    "codec": ("string", "", "the video codec"),
    "fps": ("float64", "frames/s", "the frame rate"),
    "every": ("float64", "s", "the --every asked for (null with --strips)"),
    "step": ("float64", "s", "time between two slots"),
    "start": ("float64", "s", "time of the first slot"),
    "end": ("float64", "s", "end of the sampled span"),
    "k": ("int32", "count", "colours per strip asked for"),
    "order": ("string", "", "colour order in the picture"),
    "mode": ("string", "", "strip mode of the picture"),
    "seek": ("string", "", "frame choice: fast (nearest decodable) or exact"),
    "strips": ("int32", "count", "strips rendered"),
    "slots": ("int32", "count", "slots planned (null: open-ended)"),
    "segments": ("int32", "count", "colour segments found"),
    "partial": ("bool", "", "the render was interrupted: some slots are missing"),
}
# A film's palette merges colours closer than this (the rule and its reason live in
# streamspec.colour, beside the merge itself).
MERGE_DISTANCE = FILM_MERGE_DISTANCE
# "This colour" in rank_by_colour: red 220,30,30 takes in 250,60,60 (0.076) and 190,0,0
# (0.070) but not orange 230,120,30 (0.15).
RANK_TOLERANCE = 0.1
# Rows per Parquet row group: large enough for fast scans, small enough to stream.
ROW_GROUP_ROWS = 1 << 20
INSTALL_HINT = "pip install 'streamspec[corpus]'"


class MissingDependencyError(StreamspecError, ImportError):
    """An optional package the corpus needs is not installed (exit status 2)."""


def _require(module: str) -> Any:
    """Import ``module`` or raise a one-line :class:`MissingDependencyError`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingDependencyError(
            f"the corpus needs {top}, which is not installed: {INSTALL_HINT}"
        ) from None


def _pa() -> Any:
    return _require("pyarrow")


def _pq() -> Any:
    _pa()  # names pyarrow itself when it is missing
    return _require("pyarrow.parquet")


# -- colour science: streamspec.colour (re-exported here) ------------------------------


def parse_rgb(colour: str | Sequence[int] | ArrayLike) -> NDArray[np.uint8]:
    """``"#rrggbb"`` or ``(r, g, b)`` (0..255) as a ``(3,)`` uint8 array."""
    if isinstance(colour, str):
        text = colour.strip().removeprefix("#")
        try:
            if len(text) != 6:
                raise ValueError
            return np.frombuffer(bytes.fromhex(text), np.uint8).copy()
        except ValueError:
            raise InputError(f"expected a colour as #rrggbb, got {colour!r}") from None
    arr = np.asarray(colour)
    if arr.shape != (3,) or not np.all((arr >= 0) & (arr <= 255)):
        raise InputError(f"expected a colour as (r, g, b) from 0 to 255, got {colour!r}")
    return arr.astype(np.uint8)


def _hex(rgb: NDArray[np.uint8]) -> list[str]:
    return [f"#{int(c[0]):02x}{int(c[1]):02x}{int(c[2]):02x}" for c in rgb]


# -- reading spectra -----------------------------------------------------------------
def film_title(spectrum: Spectrum, fallback: str = "") -> str:
    """A film's title: its source's file name (``clip.mp4``), or the source as named
    (``webcam:0``, ``demo``), or ``fallback`` when the spectrum has no source name."""
    name = str(spectrum.source.get("name") or "").removeprefix("file://")
    if not name:
        return fallback
    if spectrum.source.get("kind") in ("file", "url", None):
        base = name.rstrip("/").rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]
        return base.split("?", 1)[0] or name
    return name


def find_spectra(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The spectrum files named by ``inputs``: folders are searched recursively for
    ``*.json`` (sorted by path; streamspec's own other files, such as a batch's
    ``batch.json``, are passed over), files are taken as they are (an image names the
    ``.json`` beside it). Raises :class:`InputError` for a missing input or when nothing
    is found."""
    from ._io import IMAGE_FORMATS

    found: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(
                q for q in p.rglob("*.json") if q.is_file() and not _written_by_us_not_spectrum(q)
            )
        elif p.exists():
            files = [p.with_suffix(".json") if p.suffix.lower() in IMAGE_FORMATS else p]
        else:
            raise InputError(f"{str(p)!r}: no such file or folder")
        for f in files:
            key = f.resolve()
            if key not in seen:  # a file named twice (or inside a folder named) is one film
                seen.add(key)
                found.append(f)
    if not found:
        names = ", ".join(repr(str(x)) for x in inputs) or "the inputs"
        raise InputError(f"no spectra in {names}: no .json files found")
    return found


# The start of a JSON file streamspec writes: its format marker comes first.
_OWN_FORMAT = re.compile(rb'^\s*\{\s*"format"\s*:\s*"(streamspec-[a-z0-9-]+)"')


def _written_by_us_not_spectrum(path: Path) -> bool:
    """Whether ``path`` is a JSON file streamspec writes that is not a spectrum (a
    batch summary): read its first bytes only."""
    from .spectrum import FORMAT as SPECTRUM

    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    match = _OWN_FORMAT.match(head)
    return match is not None and match.group(1).decode() != SPECTRUM


def _segment_of(spectrum: Spectrum, slots: NDArray[np.int64], times: NDArray[np.float64]):
    """Index of the colour segment each strip falls in (-1 when none)."""
    out = np.full(len(slots), -1, np.int64)
    for i, seg in enumerate(spectrum.segments):
        if "first_strip" in seg and "last_strip" in seg:
            inside = (slots >= int(seg["first_strip"])) & (slots <= int(seg["last_strip"]))
        else:  # older files: by time
            end = seg.get("end")
            inside = times >= float(seg.get("start", 0.0))
            if end is not None:
                inside &= times < float(end)
        out[inside & (out < 0)] = i
    return out


def colour_rows(spectrum: Spectrum, film: int = 0) -> dict[str, NDArray[Any]]:
    """The colours table's columns for one spectrum (``film``: its key), as NumPy arrays
    (:data:`COLOUR_COLUMNS`); ``segment`` is -1 where a strip has none."""
    strips = spectrum.strips
    if not strips:
        empty: dict[str, NDArray[Any]] = {
            "film": np.zeros(0, np.int64),
            "slot": np.zeros(0, np.int32),
            "time": np.zeros(0),
            "rank": np.zeros(0, np.int16),
            "r": np.zeros(0, np.int32),
            "g": np.zeros(0, np.int32),
            "b": np.zeros(0, np.int32),
            "share": np.zeros(0, np.float32),
            "segment": np.zeros(0, np.int32),
        }
        return empty
    sizes = np.array([len(s.counts) for s in strips])
    group = np.repeat(np.arange(len(strips)), sizes)
    counts = np.concatenate([s.counts for s in strips]).astype(np.float64)
    palette = np.concatenate([s.palette for s in strips])
    total = np.bincount(group, weights=counts, minlength=len(strips))
    # A strip whose counts are all zero (hand-made data) shares equally.
    share = np.where((total > 0)[group], counts / np.maximum(total, 1.0)[group], 1.0 / sizes[group])
    # Largest share first within each strip; ties keep palette order (lexsort is stable).
    order = np.lexsort((-share, group))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(order)) - starts[group]
    slot_of = np.array([s.index for s in strips], np.int64)
    time_of = np.array([s.time for s in strips], np.float64)
    segment = _segment_of(spectrum, slot_of, time_of)
    pal = palette[order]
    return {
        "film": np.full(len(order), film, np.int64),
        "slot": slot_of[group].astype(np.int32),
        "time": time_of[group],
        "rank": rank.astype(np.int16),
        "r": pal[:, 0].astype(np.int32),
        "g": pal[:, 1].astype(np.int32),
        "b": pal[:, 2].astype(np.int32),
        "share": share[order].astype(np.float32),
        "segment": segment[group].astype(np.int32),
    }


def _num_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _look_settings() -> frozenset[str]:
    """Settings that only change the picture (``redraw`` changes them without decoding)."""
    from .options import LookOptions

    return frozenset(f.name for f in dataclasses.fields(LookOptions)) | {"crop_mode"}


def film_key(spectrum: Spectrum) -> tuple[int, str]:
    """The film's key and what it is made of (``"file"`` or ``"data"``).

    The key is 63 bits of BLAKE2b over the film's identity and the settings that
    decide its colours (every setting but the picture's: height, order, mode, axis ...).
    The identity is the file's content fingerprint, recorded at render time
    (:func:`streamspec._io.file_fingerprint`), with its colour handling: so the same
    file rendered again with the same settings -- on another machine, after a move or
    a rename -- has the same key, and two films or two settings never share one.
    Spectra without a fingerprint (older ones, URLs, live sources) are identified by
    what they recorded: the source's name and properties and the strips themselves.
    """
    look = _look_settings()
    settings = {k: v for k, v in spectrum.settings.items() if k not in look}
    src = spectrum.source
    fingerprint = src.get("fingerprint")
    basis: dict[str, Any]
    if isinstance(fingerprint, str) and fingerprint:
        how, basis = "file", {"fingerprint": fingerprint, "colour": src.get("colour")}
    else:
        fields = ("name", "kind", "duration", "width", "height", "codec", "fps", "colour")
        strips = hashlib.blake2b(digest_size=16)
        for strip in spectrum.strips:
            strips.update(json.dumps(strip.to_json(), sort_keys=True).encode())
        how = "data"
        basis = {f: src.get(f) for f in fields} | {"strips": strips.hexdigest()}
    text = json.dumps({"source": basis, "settings": settings}, sort_keys=True, default=str)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1, how


def film_row(spectrum: Spectrum, film: int, path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The films table's row for one spectrum (``film``: its key, :func:`film_key`)."""
    src, s = spectrum.source, spectrum.settings
    fingerprint = src.get("fingerprint")
    return {
        "film": film,
        "key_basis": film_key(spectrum)[1],
        "fingerprint": fingerprint if isinstance(fingerprint, str) else None,
        "title": film_title(spectrum, Path(path).stem if path else f"film {film}"),
        "path": None if path is None else str(Path(path).resolve()),
        "source": _str_or_none(src.get("name")),
        "kind": _str_or_none(src.get("kind")),
        "duration": _num_or_none(src.get("duration")),
        "width": _int_or_none(src.get("width")),
        "height": _int_or_none(src.get("height")),
        "codec": _str_or_none(src.get("codec")),
        "fps": _num_or_none(src.get("fps")),
        "every": _num_or_none(s.get("every")),
        "step": _num_or_none(s.get("step")),
        "start": _num_or_none(s.get("start")),
        "end": _num_or_none(s.get("end")),
        "k": _int_or_none(s.get("k")),
        "order": _str_or_none(s.get("order")),
        "mode": _str_or_none(s.get("mode")),
        "seek": _str_or_none(s.get("seek")),
        "strips": len(spectrum),
        "slots": _int_or_none(spectrum.slots),
        "segments": len(spectrum.segments),
        "partial": bool(spectrum.partial),
    }


def _metadata(table: str) -> dict[bytes, bytes]:
    return {
        b"streamspec": __version__.encode(),
        b"format": FORMAT.encode(),
        b"format_version": str(FORMAT_VERSION).encode(),
        b"table": table.encode(),
    }


def _schema(columns: dict[str, tuple[str, str, str]], table: str) -> pa.Schema:
    pa = _pa()
    fields = []
    for name, (kind, unit, meaning) in columns.items():
        meta = {b"description": meaning.encode()}
        if unit:
            meta[b"unit"] = unit.encode()
        arrow_type = getattr(pa, "bool_" if kind == "bool" else kind)()
        fields.append(pa.field(name, arrow_type, metadata=meta))
    return pa.schema(fields, metadata=_metadata(table))


def colours_schema() -> pa.Schema:
    """The colours table's Arrow schema (units and meanings in the field metadata)."""
    return _schema(COLOUR_COLUMNS, "colours")


def films_schema() -> pa.Schema:
    """The films table's Arrow schema (units and meanings in the field metadata)."""
    return _schema(FILM_COLUMNS, "films")


def _colour_batch(rows: dict[str, NDArray[Any]]) -> pa.RecordBatch:
    pa = _pa()
    schema = colours_schema()
    arrays = []
    for f in schema:
        values = rows[f.name]
        mask = values < 0 if f.name == "segment" else None
        arrays.append(pa.array(values, type=f.type, mask=mask))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _films_table(rows: list[dict[str, Any]]) -> pa.Table:
    pa = _pa()
    return pa.Table.from_pylist(rows, schema=films_schema())


@dataclass
class CorpusResult:
    """What :func:`build_corpus` wrote: paths, counts, and the files it skipped."""

    colours_path: Path | None
    films_path: Path | None
    films: int = 0
    strips: int = 0
    colours: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    # Spectra of a film already in the corpus with the same settings: (this, the first).
    duplicates: list[tuple[Path, Path]] = field(default_factory=list)
    seconds: float = 0.0


def films_path_for(colours: str | os.PathLike[str]) -> Path:
    """The films table beside a colours table: ``corpus.parquet`` -> ``corpus-films.parquet``."""
    p = Path(colours)
    return p.with_name(f"{p.stem}-films{p.suffix}")


def _iter_spectra(
    paths: Sequence[Path], on_skip: Callable[[Path, str], None] | None
) -> Iterator[tuple[Path, Spectrum]]:
    """Each readable spectrum in turn; unreadable ones go to ``on_skip(path, reason)``."""
    for p in paths:
        try:
            spec = Spectrum.load(p)
        except InputError as exc:
            if on_skip is not None:
                on_skip(p, str(exc))
            continue
        except (OSError, MemoryError) as exc:  # unreadable file (permissions, I/O error)
            if on_skip is not None:
                on_skip(p, f"{str(p)!r}: {getattr(exc, 'strerror', None) or exc}")
            continue
        yield p, spec


def build_corpus(
    inputs: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    on_skip: Callable[[Path, str], None] | None = None,
    on_film: Callable[[int, Path], None] | None = None,
) -> CorpusResult:
    """Write the colours and films tables of the spectra in ``inputs`` (folders, searched
    recursively, or ``.json`` files) to ``output`` (``.parquet``) and the films table
    beside it (:func:`films_path_for`).

    Films are read and written one at a time. Files that are not readable spectra are
    skipped, each reported to ``on_skip(path, reason)`` and listed in the result; if none
    is readable, nothing is written and :class:`InputError` is raised. Both files are
    written atomically (a temporary file renamed into place); the films table is renamed
    just before the colours table. Needs pyarrow (:class:`MissingDependencyError` otherwise).
    """
    pa, pq = _pa(), _pq()
    t0 = time.perf_counter()
    out = check_writable(output)
    if out.suffix.lower() != ".parquet":
        raise OutputError(f"output {str(out)!r}: name it .parquet (the corpus is Parquet)")
    films_out = films_path_for(out)
    paths = find_spectra(inputs)
    check_outputs(
        [("an input spectrum", p) for p in paths],
        [("output", out, "-o"), ("output films table", films_out, "-o")],
    )
    result = CorpusResult(out, films_out)
    # A first unreadable file is reported once a film is read or another is skipped:
    # if it is the only input, its reason is the one error line.
    held: list[tuple[Path, str]] = []
    keys: dict[int, Path] = {}

    def flush() -> None:
        for q, r in held:
            if on_skip is not None:
                on_skip(q, r)
        held.clear()

    def skip(p: Path, reason: str) -> None:
        result.skipped.append((p, reason))
        held.append((p, reason))
        if keys or len(result.skipped) > 1:
            flush()

    def write(fh: Any) -> None:
        film_rows: list[dict[str, Any]] = []
        pending: list[RecordBatch] = []
        pending_rows = 0
        with pq.ParquetWriter(fh, colours_schema(), compression="zstd") as writer:
            for p, spec in _iter_spectra(paths, skip):
                film, _ = film_key(spec)
                if film in keys:  # the same film with the same settings, again
                    result.duplicates.append((p, keys[film]))
                    continue
                flush()
                keys[film] = p
                rows = colour_rows(spec, film)
                film_rows.append(film_row(spec, film, p))
                result.strips += len(spec)
                result.colours += len(rows["film"])
                pending.append(_colour_batch(rows))
                pending_rows += len(rows["film"])
                if on_film is not None:
                    on_film(len(film_rows) - 1, p)
                if pending_rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_batches(pending), ROW_GROUP_ROWS)
                    pending, pending_rows = [], 0
            if not film_rows:
                if len(result.skipped) == 1:  # one error, one line
                    raise InputError(f"{result.skipped[0][1]}; nothing written")
                raise InputError(
                    f"none of the {len(paths):,} files is a readable spectrum; nothing written"
                )
            if pending:
                writer.write_table(pa.Table.from_batches(pending), ROW_GROUP_ROWS)
        result.films = len(film_rows)
        table = _films_table(film_rows)
        # Inside the colours file's write: if the films table cannot be written, the
        # colours file is not replaced either.
        atomic_write(films_out, lambda f: pq.write_table(table, f, compression="zstd"))

    atomic_write(out, write)
    result.seconds = time.perf_counter() - t0
    return result


# -- querying ---------------------------------------------------------------------------
def _unpack(packed: NDArray[np.int64]) -> NDArray[np.uint8]:
    """``0xRRGGBB`` integers as ``(n, 3)`` uint8 colours."""
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1).astype(
        np.uint8
    )


def _near(rgb: NDArray[np.uint8], target: NDArray[np.float64], tolerance: float) -> NDArray[Any]:
    """Which colours lie within ``tolerance`` of ``target`` (OKLab)."""
    return np.sqrt(((oklab(rgb) - target) ** 2).sum(axis=-1)) < tolerance


def _near_table(target: NDArray[np.float64], tolerance: float) -> NDArray[np.bool_]:
    """:func:`_near` for every 24-bit colour, indexed by ``0xRRGGBB``."""
    out = np.empty(1 << 24, bool)
    chunk = 1 << 20
    for lo in range(0, 1 << 24, chunk):
        out[lo : lo + chunk] = _near(_unpack(np.arange(lo, lo + chunk)), target, tolerance)
    return out


class Corpus:
    """A corpus of spectra: the colours and films tables, and questions about them.

    ``Corpus("corpus.parquet")`` opens a corpus written by ``streamspec corpus`` (its
    films table is found beside it); ``Corpus("spectra/")`` (a folder, or a list of
    ``.json`` files) builds one in memory, skipping unreadable files with a warning
    (listed in :attr:`skipped`). Questions on a Parquet corpus read only what they
    need: one film's rows (Parquet row-group statistics on ``film``), or the few columns
    a whole-corpus question scans, batch by batch.
    """

    def __init__(self, source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]):
        pq = _pq()
        _require("pandas")  # fail now, not at the first question
        self.skipped: list[tuple[Path, str]] = []
        self._table: pa.Table | None = None
        self._path: Path | None = None
        self._strips: pd.DataFrame | None = None
        if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".parquet":
            self._open_parquet(Path(source), pq)
        else:
            items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
            self._build(items)
        self.films: pd.DataFrame = self._films_table.to_pandas()
        """One row per film (see :mod:`streamspec.corpus` for the columns)."""
        self._by_id = {int(f): i for i, f in enumerate(self.films["film"])}

    # -- loading ------------------------------------------------------------------------
    def _open_parquet(self, path: Path, pq: Any) -> None:
        from ._io import input_file

        if path.stem.endswith("-films"):  # named by its films table: find the colours
            path = path.with_name(path.stem[: -len("-films")] + path.suffix)
        input_file(path, "a corpus file")
        films = films_path_for(path)
        input_file(films, "a corpus films table", label="films table ")
        for p, table in ((path, "colours"), (films, "films")):
            try:
                meta = pq.read_schema(p).metadata or {}
            except Exception:  # pyarrow raises several types for non-Parquet input
                raise InputError(f"{str(p)!r} is not a Parquet file") from None
            if meta.get(b"format") != FORMAT.encode() or meta.get(b"table") != table.encode():
                raise InputError(f"{str(p)!r} is not a streamspec corpus {table} table")
            try:
                version = int(meta.get(b"format_version", b"0") or 0)
            except ValueError:
                raise InputError(f"{str(p)!r} is a damaged streamspec corpus file") from None
            if version > FORMAT_VERSION:
                raise InputError(f"{str(p)!r} was written by a newer streamspec (format {version})")
        self._path = path
        self._films_table = pq.read_table(films)

    def _build(self, items: list[Any]) -> None:
        pa = _pa()
        paths = find_spectra(items)
        batches: list[RecordBatch] = []
        rows: list[dict[str, Any]] = []

        def skip(p: Path, reason: str) -> None:
            self.skipped.append((p, reason))
            warnings.warn(f"skipped {reason}", stacklevel=4)

        keys: set[int] = set()
        for p, spec in _iter_spectra(paths, skip):
            film, _ = film_key(spec)
            if film in keys:  # the same film with the same settings, again
                continue
            keys.add(film)
            batches.append(_colour_batch(colour_rows(spec, film)))
            rows.append(film_row(spec, film, p))
        if not rows:
            raise InputError(f"none of the {len(paths):,} .json files is a readable spectrum")
        self._table = pa.Table.from_batches(batches, schema=colours_schema())
        self._films_table = _films_table(rows)

    # -- raw access ----------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The colours table's file (None for a corpus built in memory)."""
        return self._path

    def _batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        if self._table is not None:
            yield from self._table.select(columns).to_batches()
        else:
            pf = _pq().ParquetFile(self._path)
            yield from pf.iter_batches(batch_size=ROW_GROUP_ROWS, columns=columns)

    def _film_rows(self, film: int, columns: list[str]) -> dict[str, NDArray[Any]]:
        pc = _require("pyarrow.compute")
        if self._table is not None:
            t = self._table.filter(pc.equal(self._table["film"], film)).select(columns)
        else:
            t = _pq().read_table(self._path, columns=columns, filters=[("film", "=", film)])
        return {c: t[c].to_numpy(zero_copy_only=False) for c in columns}

    def film_id(self, film: int | str) -> int:
        """The key of ``film``: a key (the ``film`` column), or a title, source name or
        JSON path (unique)."""
        if isinstance(film, (int, np.integer)) and not isinstance(film, bool):
            if int(film) not in self._by_id:
                raise InputError(f"no film {int(film)} in the corpus")
            return int(film)
        if not isinstance(film, str):
            raise InputError(f"a film is an id or a title, got {film!r}")
        f = self.films
        ids_of = f["film"]
        for col in ("title", "source", "path"):
            hits = ids_of[f[col] == film].tolist()
            if col == "path" and not hits:
                hits = ids_of[f[col] == str(Path(film).resolve())].tolist()
            if len(hits) == 1:
                return int(hits[0])
            if len(hits) > 1:
                ids = ", ".join(str(int(h)) for h in hits)
                raise InputError(f"{film!r} is the {col} of several films ({ids}); give an id")
        raise InputError(f"no film {film!r} in the corpus")

    @property
    def strips(self) -> pd.DataFrame:
        """Every colour row as a DataFrame (the whole colours table, in memory;
        ``segment`` is a nullable Int32)."""
        if self._strips is None:
            table = self._table if self._table is not None else _pq().read_table(self._path)
            df = table.to_pandas()
            df["segment"] = df["segment"].astype("Int32")
            self._strips = df
        return self._strips

    def to_pandas(self) -> pd.DataFrame:
        """The colours table as a DataFrame (same as :attr:`strips`)."""
        return self.strips

    def _rows(self) -> int:
        """Rows in the colours table (from the Parquet footer: nothing is read)."""
        if self._table is not None:
            return self._table.num_rows
        return int(_pq().ParquetFile(self._path).metadata.num_rows)

    def __len__(self) -> int:
        return len(self.films)

    def __repr__(self) -> str:
        where = str(self._path) if self._path else "in memory"
        return f"Corpus({len(self)} films, {where})"

    # -- questions -----------------------------------------------------------------------
    def palette(
        self, film: int | str | None = None, k: int = 10, *, merge: float = MERGE_DISTANCE
    ) -> pd.DataFrame:
        """A film's overall palette: its ``k`` commonest colours over the whole film.

        Each strip counts as much as any other (shares are averaged over strips, i.e.
        over sampled time). Near-duplicates are merged by
        :func:`~streamspec.colour.merge_colours`: heaviest first, a colour joins a
        heavier one whose OKLab distance is below ``merge`` (:data:`MERGE_DISTANCE`,
        0.05), and the merged colour is the share-weighted mean in linear light (sRGB
        decoded, averaged, re-encoded). Returns ``rank, hex, r, g, b, share`` (share of
        the film, heaviest first); ``film=None`` gives every film's, with a ``film``
        column first.
        """
        pd = _require("pandas")
        if not 1 <= int(k) <= 10_000:
            raise InputError(f"k must be from 1 to 10,000, got {k}")
        if film is None:
            parts = [self.palette(int(f), k, merge=merge) for f in self.films["film"]]
            parts = [p.assign(film=int(f)) for p, f in zip(parts, self.films["film"], strict=True)]
            df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
            return df[["film", *[c for c in df.columns if c != "film"]]]
        fid = self.film_id(film)
        rows = self._film_rows(fid, ["slot", "r", "g", "b", "share"])
        n_strips = max(len(np.unique(rows["slot"])), 1)
        rgb = np.stack([rows["r"], rows["g"], rows["b"]], axis=1).astype(np.uint8)
        weight = rows["share"].astype(np.float64) / n_strips
        if not float(merge) >= 0:
            raise InputError(f"merge must be a distance of 0 or more, got {merge}")
        keep = weight > 0
        cols, share = merge_colours(rgb[keep], weight[keep], float(merge), top=int(k))
        return pd.DataFrame(
            {
                "rank": np.arange(len(share)),
                "hex": _hex(cols),
                "r": cols[:, 0],
                "g": cols[:, 1],
                "b": cols[:, 2],
                "share": share,
            }
        )

    def rank_by_colour(
        self, rgb: str | Sequence[int], tolerance: float = RANK_TOLERANCE
    ) -> pd.DataFrame:
        """Films ranked by how much of them is the colour ``rgb`` (``"#rrggbb"`` or
        ``(r, g, b)``): the share of the film's strips (averaged over strips) made of
        colours within ``tolerance`` of it in OKLab (:data:`RANK_TOLERANCE`, 0.1).

        Returns ``film, title, share`` (0..1), largest first. Scans the colour
        columns batch by batch, so it works on corpora larger than memory.
        """
        pd = _require("pandas")
        target = oklab(parse_rgb(rgb)[None])[0]
        if not tolerance > 0:
            raise InputError(f"tolerance must be greater than 0, got {tolerance}")
        # Films by position in the sorted keys (keys are 63-bit numbers, not counts).
        keys = np.sort(self.films["film"].to_numpy().astype(np.int64))
        n = len(keys)
        near = np.zeros(n)
        # Which colours are near: past ~30M rows (150 two-hour films), a table of all
        # 2^24 colours (16 MB, ~4 s to make) beats converting each batch's distinct ones.
        table = _near_table(target, tolerance) if self._rows() > 1 << 25 else None
        for batch in self._batches(["film", "r", "g", "b", "share"]):
            cols = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in batch.schema.names}
            packed = (
                (cols["r"].astype(np.int64) << 16) | (cols["g"].astype(np.int64) << 8) | cols["b"]
            )
            if table is not None:
                hit = table[packed]
            else:
                uniq, inv = np.unique(packed, return_inverse=True)
                hit = _near(_unpack(uniq), target, tolerance)[inv]
            at = np.searchsorted(keys, cols["film"][hit].astype(np.int64))
            near += np.bincount(at, weights=cols["share"][hit].astype(np.float64), minlength=n)
        films = self.films
        strips = films["strips"].to_numpy().astype(np.float64)
        at = np.searchsorted(keys, films["film"].to_numpy().astype(np.int64))
        share = near[at] / np.maximum(strips, 1.0)
        out = pd.DataFrame(
            {"film": films["film"].to_numpy(), "title": films["title"].to_numpy(), "share": share}
        )
        return out.sort_values(
            ["share", "film"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)

    def timeline(self, film: int | str) -> pd.DataFrame:
        """A film strip by strip: ``slot, time, segment``, the strip's mean colour in
        linear light (``hex, r, g, b``) and that colour's OKLab lightness ``L``, chroma
        ``C`` and hue ``h`` (degrees)."""
        pd = _require("pandas")
        fid = self.film_id(film)
        rows = self._film_rows(fid, ["slot", "time", "r", "g", "b", "share", "segment"])
        slots, inv = np.unique(rows["slot"], return_inverse=True)
        rgb = np.stack([rows["r"], rows["g"], rows["b"]], axis=1).astype(np.uint8)
        w = rows["share"].astype(np.float64)
        wsum = np.maximum(np.bincount(inv, weights=w, minlength=len(slots)), 1e-300)
        lin = srgb_to_linear(rgb)
        mean = (
            np.stack(
                [np.bincount(inv, weights=w * lin[:, c], minlength=len(slots)) for c in range(3)],
                axis=1,
            )
            / wsum[:, None]
        )
        cols = linear_to_srgb(mean)
        lab = linear_to_oklab(mean)
        first = np.unique(inv, return_index=True)[1]
        seg = pd.array(rows["segment"][first], dtype="Int32")
        return pd.DataFrame(
            {
                "slot": slots.astype(np.int64),
                "time": rows["time"][first],
                "segment": seg,
                "hex": _hex(cols),
                "r": cols[:, 0],
                "g": cols[:, 1],
                "b": cols[:, 2],
                "L": lab[:, 0],
                "C": np.hypot(lab[:, 1], lab[:, 2]),
                "h": np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0,
            }
        )
