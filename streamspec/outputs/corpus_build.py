"""Building a corpus: spectra to the rows of its two tables, and the Parquet files.

:func:`find_spectra` finds the spectrum files in folders; :func:`film_key` names a film
the same way across corpora; :func:`colour_rows` and :func:`film_row` are one spectrum's
rows in the colours and films tables; :func:`build_corpus` writes both tables, a film
at a time, atomically. The tables' layout is in :mod:`streamspec.outputs.corpus_schema`; all of
these are also importable from :mod:`streamspec.outputs.corpus`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core._io import atomic_write, check_outputs, check_writable
from streamspec.core.errors import InputError, OutputError
from streamspec.outputs.corpus_schema import (
    ROW_GROUP_ROWS,
    _colour_batch,
    _films_table,
    _pa,
    _pq,
    colours_schema,
)
from streamspec.outputs.spectrum import Spectrum

if TYPE_CHECKING:
    from pyarrow import RecordBatch

__all__ = [
    "CorpusResult",
    "build_corpus",
    "colour_rows",
    "film_key",
    "film_row",
    "film_title",
    "films_path_for",
    "find_spectra",
]


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
    from streamspec.core._io import IMAGE_FORMATS

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
    from streamspec.outputs.spectrum import FORMAT as SPECTRUM

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
    from streamspec.core.options import LookOptions

    return frozenset(f.name for f in dataclasses.fields(LookOptions)) | {"crop_mode"}


def film_key(spectrum: Spectrum) -> tuple[int, str]:
    """The film's key and what it is made of (``"file"`` or ``"data"``).

    The key is 63 bits of BLAKE2b over the film's identity and the settings that
    decide its colours (every setting but the picture's: height, order, mode, axis ...).
    The identity is the file's content fingerprint, recorded at render time
    (:func:`streamspec.core._io.file_fingerprint`), with its colour handling: so the same
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
