"""Colour names: a basic colour term for any colour, and colours from what people type.

The naming model is the XKCD colour survey (Randall Munroe, 2010: about 222,500 people
named 3.4 million random RGB colours; the 949 most common names with the centroid sRGB
of the colours given each name were published as https://xkcd.com/color/rgb.txt under
CC0 1.0, public domain). The list ships with the package (``_data/xkcd_rgb.txt``, 19 kB).

A colour's *basic term* is one of :data:`BASIC_TERMS` -- the eleven basic colour terms of
English (Berlin & Kay, 1969) plus *teal*, the survey's eighth most common name and the
one the teal-and-orange look is named after. Each term is represented by the centroids
of the :data:`MODEL_NAMES` most common survey names whose head (last) word is that term
("red", "dark red", "brick red" -> red; "navy blue", "sky blue" -> blue; "gray" counts as
grey), and a colour takes the term of its nearest such centroid in OKLab. Several
centroids per term let one term cover its light and dark variants (dark grey is grey,
not black). :func:`nearest_name` gives the nearest of all 949 survey names instead.

:func:`parse_colour` reads ``#rrggbb``, ``#rgb``, ``rgb(r, g, b)`` and any survey name.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.colour import oklab
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_COLOUR_TEXT

__all__ = [
    "BASIC_TERMS",
    "MODEL_NAMES",
    "basic_term",
    "basic_terms",
    "nearest_name",
    "parse_colour",
    "survey_colours",
    "term_centroids",
]

#: The basic colour terms a colour is named with (Berlin & Kay's eleven, plus teal).
BASIC_TERMS: tuple[str, ...] = (
    "black", "white", "grey", "red", "orange", "yellow",
    "green", "blue", "purple", "pink", "brown", "teal",
)  # fmt: skip

#: How many of the survey's most common names represent the basic terms.
MODEL_NAMES = 300


_ALIASES = {"gray": "grey"}


@lru_cache(maxsize=1)
def survey_colours() -> tuple[tuple[str, ...], NDArray[np.uint8]]:
    """The XKCD survey's 949 names, most common first, and their centroid sRGB ``(949, 3)``."""
    text = resources.files(__package__).joinpath("_data/xkcd_rgb.txt").read_text("utf-8")
    names: list[str] = []
    rgb: list[tuple[int, int, int]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, code = line.split("\t")
        names.append(name)
        rgb.append(tuple(int(code[i : i + 2], 16) for i in (1, 3, 5)))  # type: ignore[arg-type]
    # The file lists the least common first.
    return tuple(reversed(names)), np.array(rgb[::-1], dtype=np.uint8)


def _names_a_term(word: str) -> bool:
    # "greenish", "bluey", "reddish", "purpley", "grayish": a basic term with a suffix.
    stems = (word, word[:-1], word[:-2], word[:-3], word[:-4])
    return any(_ALIASES.get(w, w) in BASIC_TERMS for w in stems)


def _head_term(name: str) -> str | None:
    words = name.split()
    head = _ALIASES.get(words[-1], words[-1])
    if head not in BASIC_TERMS or any(_names_a_term(w) for w in words[:-1]):
        return None
    return head


@lru_cache(maxsize=1)
def term_centroids() -> tuple[tuple[str, ...], tuple[str, ...], NDArray[np.float64]]:
    """The model: survey names used, the basic term of each, and their OKLab centroids."""
    names, rgb = survey_colours()
    top = zip(names[:MODEL_NAMES], rgb[:MODEL_NAMES], strict=True)
    used = [(n, t, c) for n, c in top if (t := _head_term(n))]
    return (
        tuple(u[0] for u in used),
        tuple(u[1] for u in used),
        oklab(np.array([u[2] for u in used], dtype=np.uint8)),
    )


def _nearest(lab: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.intp]:
    flat = lab.reshape(-1, 3)
    out = np.empty(len(flat), dtype=np.intp)
    for s in range(0, len(flat), 65536):  # bounded memory: 64k x centres distances at a time
        d = ((flat[s : s + 65536, None, :] - centres[None]) ** 2).sum(-1)
        out[s : s + 65536] = d.argmin(1)
    return out.reshape(lab.shape[:-1])


def basic_terms(rgb: ArrayLike) -> NDArray[np.intp]:
    """Indices into :data:`BASIC_TERMS` of sRGB uint8 colours ``(..., 3)``."""
    _, terms, centres = term_centroids()
    index = np.array([BASIC_TERMS.index(t) for t in terms], dtype=np.intp)
    return index[_nearest(oklab(np.asarray(rgb, dtype=np.uint8)), centres)]


def basic_term(rgb: ArrayLike) -> str:
    """The basic colour term of one sRGB colour (three 0..255 values)."""
    return BASIC_TERMS[int(basic_terms(np.asarray(rgb, dtype=np.uint8).reshape(3)))]


def nearest_name(rgb: ArrayLike) -> str:
    """The nearest of all 949 survey names (in OKLab) to one sRGB colour."""
    lab = oklab(np.asarray(rgb, dtype=np.uint8).reshape(1, 3))
    return survey_colours()[0][int(_nearest(lab, _survey_lab())[0])]


@lru_cache(maxsize=1)
def _survey_lab() -> NDArray[np.float64]:
    return oklab(survey_colours()[1])


_HEX = re.compile(r"#([0-9a-f]{6}|[0-9a-f]{3})")
_RGB = re.compile(r"rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)")


def parse_colour(text: str) -> NDArray[np.uint8]:
    """An sRGB uint8 colour ``(3,)`` from ``#rrggbb``, ``#rgb``, ``rgb(r, g, b)`` or a name.

    Names are the survey's (case and spacing ignored; "gray" reads as "grey"). Anything
    else raises :class:`~streamspec.core.errors.InputError` with one line naming the closest
    known names.
    """
    if not isinstance(text, str) or len(text) > MAX_COLOUR_TEXT:
        raise InputError(f"not a colour (at most {MAX_COLOUR_TEXT} characters): {text!r:.60}")
    t = " ".join(text.strip().lower().split())
    if m := _HEX.fullmatch(t):
        h = m.group(1)
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)
    if m := _RGB.fullmatch(t):
        values = [int(v) for v in m.groups()]
        if max(values) > 255:
            raise InputError(f"rgb() values are 0 to 255: {text!r}")
        return np.array(values, dtype=np.uint8)
    if t.startswith("#") or t.startswith("rgb"):
        raise InputError(f"not a colour: {text!r} (write #rrggbb, #rgb or rgb(r, g, b))")
    names, rgb = survey_colours()
    key = " ".join(_ALIASES.get(w, w) for w in t.split())
    try:
        return rgb[names.index(key)].copy()
    except ValueError:
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(
            f"unknown colour name {text!r}{hint} (names are the XKCD colour survey's, "
            "or write #rrggbb)"
        ) from None
