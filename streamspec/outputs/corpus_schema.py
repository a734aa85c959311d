"""The corpus's file layout: its two Parquet tables' columns, schemas and metadata.

:data:`COLOUR_COLUMNS` and :data:`FILM_COLUMNS` give every column's Arrow type, unit and
meaning; :func:`colours_schema` and :func:`films_schema` turn them into Arrow schemas
carrying that text in each field's metadata and the ``format``/``format_version``
markers in the schema's. Also here: the row-group size, and the one-line error when
pyarrow (or pandas) is missing, since every part of the corpus needs it. Building the
tables is in :mod:`streamspec.outputs.corpus_build`, reading them in
:mod:`streamspec.outputs.corpus`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from streamspec._version import __version__
from streamspec.core.errors import StreamspecError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLOUR_COLUMNS",
    "FILM_COLUMNS",
    "FORMAT",
    "FORMAT_VERSION",
    "INSTALL_HINT",
    "ROW_GROUP_ROWS",
    "MissingDependencyError",
    "arrow_schema",
    "colours_schema",
    "films_schema",
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


def _metadata(table: str) -> dict[bytes, bytes]:
    return {
        b"streamspec": __version__.encode(),
        b"format": FORMAT.encode(),
        b"format_version": str(FORMAT_VERSION).encode(),
        b"table": table.encode(),
    }


def arrow_schema(
    columns: dict[str, tuple[str, str, str]], metadata: dict[bytes, bytes]
) -> pa.Schema:
    """An Arrow schema from a table of columns -- name: (Arrow type's name, unit, meaning)
    -- with each column's unit and meaning in its field's metadata."""
    pa = _pa()
    fields = []
    for name, (kind, unit, meaning) in columns.items():
        meta = {b"description": meaning.encode()}
        if unit:
            meta[b"unit"] = unit.encode()
        arrow_type = getattr(pa, "bool_" if kind == "bool" else kind)()
        fields.append(pa.field(name, arrow_type, metadata=meta))
    return pa.schema(fields, metadata=metadata)


def _schema(columns: dict[str, tuple[str, str, str]], table: str) -> pa.Schema:
    return arrow_schema(columns, _metadata(table))


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
