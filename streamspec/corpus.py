"""A film library as tables: every strip colour of many spectra, queryable.

``build_corpus`` turns a folder of spectrum ``.json`` files into two Parquet files:

``corpus.parquet`` (the *colours* table), one row per colour of every strip:
    ``film`` (int32, the film's id), ``slot`` (int32), ``time`` (float64, seconds: the
    real time of the sampled frame), ``rank`` (int16, 0 = the strip's largest colour),
    ``r``, ``g``, ``b`` (uint8), ``share`` (float32, of the strip: a strip's shares sum
    to 1) and ``segment`` (int32, the index of the colour segment the strip falls in, or
    null). Rows are ordered by film, slot, rank.

``corpus-films.parquet`` (the *films* table, beside it: ``<stem>-films.parquet``), one
row per film: its id and title, the JSON's path, the source (name, kind, duration,
width, height, codec, fps) and settings (every, step, start, end, k, order, mode, seek),
the number of strips, planned slots and segments, and the partial flag.

Both are plain Parquet (zstd-compressed, with a ``streamspec`` marker in the schema
metadata), so pandas, Polars, DuckDB or Spark read them as they are and join them on
``film``. Films are written one at a time (a Parquet row group per ~1M colours), so
building a corpus of a thousand films holds one film and one row group in memory.

:class:`Corpus` reads such a corpus (or builds one in memory from a folder) and answers
a few questions with NumPy: a film's overall palette, films ranked by a colour, a film's
timeline. Colours are compared in OKLab (Björn Ottosson's perceptual space, where a
Euclidean distance of about 0.02 is a just-noticeable difference) and averaged in
linear light.

pyarrow (and pandas, for :class:`Corpus`) come with ``pip install 'streamspec[corpus]'``;
this module imports them only when they are needed.
"""

from __future__ import annotations

import os
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
from .colour import linear_to_oklab, linear_to_srgb, oklab, srgb_to_linear
from .errors import InputError, OutputError, StreamspecError
from .spectrum import Spectrum

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyarrow import RecordBatch

__all__ = [
    "MERGE_DISTANCE",
    "RANK_TOLERANCE",
    "Corpus",
    "CorpusResult",
    "MissingDependencyError",
    "build_corpus",
    "film_title",
    "films_path_for",
    "find_spectra",
    "linear_to_srgb",
    "oklab",
    "srgb_to_linear",
]

