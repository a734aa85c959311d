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

This module holds :class:`Corpus` and its queries; the tables' layout is in
:mod:`streamspec.outputs.corpus_schema` and building them in :mod:`streamspec.outputs.corpus_build`.
Every public name of those two is importable from here as well.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.colour import (
    FILM_MERGE_DISTANCE,
    linear_to_oklab,
    linear_to_srgb,
    merge_colours,
    oklab,
    srgb_to_linear,
)
from streamspec.core.errors import InputError
from streamspec.outputs.corpus_build import (
    CorpusResult,
    _iter_spectra,
    build_corpus,
    colour_rows,
    film_key,
    film_row,
    film_title,
    films_path_for,
    find_spectra,
)
from streamspec.outputs.corpus_schema import (
    COLOUR_COLUMNS,
    FILM_COLUMNS,
    FORMAT,
    FORMAT_VERSION,
    ROW_GROUP_ROWS,
    MissingDependencyError,
    _colour_batch,
    _films_table,
    _pa,
    _pq,
    _require,
    colours_schema,
)
from streamspec.outputs.corpus_schema import INSTALL_HINT as INSTALL_HINT  # re-exported
from streamspec.outputs.corpus_schema import films_schema as films_schema  # re-exported

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

# A film's palette merges colours closer than this (the rule and its reason live in
# streamspec.analysis.colour, beside the merge itself).
MERGE_DISTANCE = FILM_MERGE_DISTANCE
# "This colour" in rank_by_colour: red 220,30,30 takes in 250,60,60 (0.076) and 190,0,0
# (0.070) but not orange 230,120,30 (0.15).
RANK_TOLERANCE = 0.1


# -- colour science: streamspec.analysis.colour (re-exported here) ------------------------------


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
        """One row per film (see :mod:`streamspec.outputs.corpus` for the columns)."""
        self._by_id = {int(f): i for i, f in enumerate(self.films["film"])}

    # -- loading ------------------------------------------------------------------------
    def _open_parquet(self, path: Path, pq: Any) -> None:
        from streamspec.core._io import input_file

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
        :func:`~streamspec.analysis.colour.merge_colours`: heaviest first, a colour joins a
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
