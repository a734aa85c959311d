"""A spectrum's saved form: the picture and its JSON data, written as one unit and
read back through a typed decoder.

Reading: the bytes are read up to :data:`~streamspec.core.limits.MAX_JSON_BYTES` (counted
as read), then decoded by msgspec straight into typed records (:class:`_StripRecord`),
whose per-field bounds come from :mod:`streamspec.core.limits`; what a type cannot say
(colours as hex, counts per colour, no slot twice, no empty column) is checked over
all strips at once with NumPy. That is several times faster than reading generic JSON
and checking it strip by strip. Anything the decoder refuses -- not JSON, NaN, a
100,000-deep nest, a wrong field -- is read again by :mod:`json` and checked by
:func:`~streamspec.core._schema.check_spectrum_json`, so the one-line message names the
field exactly as it always has (``strips[3].index must be ...``). Files of every
format version so far (0 and 1) read the same way.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import numpy as np
from PIL import Image, PngImagePlugin

from streamspec._version import __version__
from streamspec.core._io import (
    IMAGE_FORMATS,
    check_outputs,
    check_writable,
    commit,
    image_format,
    image_writer,
    load_json,
    output_lock,
    parse_json,
    read_limited,
    write_aside,
)
from streamspec.core._schema import SchemaError, check_spectrum_json
from streamspec.core.container import SpectrumData, Strip
from streamspec.core.errors import InputError, OutputError
from streamspec.core.limits import MAX_COLOURS, MAX_JSON_BYTES, MAX_PIXEL_COUNT, MAX_SLOTS
from streamspec.outputs.raster import spectrum_image

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "image_mismatch",
    "json_path_for",
    "load_spectrum",
    "save_spectrum",
    "spectrum_from_json",
    "spectrum_to_json",
]

FORMAT = "streamspec-spectrum"
FORMAT_VERSION = 1

S = TypeVar("S", bound=SpectrumData)
_WHAT = "a spectrum JSON file"
_MAX_COUNT = MAX_PIXEL_COUNT


# -- the typed records ----------------------------------------------------------------------
class _StripRecord(msgspec.Struct, gc=False):
    """One strip as the file holds it (unknown fields are ignored, as always)."""

    index: Annotated[int, msgspec.Meta(ge=0, le=MAX_SLOTS - 1)]
    target: float  # msgspec refuses NaN and out-of-range numbers: always finite
    time: float
    palette: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_COLOURS)]
    counts: Annotated[
        list[Annotated[int, msgspec.Meta(ge=0, le=_MAX_COUNT)]],
        msgspec.Meta(max_length=MAX_COLOURS),
    ]
    column: str | None = None
    provisional: bool | None = None


class _FileRecord(msgspec.Struct):
    """The whole file: the strips typed, the rest (small) kept as plain JSON values
    for :func:`check_spectrum_json`, which names their fields."""

    # Absent is not null (an older file has no image record): absent stays UNSET.
    strips: Annotated[list[_StripRecord], msgspec.Meta(max_length=MAX_SLOTS)]
    format: Any = msgspec.UNSET
    format_version: Any = msgspec.UNSET
    settings: Any = msgspec.UNSET
    source: Any = msgspec.UNSET
    image: Any = msgspec.UNSET
    slots: Any = msgspec.UNSET
    partial: Any = msgspec.UNSET
    skipped_frames: Any = msgspec.UNSET
    warnings: Any = msgspec.UNSET
    chapters: Any = msgspec.UNSET
    segments: Any = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_FileRecord)

# Hex digit -> value, and which bytes are hex digits.
_NIBBLE = np.zeros(256, np.uint8)
_IS_HEX = np.zeros(256, bool)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _NIBBLE[ord(chr(_c).upper())] = _i
    _IS_HEX[_c] = _IS_HEX[ord(chr(_c).upper())] = True


class _RefusedError(Exception):
    """The fast reader will not vouch for this file: the checker reads it instead."""


# -- reading --------------------------------------------------------------------------------
def _header(data: dict[str, Any], name: str) -> None:
    """The format marker and version, checked before any field."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{name} is not a streamspec spectrum file (no 'format' marker)")
    version = data.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"damaged spectrum file {name}: format_version must be a whole number")
    if version > FORMAT_VERSION:
        raise InputError(f"{name} was written by a newer streamspec (format {version})")


def _fields(data: dict[str, Any], cls: type[S]) -> S:
    return cls(
        settings=dict(data["settings"]),
        source=dict(data.get("source") or {}),
        slots=data.get("slots"),
        partial=bool(data.get("partial", False)),
        skipped_frames=int(data.get("skipped_frames", 0)),
        warnings=list(data.get("warnings") or []),
        chapters=list(data.get("chapters") or []),
        segments=list(data.get("segments") or []),
    )


