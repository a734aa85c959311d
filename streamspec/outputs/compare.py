"""Films side by side: spectra stacked on one time axis, and the palette distance
between two versions of a film.

Every film is drawn with the same pixels per second (``normalize=False``: a strip
sampled at time t lands at the same x in every band) or stretched over the full width
(``normalize=True``: each film's first strip starts at the left edge and its last ends
at the right, so the axis reads 0-100 % of each film's running time). Columns are taken
from :meth:`Spectrum.columns` by nearest slot: a column shows the strip whose slot
covers the column's centre time.

This module draws the stacked picture (:func:`compare_spectra`, :func:`compare_files`).
The palette distance (:func:`palette_distance`, :func:`strip_distances`,
:class:`PaletteDiff`) and its curve live in :mod:`streamspec.outputs.compare_diff` and are
importable from here as well.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from streamspec.analysis.segments import colour_segments
from streamspec.core.errors import InputError
from streamspec.core.grid import SlotGrid
from streamspec.core.limits import ANNOTATION_ROWS, MAX_HEIGHT, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from streamspec.core.limits import MAX_COMPARE_FILMS as MAX_FILMS
from streamspec.core.timefmt import format_hms, nice_ticks
from streamspec.outputs.annotate import (
    BACKGROUND,
    DIM,
    INK,
    annotate_bands,
    chapter_spans,
    text_font,
)
from streamspec.outputs.compare_diff import CURVE as CURVE  # re-exported
from streamspec.outputs.compare_diff import (
    DIRECTIONS,
    PaletteDiff,
    _draw_diff,
    _fit,
    _palette_diff,
    _slot_at,
    palette_distance,
    strip_distances,
)
from streamspec.outputs.corpus import film_title
from streamspec.outputs.spectrum import Spectrum

__all__ = [
    "DIRECTIONS",
    "Comparison",
    "PaletteDiff",
    "compare_files",
    "compare_spectra",
    "palette_distance",
    "strip_distances",
]

# Default output width: one column per strip of the most densely sampled film, within
# these bounds (narrower and the labels do not fit; wider is for --width to ask).
MIN_WIDTH, MAX_DEFAULT_WIDTH = 800, 4000


@dataclass
class Comparison:
    """A drawn comparison: the image and where things are in it.

    ``bands[i]`` is the ``(top, bottom)`` rows of film i's spectrum band (bottom
    exclusive); film i's time t is at x = ``(t - origins[i]) * scales[i]``. With a
    diff, ``diff_box`` is ``(row of diff_top, row of 0)`` of the distance curve.
    """

    image: Image.Image
    titles: list[str]
    bands: list[tuple[int, int]]
    origins: list[float]
    scales: list[float]
    normalize: bool
    diff: PaletteDiff | None = None
    diff_box: tuple[int, int] | None = None
    diff_top: float = 0.0

    def x_of(self, film: int, t: float) -> float:
        """Horizontal position (pixels from the left edge) of film ``film``'s time ``t``."""
        return (t - self.origins[film]) * self.scales[film]


def _span(spec: Spectrum) -> tuple[float, float]:
    """The time a spectrum covers: from its first slot's start to its last slot's end."""
    grid = spec.grid
    return grid.time_of_column(0), grid.time_of_column(spec.width_slots)


def _labels(spectra: Sequence[Spectrum], names: Sequence[str]) -> list[str]:
    """Titles, told apart by their file names (then numbers) where they collide."""
    titles = [film_title(s, Path(n).stem) for s, n in zip(spectra, names, strict=True)]
    out = [
        f"{t} ({Path(n).name})" if titles.count(t) > 1 and n else t
        for t, n in zip(titles, names, strict=True)
    ]
    return [f"{t} #{i + 1}" if out.count(t) > 1 else t for i, t in enumerate(out)]


def _columns_grid(origin: float, scale: float) -> SlotGrid:
    """The grid whose slot i is image column i of an image with ``origin`` at x = 0 and
    ``scale`` px/s: the bands are drawn in this image's coordinates."""
    return SlotGrid(start=origin, step=1.0 / scale, offset=0.0)