FORMAT = "streamspec-corpus"
FORMAT_VERSION = 1
# Colours a viewer would call "the same" at a glance: about 2.5 just-noticeable
# differences in OKLab (two sRGB greys 15 levels apart are 0.05 apart; red 220,30,30 and
# 200,30,30 are 0.04).
MERGE_DISTANCE = 0.05
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
    ``*.json`` (sorted by path), files are taken as they are (an image names the
    ``.json`` beside it). Raises :class:`InputError` for a missing input or when nothing
    is found."""
    from ._io import IMAGE_FORMATS

    found: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(q for q in p.rglob("*.json") if q.is_file())
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
    """The colours table's columns for one spectrum, as NumPy arrays (see the module
    docstring for their meaning); ``segment`` is -1 where a strip has none."""
    strips = spectrum.strips
    if not strips:
        empty: dict[str, NDArray[Any]] = {
            "film": np.zeros(0, np.int32),
            "slot": np.zeros(0, np.int32),
            "time": np.zeros(0),
            "rank": np.zeros(0, np.int16),
            "r": np.zeros(0, np.uint8),
            "g": np.zeros(0, np.uint8),
            "b": np.zeros(0, np.uint8),
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
        "film": np.full(len(order), film, np.int32),
        "slot": slot_of[group].astype(np.int32),
        "time": time_of[group],
        "rank": rank.astype(np.int16),
        "r": pal[:, 0].copy(),
        "g": pal[:, 1].copy(),
        "b": pal[:, 2].copy(),
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


def film_row(spectrum: Spectrum, film: int, path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The films table's row for one spectrum."""
    src, s = spectrum.source, spectrum.settings
    return {
        "film": film,
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


def colours_schema() -> pa.Schema:
    """The colours table's Arrow schema."""
    pa = _pa()
    return pa.schema(
        [
            ("film", pa.int32()),
            ("slot", pa.int32()),
            ("time", pa.float64()),
            ("rank", pa.int16()),
            ("r", pa.uint8()),
            ("g", pa.uint8()),
            ("b", pa.uint8()),
            ("share", pa.float32()),
            ("segment", pa.int32()),
        ],
        metadata=_metadata("colours"),
    )


def films_schema() -> pa.Schema:
    """The films table's Arrow schema."""
    pa = _pa()
    f64, i32, s = pa.float64(), pa.int32(), pa.string()
    return pa.schema(
        [
            ("film", i32),
            ("title", s),
            ("path", s),
            ("source", s),
            ("kind", s),
            ("duration", f64),
            ("width", i32),
            ("height", i32),
            ("codec", s),
            ("fps", f64),
            ("every", f64),
            ("step", f64),
            ("start", f64),
            ("end", f64),
            ("k", i32),
            ("order", s),
            ("mode", s),
            ("seek", s),
            ("strips", i32),
            ("slots", i32),
            ("segments", i32),
            ("partial", pa.bool_()),
        ],
        metadata=_metadata("films"),
    )


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

    def skip(p: Path, reason: str) -> None:
        result.skipped.append((p, reason))
        if on_skip is not None:
            on_skip(p, reason)

    def write(fh: Any) -> None:
        film_rows: list[dict[str, Any]] = []
        pending: list[RecordBatch] = []
        pending_rows = 0
        with pq.ParquetWriter(fh, colours_schema(), compression="zstd") as writer:
            for p, spec in _iter_spectra(paths, skip):
                film = len(film_rows)
                rows = colour_rows(spec, film)
                film_rows.append(film_row(spec, film, p))
                result.strips += len(spec)
                result.colours += len(rows["film"])
                pending.append(_colour_batch(rows))
                pending_rows += len(rows["film"])
                if on_film is not None:
                    on_film(film, p)
                if pending_rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_batches(pending), ROW_GROUP_ROWS)
                    pending, pending_rows = [], 0
            if not film_rows:
                raise InputError(
                    f"none of the {len(paths):,} .json files is a readable spectrum; "
                    "nothing written"
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
def _merge_colours(
    rgb: NDArray[np.uint8], weight: NDArray[np.float64], k: int, threshold: float
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The ``k`` heaviest merged colours of weighted colours, and their weights.

    Heaviest first, each colour joins the first merged colour whose leader (its
    heaviest member) is within ``threshold`` in OKLab, or leads a new one. Members are
    averaged in linear light, weighted. Equivalent to extracting, again and again, the
    heaviest remaining colour and everything near it; it stops once the mass left is
    lighter than the k-th merged colour so far (nothing left can enter the top k).
    """
    keep = weight > 0
    rgb, weight = rgb[keep], weight[keep]
    # Exact duplicates first (strips of a steady shot repeat their colours).
    packed = (rgb[:, 0].astype(np.int64) << 16) | (rgb[:, 1].astype(np.int64) << 8) | rgb[:, 2]
    uniq, inv = np.unique(packed, return_inverse=True)
    w = np.bincount(inv, weights=weight, minlength=len(uniq))
    cols = _unpack(uniq)
    # Heaviest first; merged colours are dropped as they go, so each pass is shorter.
    first = np.argsort(-w, kind="stable")
    w, lab, lin = w[first], oklab(cols[first]), srgb_to_linear(cols[first])
    remaining = float(w.sum())
    found_rgb: list[NDArray[np.float64]] = []
    found_w: list[float] = []
    while len(w):
        if len(found_w) >= k and remaining < sorted(found_w, reverse=True)[k - 1]:
            break
        near = np.sqrt(((lab - lab[0]) ** 2).sum(axis=1)) < threshold  # lab[0] leads
        mass = float(w[near].sum())
        found_rgb.append((lin[near] * w[near, None]).sum(axis=0) / mass)
        found_w.append(mass)
        remaining -= mass
        keep = ~near
        w, lab, lin = w[keep], lab[keep], lin[keep]
    order = np.argsort(-np.asarray(found_w), kind="stable")[:k]
    return (
        linear_to_srgb(np.asarray(found_rgb)[order]).reshape(-1, 3),
        np.asarray(found_w)[order],
    )


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
            version = int(meta.get(b"format_version", b"0") or 0)
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

        for p, spec in _iter_spectra(paths, skip):
            film = len(rows)
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
        """The id of ``film``: an id, or a title, source name or JSON path (unique)."""
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
        over sampled time). Near-duplicates are merged: heaviest first, a colour joins a
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
        cols, w = _merge_colours(rgb, weight, int(k), float(merge))
        return pd.DataFrame(
            {
                "rank": np.arange(len(w)),
                "hex": _hex(cols),
                "r": cols[:, 0],
                "g": cols[:, 1],
                "b": cols[:, 2],
                "share": w / max(float(weight.sum()), 1e-300),
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
        n = int(self.films["film"].max()) + 1 if len(self.films) else 0
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
            near += np.bincount(
                cols["film"][hit], weights=cols["share"][hit].astype(np.float64), minlength=n
            )
        films = self.films
        strips = films["strips"].to_numpy().astype(np.float64)
        share = near[films["film"].to_numpy()] / np.maximum(strips, 1.0)
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
