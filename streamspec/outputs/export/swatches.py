"""Swatches: palettes as Adobe Swatch Exchange, GIMP palette, CSS and JSON.

Every writer takes a sequence of :class:`~streamspec.outputs.export.items.Palette` and returns
the file's bytes. Each colour is named by its hex code and share (``#1b3a4b 40.0%``),
so the shares travel with the colours into tools that keep only names.

- ``.ase`` (Adobe Swatch Exchange 1.0, big-endian): the signature ``ASEF``, version 1.0,
  the number of blocks, then per palette a group-start block (``0xC001``, its name), one
  colour block per colour (``0x0001``: UTF-16 name, model ``RGB``, three 32-bit floats
  0-1, type 2 = normal) and a group-end block (``0xC002``).
- ``.gpl`` (GIMP palette, as GIMP writes it): ``GIMP Palette``, ``Name:``,
  ``Columns:``, then ``R G B<TAB>name`` lines. A GIMP palette holds one list: several
  palettes follow one another, each introduced by a ``#`` comment line, and
  ``Columns`` is the longest palette's length, so GIMP shows one palette per row.
- ``.css``: custom properties on ``:root``: ``--NAME-N`` is the N-th colour of palette
  NAME (a slug of its name), ``--NAME-N-share`` its share (a number 0-1).
- ``.json``: ``{"format": "streamspec-palettes", "palettes": [{"name", "coverage",
  "colours": [{"hex", "rgb", "share"}]}]}``.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Sequence

from streamspec._version import __version__
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_PALETTES, MAX_SWATCH_NAME
from streamspec.outputs.export.items import MAX_PALETTE_COLOURS, Palette, hex_colour

__all__ = [
    "JSON_FORMAT",
    "colour_label",
    "palettes_ase",
    "palettes_css",
    "palettes_gpl",
    "palettes_json",
]

JSON_FORMAT = "streamspec-palettes"
# ASE names are counted in UTF-16 units in a 16-bit field; palettes are named briefly.
_MAX_NAME = MAX_SWATCH_NAME


def _check(palettes: Sequence[Palette]) -> list[Palette]:
    pals = list(palettes)
    if not pals:
        raise InputError("there is no palette to write")
    if len(pals) > MAX_PALETTES:
        raise InputError(f"{len(pals):,} palettes; the limit is {MAX_PALETTES:,} per file")
    if not all(isinstance(p, Palette) for p in pals):
        raise InputError("swatch writers take Palette values")
    return pals


def colour_label(rgb: tuple[int, int, int], share: float) -> str:
    """A colour's name in swatch files: ``#1b3a4b 40.0%``."""
    return f"{hex_colour(rgb)} {100 * share:.1f}%"


def _name(text: str) -> str:
    """A name safe on one line, at most :data:`_MAX_NAME` characters."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()
    return clean[:_MAX_NAME]


# -- Adobe Swatch Exchange ------------------------------------------------------------------
def _ase_name(text: str) -> bytes:
    units = (text + "\0").encode("utf-16-be")
    return struct.pack(">H", len(units) // 2) + units


def _ase_block(kind: int, body: bytes) -> bytes:
    return struct.pack(">HI", kind, len(body)) + body


def palettes_ase(palettes: Sequence[Palette]) -> bytes:
    """Adobe Swatch Exchange 1.0: one colour group per palette, RGB floats."""
    pals = _check(palettes)
    blocks = []
    for i, pal in enumerate(pals):
        blocks.append(_ase_block(0xC001, _ase_name(_name(pal.name) or f"Palette {i + 1}")))
        for rgb, share in zip(pal.colours, pal.shares, strict=True):
            body = (
                _ase_name(colour_label(rgb, share))
                + b"RGB "
                + struct.pack(">fff", *(c / 255.0 for c in rgb))
                + struct.pack(">H", 2)  # 0 global, 1 spot, 2 normal (process)
            )
            blocks.append(_ase_block(0x0001, body))
        blocks.append(_ase_block(0xC002, b""))
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks)


# -- GIMP palette -------------------------------------------------------------------------
def palettes_gpl(palettes: Sequence[Palette], title: str = "") -> bytes:
    """A GIMP palette: every palette's colours in turn, one palette per row in GIMP."""
    pals = _check(palettes)
    name = _name(title) or _name(pals[0].name) or "streamspec"
    columns = min(max(len(p.colours) for p in pals), MAX_PALETTE_COLOURS)
    lines = ["GIMP Palette", f"Name: {name}", f"Columns: {columns}"]
    lines.append(f"# streamspec {__version__}: colours named by hex code and share")
    for i, pal in enumerate(pals):
        lines.append(f"# {_name(pal.name) or f'Palette {i + 1}'}")
        for rgb, share in zip(pal.colours, pal.shares, strict=True):
            r, g, b = rgb
            lines.append(f"{r:3d} {g:3d} {b:3d}\t{colour_label(rgb, share)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


# -- CSS custom properties --------------------------------------------------------------
def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not s or s[0].isdigit():
        s = f"palette-{s}" if s else "palette"
    return s[:60]


def palettes_css(palettes: Sequence[Palette], title: str = "") -> bytes:
    """CSS custom properties on ``:root`` (``--NAME-N`` colours, ``--NAME-N-share``)."""
    pals = _check(palettes)
    head = _name(title).replace("*/", "* /")
    lines = [
        f"/* streamspec {__version__}: colours{f' of {head}' if head else ''}, "
        "largest share first */",
        ":root {",
    ]
    used: set[str] = set()
    for i, pal in enumerate(pals):
        slug = _slug(pal.name or f"palette {i + 1}")
        base, n = slug, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        for j, (rgb, share) in enumerate(zip(pal.colours, pal.shares, strict=True), 1):
            lines.append(f"  --{slug}-{j}: {hex_colour(rgb)};")
            lines.append(f"  --{slug}-{j}-share: {share:.4f};")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


# -- JSON ------------------------------------------------------------------------------
def palettes_json(palettes: Sequence[Palette], title: str = "") -> bytes:
    """The palettes as JSON, shares as fractions (to 6 digits)."""
    pals = _check(palettes)
    doc = {
        "format": JSON_FORMAT,
        "format_version": 1,
        "streamspec": __version__,
        "title": str(title),
        "palettes": [
            {
                "name": p.name,
                "coverage": round(p.coverage, 6),
                "colours": [
                    {"hex": hex_colour(c), "rgb": list(c), "share": round(s, 6)}
                    for c, s in zip(p.colours, p.shares, strict=True)
                ],
            }
            for p in pals
        ],
    }
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