def spectrum_from_json(data: Any, cls: type[S], *, name: str = "the data") -> S:
    """A spectrum of class ``cls`` from its JSON form as Python values, every field
    checked first (one-line :class:`InputError` naming the field; ``name`` is used in
    messages)."""
    _header(data, name)
    try:
        check_spectrum_json(data)
    except SchemaError as exc:
        raise InputError(f"damaged spectrum file {name}: {exc}") from None
    try:
        spec = _fields(data, cls)
        spec.extend(Strip.from_json(s) for s in data["strips"])
    except (KeyError, TypeError, ValueError) as exc:  # pragma: no cover - checked above
        raise InputError(f"damaged spectrum file {name} ({exc})") from None
    return spec


def _strips(records: list[_StripRecord]) -> list[Strip]:
    """Strips from their typed records, refusing (:class:`_RefusedError`) what the types
    cannot: every check over all strips at once."""
    n = len(records)
    if n == 0:
        return []
    index = np.fromiter((r.index for r in records), np.int64, n)
    if len(np.unique(index)) != n:
        raise _RefusedError  # a slot twice
    sizes = np.fromiter((len(r.palette) for r in records), np.int64, n)
    if any(len(r.counts) != len(r.palette) for r in records):
        raise _RefusedError
    total = int(sizes.sum())
    try:
        text = "".join(itertools.chain.from_iterable(r.palette for r in records)).encode("ascii")
    except UnicodeEncodeError:
        raise _RefusedError from None
    if len(text) != 7 * total:
        raise _RefusedError
    chars = np.frombuffer(text, np.uint8).reshape(total, 7)
    if not (chars[:, 0] == ord("#")).all() or not _IS_HEX[chars[:, 1:]].all():
        raise _RefusedError
    nib = _NIBBLE[chars[:, 1:]]
    rgb = nib[:, 0::2] * np.uint8(16) + nib[:, 1::2]
    flat = np.fromiter(itertools.chain.from_iterable(r.counts for r in records), np.int64, total)
    k = int(sizes[0])
    if (sizes == k).all():  # the usual file: one number of colours throughout
        palettes = list(rgb.reshape(n, k, 3))
        counts = list(flat.reshape(n, k))
    else:
        ends = np.cumsum(sizes).tolist()
        starts = [0, *ends[:-1]]
        palettes = [rgb[a:b] for a, b in zip(starts, ends, strict=True)]
        counts = [flat[a:b] for a, b in zip(starts, ends, strict=True)]
    if not np.maximum.reduceat(flat, np.cumsum(sizes) - sizes).all():
        raise _RefusedError  # a strip whose counts are all 0
    out = []
    for r, pal, cnt in zip(records, palettes, counts, strict=True):
        column = None
        if r.column is not None:
            try:
                raw = bytes.fromhex(r.column)
            except ValueError:
                raise _RefusedError from None
            if not raw or len(raw) % 3:
                raise _RefusedError
            column = np.frombuffer(raw, np.uint8).reshape(-1, 3).copy()
        out.append(
            Strip(r.index, r.target, r.time, pal, cnt, column, provisional=bool(r.provisional))
        )
    return out


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while a file's strips are built: they hold no cycles,
    and a collection every few thousand objects re-walks all those made so far (on
    800,000 strips that is over half the time). Cycles made meanwhile elsewhere are
    collected once it is back on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def decode_spectrum(raw: bytes, cls: type[S], *, name: str, path: str = "") -> S:
    """A spectrum of class ``cls`` from the bytes of its JSON file (see the module's
    text for how it is read and checked; ``path`` names the file in messages)."""
    try:
        with _no_cycle_collection():
            rec = _DECODER.decode(raw)
            strips = _strips(rec.strips)
        rest = {
            f: getattr(rec, f)
            for f in _FileRecord.__struct_fields__
            if f != "strips" and getattr(rec, f) is not msgspec.UNSET
        }
        _header(rest, name)
        rest["strips"] = []
        try:
            check_spectrum_json(rest)
        except SchemaError as exc:  # the strips come last: the same field is named
            raise InputError(f"damaged spectrum file {name}: {exc}") from None
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, _RefusedError):
        # Refused: read it as before, which names the field (or accepts it).
        data = parse_json(raw, path or name, _WHAT)
        return spectrum_from_json(data, cls, name=name)
    try:
        spec = _fields(rest, cls)
    except (KeyError, TypeError, ValueError) as exc:  # as spectrum_from_json says it
        raise InputError(f"damaged spectrum file {name} ({exc})") from None
    spec._strips = {s.index: s for s in strips}  # no slot twice: checked
    return spec


def load_spectrum(path: str | os.PathLike[str], cls: type[S]) -> S:
    """Read a spectrum of class ``cls`` from its JSON sidecar (or from the PNG next
    to it), up to :data:`~streamspec.core.limits.MAX_JSON_BYTES`."""
    p = Path(path)
    if p.suffix.lower() in IMAGE_FORMATS:
        p = json_path_for(p)
    raw = read_limited(p, MAX_JSON_BYTES, _WHAT)
    return decode_spectrum(raw, cls, name=repr(str(p)), path=str(p))


