"""Names made safe to show: a file name printed on a terminal or in a log cannot move the
cursor, retitle or clear the terminal, reorder the line or start a line of its own."""

from __future__ import annotations

import unicodedata

__all__ = ["quoted", "shown"]


# Bidirectional overrides and isolates reorder what follows them on screen.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI


def shown(text: object) -> str:
    """``text`` safe to print on a terminal or in a log: control characters (C0, DEL,
    C1, newlines), line separators and bidirectional overrides become ``\\x1b``-style
    escapes, so a file name can neither move the cursor, retitle or clear the terminal
    nor start a line of its own. Ordinary text (any script) is left as it is."""
    s = str(text)
    if not any(map(_unsafe, s)):
        return s
    return "".join(repr(ch)[1:-1] if _unsafe(ch) else ch for ch in s)


def quoted(text: object) -> str:
    """``text`` in quotes for a message, escaped as :func:`shown` does (repr-like)."""
    return repr(str(text))  # repr escapes every character that is not printable
