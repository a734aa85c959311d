"""Checking a spectrum JSON file field by field before anything is built from it.

A damaged or hand-edited file must give one line that names the field
(``strips[3].index must be ...``), never a Python error from deep inside the drawing
code, and never draw a strip in the wrong place. The documented shape is in
docs/formats.md; every size has the limits of :mod:`streamspec.core.limits`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_CHAPTERS, MAX_COLOURS, MAX_HEIGHT, MAX_SLOTS, MAX_STRIP_WIDTH
from streamspec.core.options import MODES, ORDERS

__all__ = ["SchemaError", "check_chapters", "check_spectrum_json"]

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_PALETTE = re.compile(r"(?:#[0-9a-fA-F]{6})+")


class SchemaError(InputError):
    """A field of a spectrum file has the wrong type or an impossible value."""


def _fail(path: str, want: str, value: Any) -> SchemaError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return SchemaError(f"{path} must be {want}, got {shown}")


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(path, f"a whole number from {lo:,} to {hi:,}", value)
    return value


def _num(value: Any, path: str, *, lo: float = -math.inf, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < lo or (positive and value <= 0):
        want = "a number greater than 0" if positive else "a finite number"
        if lo > -math.inf and not positive:
            want = f"a number of at least {lo:g}"
        raise _fail(path, want, value)
    return float(value)


def _opt(value: Any, check: Any, path: str, *args: Any, **kw: Any) -> Any:
    return None if value is None else check(value, path, *args, **kw)


def _str(value: Any, path: str, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or (choices is not None and value not in choices):
        raise _fail(path, "one of " + ", ".join(choices) if choices else "a string", value)
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "true or false", value)
    return value


def _dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "an object", value)
    return value


def _list(value: Any, path: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "a list", value)
    if len(value) > most:
        raise SchemaError(f"{path} has {len(value):,} entries; at most {most:,} are allowed")
    return value


def _settings(s: dict[str, Any]) -> None:
    p = "settings"
    _opt(s.get("height"), _int, f"{p}.height", 1, MAX_HEIGHT)
    _opt(s.get("strip_width"), _int, f"{p}.strip_width", 1, MAX_STRIP_WIDTH)
    _opt(s.get("k"), _int, f"{p}.k", 1, MAX_COLOURS)
    _opt(s.get("order"), _str, f"{p}.order", ORDERS)
    _opt(s.get("mode"), _str, f"{p}.mode", MODES)
    _opt(s.get("start"), _num, f"{p}.start", lo=0.0)
    _opt(s.get("end"), _num, f"{p}.end", lo=0.0)
    _opt(s.get("step"), _num, f"{p}.step", positive=True)
    _opt(s.get("every"), _num, f"{p}.every", positive=True)
    _opt(s.get("strips"), _int, f"{p}.strips", 1, MAX_SLOTS)
    _opt(s.get("min_segment"), _num, f"{p}.min_segment", positive=True)
    offset = _opt(s.get("offset"), _num, f"{p}.offset", lo=0.0)
    if offset is not None and offset >= 1:
        raise _fail(f"{p}.offset", "a number from 0 to below 1", offset)
    _opt(s.get("axis"), _bool, f"{p}.axis")
    if s.get("chapters") not in (None, True, False, "auto"):
        raise _fail(f"{p}.chapters", "true, false, null or 'auto'", s.get("chapters"))
    if s.get("segments") not in (None, "auto"):
        raise _fail(f"{p}.segments", "null or 'auto'", s.get("segments"))


def _strip(d: Any, path: str) -> None:
    d = _dict(d, path)
    _int(d.get("index"), f"{path}.index", 0, MAX_SLOTS - 1)
    _num(d.get("target"), f"{path}.target")
    _num(d.get("time"), f"{path}.time")
    palette = _list(d.get("palette"), f"{path}.palette", MAX_COLOURS)
    counts = _list(d.get("counts"), f"{path}.counts", MAX_COLOURS)
    if not palette:
        raise SchemaError(f"{path}.palette is empty")
    # Fast paths first: a long film has hundreds of thousands of these.
    try:
        joined = "".join(palette)
    except TypeError:
        joined = ""
    if len(joined) != 7 * len(palette) or not _PALETTE.fullmatch(joined):
        for i, c in enumerate(palette):
            if not isinstance(c, str) or not _HEX.fullmatch(c) or len(c) != 7:
                raise _fail(f"{path}.palette[{i}]", "a colour like '#1a2b3c'", c)
    if len(counts) != len(palette):
        raise SchemaError(
            f"{path}.counts has {len(counts)} entries for {len(palette)} palette colours"
        )
    if set(map(type, counts)) != {int} or min(counts) < 0 or max(counts) > 2**62:
        for i, n in enumerate(counts):
            _int(n, f"{path}.counts[{i}]", 0, 2**62)
    if sum(counts) == 0:
        raise SchemaError(f"{path}.counts are all 0")
    _opt(d.get("provisional"), _bool, f"{path}.provisional")
    column = d.get("column")
    if column is not None:
        try:
            ok = isinstance(column, str) and len(bytes.fromhex(column)) % 3 == 0 and column != ""
        except ValueError:
            ok = False
        if not ok:
            raise _fail(f"{path}.column", "hex RGB triples", column)


def _chapter(d: Any, path: str) -> None:
    d = _dict(d, path)
    start = _num(d.get("start"), f"{path}.start", lo=0.0)
    end = _opt(d.get("end"), _num, f"{path}.end", lo=0.0)
    if end is not None and end < start:
        raise _fail(f"{path}.end", f"at least its start ({start:g})", end)
    _opt(d.get("title"), _str, f"{path}.title")


def check_chapters(chapters: Any, path: str = "chapters") -> None:
    """Raise :class:`SchemaError` for chapters a spectrum file cannot hold: the rules
    every chapter is checked by, whether read from a file, given to the library, or
    read back from a spectrum's data."""
    for i, c in enumerate(_list(chapters, path, MAX_CHAPTERS)):
        _chapter(c, f"{path}[{i}]")