def _segments_on_strips(spec: Spectrum, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Segments spanning exactly their strips (data written before slots spanned their
    steps clipped the first one's start to 0 s, half a strip after its strip began)."""
    out = []
    grid = spec.grid
    for seg in segments:
        if "first_strip" in seg and "last_strip" in seg:
            seg = {
                **seg,
                "start": grid.span(int(seg["first_strip"]))[0],
                "end": grid.span(int(seg["last_strip"]))[1],
            }
        out.append(seg)
    return out


def _chapters_with_ends(chapters: list[dict[str, Any]], end: float) -> list[dict[str, Any]]:
    """Chapters with an explicit end: the next chapter's start, or the film's end (not
    the image's right edge, which may lie past a shorter film)."""
    spans = chapter_spans(chapters, end)
    return [{**ch, "end": c.end} for ch, c in zip(chapters, spans, strict=True)]


def compare_spectra(
    spectra: Sequence[Spectrum],
    *,
    names: Sequence[str] | None = None,
    height: int = 100,
    width: int | None = None,
    normalize: bool = False,
    segments: bool = False,
    chapters: bool = False,
    diff: bool = False,
    order: str | None = None,
    mode: str | None = None,
) -> Comparison:
    """Draw ``spectra`` stacked on one time axis (see the module docstring).

    Each film gets a title row (its source's name), a band ``height`` px tall and,
    when asked, its colour ``segments`` (found now if the data has none) and its
    ``chapters``; a time axis runs under the stack (``h:mm:ss``, or percent with
    ``normalize``). ``width`` defaults to one column per strip of the densest film, from
    800 to 4,000 px. ``diff`` (exactly two films) adds the :func:`palette_distance`
    curve between them, at each strip of the first. ``names`` (the files' names) tell
    apart films with the same title. Raises :class:`InputError` for bad options.
    """
    n = len(spectra)
    if n == 0:
        raise InputError("nothing to compare: give at least one spectrum")
    if n > MAX_FILMS:
        raise InputError(f"at most {MAX_FILMS} spectra can be compared at once, got {n}")
    if diff and n != 2:
        raise InputError(f"--diff compares exactly two spectra, got {n}")
    if not 8 <= int(height) <= MAX_HEIGHT:
        raise InputError(f"height must be from 8 to {MAX_HEIGHT:,} px, got {height:,}")
    names = list(names) if names is not None else [""] * n
    for spec, name in zip(spectra, names, strict=True):
        if len(spec) == 0:
            raise InputError(f"{name or 'a spectrum'} has no strips to draw")
    spans = [_span(s) for s in spectra]
    steps = [float(s.settings.get("step", 1.0)) or 1.0 for s in spectra]
    if width is None:
        natural: float
        if normalize:
            natural = max(s.width_slots for s in spectra)
        else:
            natural = (max(b for _, b in spans) - min(a for a, _ in spans)) / min(steps)
        width = int(min(max(round(natural), MIN_WIDTH), MAX_DEFAULT_WIDTH))
    if not 100 <= int(width) <= MAX_IMAGE_SIDE:
        raise InputError(f"width must be from 100 to {MAX_IMAGE_SIDE:,} px, got {width:,}")
    W, H = int(width), int(height)
    if normalize:
        origins = [a for a, _ in spans]
        scales = [W / max(b - a, 1e-9) for a, b in spans]
    else:
        t0, t1 = min(a for a, _ in spans), max(b for _, b in spans)
        origins, scales = [t0] * n, [W / max(t1 - t0, 1e-9)] * n
    titles = _labels(spectra, names)

    fs = max(11, min(22, round(H * 0.14)))
    sfs = max(9, round(fs * 0.8))
    font, small = text_font(fs), text_font(sfs)
    pad = max(3, fs // 3)
    curve_h = max(70, H * 2 // 3)
    # Before drawing anything: at most this tall (annotation bands are under 200 rows).
    per_film = fs + 3 * pad + H + (ANNOTATION_ROWS if segments or chapters else 0)
    rows = n * per_film + (fs + 3 * pad + curve_h if diff else 0) + sfs + 3 * pad
    if rows > MAX_HEIGHT or W * rows > MAX_IMAGE_PIXELS:
        raise InputError(
            f"the comparison would be up to {W:,} x {rows:,} px; lower --height or --width "
            f"(at most {MAX_HEIGHT:,} px tall and {MAX_IMAGE_PIXELS:,} pixels)"
        )
    bg = np.array(BACKGROUND, np.uint8)
    xs = np.arange(W) + 0.5
    parts: list[Image.Image] = []  # drawn top to bottom, then pasted
    band_rows: list[tuple[int, int]] = []
    y = 0
    for i, spec in enumerate(spectra):
        # Title row.
        row = Image.new("RGB", (W, fs + 2 * pad), BACKGROUND)
        d = ImageDraw.Draw(row)
        every = f"every {steps[i]:g} s" if steps[i] < 100 else f"every {steps[i] / 60:g} min"
        detail = f"{len(spec)} strips, {every}" + (", partial" if spec.partial else "")
        dw = d.textlength(detail, font=small)
        title = _fit(d, titles[i], font, W - dw - 4 * pad)
        d.text((pad, pad), title, font=font, fill=INK)
        d.text((W - dw - pad, pad + (fs - sfs) // 2), detail, font=small, fill=DIM)
        parts.append(row)
        y += row.height
        # The band: each column shows the strip whose slot covers its centre time.
        cols, filled = spec.columns(height=H, order=order, mode=mode)
        slot = _slot_at(spec, origins[i] + xs / scales[i])
        ok = (slot >= 0) & (slot < len(filled))
        ok[ok] = filled[slot[ok]]
        band = np.broadcast_to(bg, (H, W, 3)).copy()
        band[:, ok] = cols[:, slot[ok]]
        img = Image.fromarray(band, "RGB")
        band_rows.append((y, y + H))
        want_segments = None
        if segments:
            if not spec.segments:  # found now, and kept with the spectrum, as before
                spec.segments = [s.to_dict() for s in colour_segments(spec.strips, spec.grid)]
            want_segments = _segments_on_strips(spec, spec.segments)
        want_chapters = _chapters_with_ends(spec.chapters, spans[i][1]) if chapters else None
        if want_segments or want_chapters:
            grid = _columns_grid(origins[i], scales[i])
            img = annotate_bands(
                img,
                grid,
                slots=W,
                end_time=grid.picture_end(W),
                segments=want_segments,
                chapters=want_chapters,
            )
        parts.append(img)
        y += img.height
        parts.append(Image.new("RGB", (W, pad), BACKGROUND))  # a gap between films
        y += pad

    result_diff: PaletteDiff | None = None
    diff_box: tuple[int, int] | None = None
    diff_top = 0.0
    if diff:
        result_diff = _palette_diff(spectra[0], spectra[1], origins, scales)
        panel = Image.new("RGB", (W, fs + 2 * pad + curve_h + pad), BACKGROUND)
        y0, y1, diff_top = _draw_diff(
            panel, result_diff, fs + 2 * pad, curve_h, (font, small, sfs), pad, titles
        )
        diff_box = (y + y0, y + y1)
        parts.append(panel)
        y += panel.height

    axis = Image.new("RGB", (W, sfs + 3 * pad), BACKGROUND)
    _draw_axis(axis, normalize, origins[0], scales[0], small, pad)
    parts.append(axis)
    y += axis.height
    out = Image.new("RGB", (W, y), BACKGROUND)
    top = 0
    for p in parts:
        out.paste(p, (0, top))
        top += p.height
    return Comparison(
        out, titles, band_rows, origins, scales, normalize, result_diff, diff_box, diff_top
    )


def _draw_axis(
    axis: Image.Image, normalize: bool, origin: float, scale: float, font: Any, pad: int
) -> None:
    d = ImageDraw.Draw(axis)
    W = axis.width
    d.line([(0, 1), (W, 1)], fill=DIM)
    label_w = d.textlength("0:00:00", font=font) * 2.0
    if normalize:
        count = max(1, int(W // max(label_w, 1)))
        step = next(s for s in (10, 20, 25, 50, 100) if 100 / s <= count)
        ticks = [(p / 100 * W, f"{p} %") for p in range(0, 101, step)]
    else:
        t1 = origin + W / scale
        times = nice_ticks(max(origin, 0.0), t1, max(1, int(W // max(label_w, 1))))
        ticks = [((t - origin) * scale, format_hms(t)) for t in times]
    last_right = -1e9
    for x, label in ticks:
        xi = min(max(math.floor(x), 0), W - 1)
        d.line([(xi, 1), (xi, 1 + pad)], fill=INK)
        tw = d.textlength(label, font=font)
        lx = min(max(xi - tw / 2, 0), W - tw)
        if lx > last_right + pad:
            d.text((lx, 2 + pad), label, font=font, fill=DIM)
            last_right = lx + tw


def compare_files(
    paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], **kw: Any
) -> Comparison:
    """Load the spectra at ``paths`` (their ``.json``, or the image beside it), draw them
    with :func:`compare_spectra` (``kw``) and save the image to ``output`` (its format by
    extension), atomically. Refuses, before drawing, an output that is one of the
    inputs, an image drawn from them, or a film they came from."""
    from streamspec.core._io import IMAGE_FORMATS, check_image_output, check_outputs, save_image
    from streamspec.outputs.spectrum import json_path_for

    out, _ = check_image_output(output)
    inputs: list[tuple[str, Any]] = []
    for p in map(Path, paths):
        data = json_path_for(p) if p.suffix.lower() in IMAGE_FORMATS else p
        inputs.append(("an input spectrum", data))
        inputs += [
            ("an input spectrum's image", q)
            for q in map(data.with_suffix, IMAGE_FORMATS)
            if q.exists()
        ]
    check_outputs(inputs, [("output", out, "-o")])
    spectra = [Spectrum.load(p) for p in paths]
    check_outputs(
        [("the source of an input", s.source_file()) for s in spectra], [("output", out, "-o")]
    )
    cmp = compare_spectra(spectra, names=[os.fspath(p) for p in paths], **kw)
    from streamspec._version import __version__

    save_image(
        cmp.image,
        out,
        software=f"streamspec {__version__}",
        description="colour spectra compared: " + ", ".join(cmp.titles),
        compress_level=3,
    )
    return cmp