# -- writing --------------------------------------------------------------------------------
def spectrum_to_json(spectrum: SpectrumData) -> dict[str, Any]:
    """Everything needed to redraw the image without decoding."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "streamspec": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": spectrum.source,
        "settings": spectrum.settings,
        "slots": spectrum.slots,
        "partial": spectrum.partial,
        "skipped_frames": spectrum.skipped_frames,
        "warnings": spectrum.warnings,
        "chapters": spectrum.chapters,
        "segments": spectrum.segments,
        "strips": [s.to_json() for s in spectrum.strips],
    }


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _image_record(path: Path, name: str, size: tuple[int, int]) -> dict[str, Any]:
    """What a spectrum's data records of its picture: enough to tell it is that one."""
    return {
        "file": name,
        "width": size[0],
        "height": size[1],
        "bytes": path.stat().st_size,
        "sha256": _file_hash(path),
    }


def image_mismatch(image: str | os.PathLike[str], data: dict[str, Any] | None = None) -> str | None:
    """Why the picture ``image`` and the data beside it do not belong together, or None
    when they do (or when the data predates such records and cannot tell).

    ``data`` is the spectrum's JSON data if already read. A torn pair -- a save cut
    short, another writer's picture -- says so here; nothing is trusted on the
    picture's own word.
    """
    p = Path(image)
    if data is None:
        data = load_json(json_path_for(p), MAX_JSON_BYTES, _WHAT)
    if not isinstance(data, dict) or "image" not in data:
        return None
    record = data["image"]
    if not p.exists():
        return "its picture is missing"
    if not isinstance(record, dict):
        return "its data was saved without a picture"
    try:
        if record.get("file") not in (None, p.name):
            return f"its data belongs to the picture {record.get('file')!r}"
        if p.stat().st_size != record.get("bytes") or _file_hash(p) != record.get("sha256"):
            return "its picture is not the one its data was saved with (a save cut short?)"
    except OSError as exc:
        return f"its picture cannot be read ({exc.strerror or exc})"
    return None


def json_path_for(image: str | os.PathLike[str]) -> Path:
    """The sidecar of ``spectrum.png`` (or ``.jpg``, ``.webp``, ...) is ``spectrum.json``."""
    return Path(image).with_suffix(".json")


def save_spectrum(
    spectrum: SpectrumData, path: str | os.PathLike[str], image: Image.Image | None = None
) -> tuple[Path, Path]:
    """Write the image to ``path`` and the data to its ``.json`` sidecar, atomically.

    The extension picks the format: ``.png`` (with text metadata), ``.jpg``/``.jpeg``
    (no alpha: empty slots of a partial spectrum are black), ``.webp`` (lossless) or
    ``.tif``/``.tiff``; anything else raises :class:`~streamspec.core.errors.OutputError`
    before anything is written, as does a path that is the spectrum's own source
    file. Returns both paths. The image defaults to the spectrum's own.
    """
    out = check_writable(path)  # first: a directory has no sidecar name
    sidecar = json_path_for(out)
    check_outputs(
        [("the spectrum's source video", spectrum.source_file())],
        [("output", out, "-o"), ("output data", sidecar, "-o")],
        distinct=False,  # they differ unless out is a .json, which image_format refuses
    )
    image_format(out)
    check_writable(sidecar)
    img = image if image is not None else spectrum_image(spectrum)
    data = spectrum_to_json(spectrum)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"streamspec {__version__}")
    info.add_itxt("Source", str(spectrum.source.get("name", "")))
    info.add_itxt("streamspec:settings", json.dumps(spectrum.settings, sort_keys=True))
    info.add_itxt("streamspec:source", json.dumps(spectrum.source, sort_keys=True))
    info.add_text("streamspec:partial", "yes" if spectrum.partial else "no")
    try:
        write_image = image_writer(
            img,
            out,
            pnginfo=info,
            # zlib level 3: a third faster than the default 6 for ~7 % more bytes
            # (spectra of thousands of strips are redrawn interactively).
            compress_level=3,
            software=f"streamspec {__version__}",
            description=f"colour spectrum of {spectrum.source.get('name', '')}",
        )
    except OutputError as exc:  # too large for the format: the data alone is saved
        write_image = None
        too_large = exc
    with output_lock(out):
        # One unit: both written aside and flushed, then renamed -- the picture
        # first, the data last. The data names the picture it goes with (size and
        # hash), so a picture left from another save is told apart
        # (:func:`image_mismatch`) whatever stopped this one.
        tmp_image = None
        try:
            if write_image is not None:
                tmp_image = write_aside(out, write_image)
                data["image"] = _image_record(Path(tmp_image), out.name, img.size)
            else:
                data["image"] = None
            text = json.dumps(data, separators=(",", ":"), allow_nan=False)
            tmp_data = write_aside(sidecar, lambda fh: fh.write(text.encode("utf-8")))
        except BaseException:
            if tmp_image is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_image)
            raise
        commit([(tmp_image, out), (tmp_data, sidecar)] if tmp_image else [(tmp_data, sidecar)])
    if write_image is None:  # the data is safe: say how to get the picture
        raise OutputError(
            f"{too_large}; the data is saved in {str(sidecar)!r} (streamspec redraw draws it)"
        ) from None
    return out, sidecar