def _finite(value: Any, path: str, depth: int = 0) -> None:
    """No NaN or infinity anywhere in ``value`` (they are not JSON: a browser's
    JSON.parse refuses the whole page)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(path, "a finite number", value)
    if depth > 8:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{path}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value[:1000]):
            _finite(v, f"{path}[{i}]", depth + 1)


def _source(d: dict[str, Any]) -> None:
    _finite(d, "source")
    _opt(d.get("duration"), _num, "source.duration", lo=0.0)
    _opt(d.get("fps"), _num, "source.fps", positive=True)
    for side in ("width", "height"):
        _opt(d.get(side), _int, f"source.{side}", 0, 2**31)


def _image(d: Any) -> None:
    if d is None:
        return
    d = _dict(d, "image")
    _str(d.get("file"), "image.file")
    _int(d.get("width"), "image.width", 1, 2**31)
    _int(d.get("height"), "image.height", 1, 2**31)
    _int(d.get("bytes"), "image.bytes", 1, 2**62)
    digest = d.get("sha256")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise _fail("image.sha256", "a SHA-256 in hex", digest)


def _segment(d: Any, path: str) -> None:
    d = _dict(d, path)
    _num(d.get("start"), f"{path}.start", lo=0.0)
    _opt(d.get("end"), _num, f"{path}.end", lo=0.0)
    for i, c in enumerate(_list(d.get("colours") or [], f"{path}.colours", MAX_COLOURS)):
        c = _dict(c, f"{path}.colours[{i}]")
        rgb = _list(c.get("rgb"), f"{path}.colours[{i}].rgb", 3)
        if len(rgb) != 3:
            raise _fail(f"{path}.colours[{i}].rgb", "three numbers from 0 to 255", rgb)
        for j, v in enumerate(rgb):
            _int(v, f"{path}.colours[{i}].rgb[{j}]", 0, 255)
        _num(c.get("share"), f"{path}.colours[{i}].share", lo=0.0)


def check_spectrum_json(data: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` naming the first field that is wrong."""
    _settings(_dict(data.get("settings"), "settings"))
    source = _opt(data.get("source"), _dict, "source")
    if source is not None:
        _source(source)
    if "image" in data:
        _image(data["image"])
    _opt(data.get("slots"), _int, "slots", 0, MAX_SLOTS)
    _opt(data.get("partial"), _bool, "partial")
    _opt(data.get("skipped_frames"), _int, "skipped_frames", 0, 2**62)
    for i, w in enumerate(_list(data.get("warnings") or [], "warnings", 10_000)):
        _str(w, f"warnings[{i}]")
    check_chapters(data.get("chapters") or [])
    for i, s in enumerate(_list(data.get("segments") or [], "segments", 100_000)):
        _segment(s, f"segments[{i}]")
    seen: set[int] = set()
    for i, s in enumerate(_list(data.get("strips"), "strips", MAX_SLOTS)):
        _strip(s, f"strips[{i}]")
        if s["index"] in seen:
            raise SchemaError(f"strips[{i}].index {s['index']} appears twice")
        seen.add(s["index"])
