"""Exports: a spectrum's shots, chapters and colour segments for editors, its colours for
palette tools -- one entry point, the output's extension picks the format.

Layout, and why: what is exported is described once, as small frozen values checked when
made (:mod:`.items`: :class:`TimelineItem`, :class:`Palette`, and the builders that read a
spectrum); each family of formats is one module of pure writers returning bytes
(:mod:`.timeline`: OpenTimelineIO, EDL, CSV; :mod:`.swatches`: ASE, GPL, CSS, JSON); and
this module holds the registry (:data:`FORMATS`, extension -> writer) and :func:`export`,
which does every check (a known extension, no output over an input, a writable place)
before any work and writes the file atomically. A command line is then a few lines:
load nothing, call ``export(spectrum_json, output, what=...)``. The statistics tables
(:mod:`streamspec.outputs.stats`) are analysis rather than interchange, so they live apart.

>>> from streamspec.outputs.export import export
>>> export("film-spectrum.json", "film.otio")               # doctest: +SKIP
>>> export("film-spectrum.json", "film.ase", what="segments")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from streamspec.analysis.colour import linear_mean
from streamspec.core._io import (
    IMAGE_FORMATS,
    atomic_write,
    check_outputs,
    check_writable,
    input_file,
)
from streamspec.core.errors import InputError, OutputError
from streamspec.outputs.export.items import (
    ITEM_KINDS,
    Palette,
    TimelineItem,
    by_time,
    film_duration,
    film_fps,
    item_palette,
    spectrum_items,
    strips_in,
)
from streamspec.outputs.export.swatches import (
    palettes_ase,
    palettes_css,
    palettes_gpl,
    palettes_json,
)
from streamspec.outputs.export.timeline import (
    FilmTimeline,
    timeline_csv,
    timeline_edl,
    timeline_otio,
)

if TYPE_CHECKING:
    from streamspec.outputs.spectrum import Spectrum

__all__ = [
    "FORMATS",
    "PALETTE_CHOICES",
    "FilmTimeline",
    "Format",
    "Palette",
    "TimelineItem",
    "export",
    "film_timeline",
    "format_for",
    "spectrum_palettes",
    "write_palettes",
    "write_timeline",
]

StrPath = "str | os.PathLike[str]"


@dataclass(frozen=True)
class Format:
    """An export format: its extension, what it holds (``timeline`` or ``palette``),
    a description, and its writer (a :class:`FilmTimeline`, or palettes and a title,
    to the file's bytes)."""

    suffix: str
    kind: str
    description: str
    write: Callable[..., bytes]


def _ase(palettes: Sequence[Palette], title: str) -> bytes:
    return palettes_ase(palettes)


#: Every export format by extension.
FORMATS: dict[str, Format] = {
    f.suffix: f
    for f in (
        Format(".otio", "timeline", "OpenTimelineIO timeline", timeline_otio),
        Format(".edl", "timeline", "CMX 3600 edit decision list", timeline_edl),
        Format(".csv", "timeline", "CSV, one row per shot, chapter or segment", timeline_csv),
        Format(".ase", "palette", "Adobe Swatch Exchange", _ase),
        Format(".gpl", "palette", "GIMP palette", palettes_gpl),
        Format(".css", "palette", "CSS custom properties", palettes_css),
        Format(".json", "palette", "palettes as JSON, with shares", palettes_json),
    )
}

#: What a palette export can hold (``what=``): the whole film, one palette per item of a
#: kind, or one item: ``strip:N`` (slot N), ``shot:N``, ``segment:N``, ``chapter:N``
#: (1-based), ``time:SECONDS`` (the strip at that time).
PALETTE_CHOICES = ("film", "strips", "shots", "segments", "chapters")


def format_for(path: str | os.PathLike[str]) -> Format:
    """The :class:`Format` an output's extension names, or one :class:`InputError` line
    listing the known ones."""
    suffix = Path(path).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        known = ", ".join(FORMATS)
        given = f"extension {suffix!r}" if suffix else "no extension"
        raise InputError(f"cannot export to {os.fspath(path)!r}: {given}; known: {known}")
    return fmt


# -- from a spectrum -------------------------------------------------------------------
def _title(spectrum: Spectrum) -> str:
    name = str(spectrum.source.get("name") or "")
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return base or "film"


def _media(spectrum: Spectrum) -> str | None:
    own = spectrum.source_file()
    if own is not None:
        return str(own.resolve())
    name = spectrum.source.get("name")
    return str(name) if name else None


def _kinds(what: str | Iterable[str] | None) -> list[str]:
    if what is None:
        return list(ITEM_KINDS)
    words = what.split(",") if isinstance(what, str) else list(what)
    kinds = []
    for w in words:
        k = str(w).strip().lower().removesuffix("s")
        if k not in ITEM_KINDS:
            raise InputError(
                f"cannot put {str(w).strip()!r} on a timeline; "
                "choose from shots, chapters, segments"
            )
        kinds.append(k)
    return kinds


def _colour_shots(spectrum: Spectrum, items: list[TimelineItem]) -> list[TimelineItem]:
    """Shots without a colour get their mean colour (linear light) over their strips."""
    out = []
    ordered = by_time(spectrum)
    for it in items:
        if it.kind == "shot" and it.colour is None:
            strips = strips_in(ordered, it.start, it.end)
            if strips:
                pal = np.concatenate([s.palette for s in strips])
                w = np.concatenate([s.counts / max(s.counts.sum(), 1) for s in strips])
                r, g, b = (int(v) for v in linear_mean(pal, w))
                it = replace(it, colour=(r, g, b))
        out.append(it)
    return out


def film_timeline(
    spectrum: Spectrum,
    *,
    what: str | Iterable[str] | None = None,
    shots: Sequence[Mapping[str, Any]] | None = None,
    fps: float | None = None,
) -> FilmTimeline:
    """The spectrum's film as a :class:`FilmTimeline`: its shots (``shots``, else the
    spectrum's own), chapters and colour segments (``what`` picks kinds: ``"shots,
    chapters"``), at the film's frame rate (``fps`` overrides; 25 when unknown)."""
    kinds = _kinds(what)
    items = spectrum_items(spectrum, shots=shots, kinds=kinds)
    if what is not None:  # asked for by name: say so when there are none
        for kind in kinds:
            if not any(it.kind == kind for it in items):
                hint = " (render with --shots)" if kind == "shot" else ""
                raise InputError(f"this spectrum has no {kind}s{hint}")
    return FilmTimeline(
        title=_title(spectrum),
        duration=film_duration(spectrum),
        fps=fps if fps is not None else film_fps(spectrum),
        items=tuple(_colour_shots(spectrum, items)),
        media=_media(spectrum),
    )


def _pick(items: list[TimelineItem], kind: str, number: str) -> TimelineItem:
    try:
        n = int(number)
    except ValueError:
        raise InputError(f"{kind}:{number} -- the {kind} number must be a whole number") from None
    chosen = [it for it in items if it.kind == kind]
    if not 1 <= n <= len(chosen):
        have = f"1 to {len(chosen)}" if chosen else "none"
        raise InputError(f"there is no {kind} {n}; this spectrum has {kind}s {have}")
    return chosen[n - 1]


def spectrum_palettes(
    spectrum: Spectrum,
    what: str = "film",
    *,
    shots: Sequence[Mapping[str, Any]] | None = None,
    top: int | None = 8,
) -> list[Palette]:
    """Palettes of the spectrum: ``what`` is ``film`` (one palette), ``strips``,
    ``shots``, ``segments`` or ``chapters`` (one palette each), or one item:
    ``strip:N`` (slot N), ``shot:N``, ``segment:N``, ``chapter:N`` (1-based) or
    ``time:SECONDS``. Each keeps its ``top`` largest colours (None: all)."""
    if top is not None and (isinstance(top, bool) or not 1 <= int(top) <= 256):
        raise InputError(f"a palette keeps 1 to 256 colours, not {top!r}")
    w = str(what).strip().lower()
    head, _, arg = w.partition(":")
    if not spectrum.strips:
        raise InputError("the spectrum has no strips; it has no colours to export")
    if w == "film":
        return [item_palette(spectrum, name=_title(spectrum), top=top)]
    if w == "strips" or head in ("strip", "time"):
        strips = spectrum.strips
        if head == "strip":
            try:
                slot = int(arg)
            except ValueError:
                raise InputError(f"{what!r}: the strip must be a slot number") from None
            strips = [s for s in strips if s.index == slot]
            if not strips:
                raise InputError(f"there is no strip in slot {slot}")
        elif head == "time":
            try:
                t = float(arg)
            except ValueError:
                raise InputError(f"{what!r}: the time must be a number of seconds") from None
            strips = [min(strips, key=lambda s: abs(s.time - t))]
        return [
            Palette.from_weights(s.palette, s.counts, f"Strip {s.index} ({s.time:.3f} s)", top=top)
            for s in strips
        ]
    kind = head.removesuffix("s")
    if kind not in ITEM_KINDS:
        raise InputError(
            f"unknown palette choice {what!r}; choose from {', '.join(PALETTE_CHOICES)}, "
            "or strip:N, shot:N, segment:N, chapter:N, time:SECONDS"
        )
    items = [it for it in spectrum_items(spectrum, shots=shots, kinds=[kind])]
    if arg:
        items = [_pick(items, kind, arg)]
    if not items:
        raise InputError(f"this spectrum has no {kind}s")
    ordered = by_time(spectrum)
    return [item_palette(ordered, it.start, it.end, name=it.name, top=top) for it in items]


# -- writing ------------------------------------------------------------------------------
def _inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[tuple[str, Any]]:
    return [("an input", p) for p in inputs]


def _not_a_spectrum(out: Path) -> None:
    """Refuse to replace a spectrum's data, whichever spectrum it is: a palette ``.json``
    named like one would lose a render's work."""
    try:
        with open(out, "rb") as fh:
            head = fh.read(64)
    except OSError:  # absent or unreadable: nothing to lose here
        return
    if b'"format":"streamspec-spectrum"' in head.replace(b" ", b""):
        raise OutputError(
            f"output {os.fspath(out)!r} is a spectrum's data; choose another name with -o"
        )


def write_timeline(
    timeline: FilmTimeline,
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write ``timeline`` to ``path`` in the format its extension names (``.otio``,
    ``.edl``, ``.csv``), atomically; never over one of ``inputs``."""
    fmt = format_for(path)
    if fmt.kind != "timeline":
        raise InputError(f"{fmt.suffix} holds palettes, not a timeline; use .otio, .edl or .csv")
    out = check_writable(path)
    check_outputs(_inputs(inputs), [("output", out, "-o")])
    _not_a_spectrum(out)
    data = fmt.write(timeline)
    return atomic_write(out, lambda fh: fh.write(data))


def write_palettes(
    palettes: Sequence[Palette],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write ``palettes`` to ``path`` in the format its extension names (``.ase``,
    ``.gpl``, ``.css``, ``.json``), atomically; never over one of ``inputs``."""
    fmt = format_for(path)
    if fmt.kind != "palette":
        raise InputError(
            f"{fmt.suffix} holds a timeline, not palettes; use .ase, .gpl, .css or .json"
        )
    out = check_writable(path)
    check_outputs(_inputs(inputs), [("output", out, "-o")])
    _not_a_spectrum(out)
    data = fmt.write(list(palettes), title)
    return atomic_write(out, lambda fh: fh.write(data))


def _load(path: str | os.PathLike[str]) -> tuple[Spectrum, Path, list[Any] | None]:
    """A spectrum, its JSON's path and the JSON's ``shots`` list (None when absent), from
    one read of the file (as :meth:`Spectrum.load` reads it)."""
    from streamspec.core.limits import MAX_JSON_BYTES
    from streamspec.outputs.spectrum import Spectrum, json_path_for

    p = Path(path)
    if p.suffix.lower() in IMAGE_FORMATS:
        p = json_path_for(p)
    p = input_file(p, "a spectrum file")
    size = p.stat().st_size
    if size > MAX_JSON_BYTES:
        raise InputError(
            f"{str(p)!r} is {size / 2**20:,.0f} MiB; spectrum files are read up to "
            f"{MAX_JSON_BYTES // 2**20:,} MiB"
        )
    try:
        with open(p, "rb") as fh:
            data = json.loads(fh.read(MAX_JSON_BYTES + 1).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError(f"{str(p)!r} is not a spectrum JSON file") from None
    spec = Spectrum.from_json(data, name=repr(str(p)))
    shots = data.get("shots") if isinstance(data, dict) else None
    if shots is not None and not isinstance(shots, list):
        raise InputError(f"damaged spectrum file {str(p)!r}: 'shots' is not a list")
    return spec, p, shots


def export(
    spectrum: Spectrum | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    what: str | None = None,
    shots: Sequence[Mapping[str, Any]] | None = None,
    inputs: Iterable[str | os.PathLike[str]] = (),
    top: int | None = 8,
    fps: float | None = None,
) -> Path:
    """Export a spectrum (a :class:`~streamspec.outputs.spectrum.Spectrum`, or the path of its
    JSON or image) to ``path``; the extension picks the format (:data:`FORMATS`).

    Timelines (``.otio``, ``.edl``, ``.csv``) hold the kinds ``what`` names (default:
    shots, chapters and segments, as far as the spectrum has them); palettes (``.ase``,
    ``.gpl``, ``.css``, ``.json``) hold what :func:`spectrum_palettes` makes of ``what``
    (default ``film``), ``top`` colours each. ``shots`` overrides the spectrum's own.

    Everything is checked before anything is written: an unknown extension or choice is
    one :class:`~streamspec.core.errors.InputError` line, and the output may not be the
    spectrum file, its source film or any of ``inputs``
    (:class:`~streamspec.core.errors.OutputError`). The file is written atomically.
    Returns its path.
    """
    fmt = format_for(path)
    out = check_writable(path)
    given = list(inputs)
    own_shots: list[Any] | None = None
    if isinstance(spectrum, (str, os.PathLike)):
        given.append(spectrum)  # also when it is the image: the sidecar is added below
        check_outputs(_inputs(given), [("output", out, "-o")])
        spectrum, json_path, own_shots = _load(spectrum)
        given.append(json_path)
    sources = [("the spectrum's source film", spectrum.source_file())]
    check_outputs([*sources, *_inputs(given)], [("output", out, "-o")])
    _not_a_spectrum(out)
    use_shots = shots if shots is not None else own_shots
    if fmt.kind == "timeline":
        tl = film_timeline(spectrum, what=what, shots=use_shots, fps=fps)
        data = fmt.write(tl)
    else:
        pals = spectrum_palettes(spectrum, what or "film", shots=use_shots, top=top)
        data = fmt.write(pals, _title(spectrum))
    return atomic_write(out, lambda fh: fh.write(data))
