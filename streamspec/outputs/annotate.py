"""Reading aids drawn under a spectrum: a time axis, chapter brackets, colour segments.

Pillow only (no fonts from the machine: Pillow's bundled font, scaled to the image).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from streamspec.core._io import read_limited
from streamspec.core._schema import SchemaError, check_chapters
from streamspec.core.container import SpectrumData as Spectrum
from streamspec.core.errors import InputError
from streamspec.core.grid import SlotGrid
from streamspec.core.limits import MAX_CHAPTERS, MAX_TEXT_BYTES, MAX_TITLE_CHARS
from streamspec.core.timefmt import format_hms, nice_ticks, parse_time
from streamspec.media.base import Chapter

__all__ = [
    "annotate_bands",
    "annotate_image",
    "axis_ticks",
    "chapter_spans",
    "fit_text",
    "grid_ticks",
    "parse_chapters",
    "read_chapters",
    "text_font",
]

BACKGROUND = (16, 16, 18)
INK = (230, 230, 235)
DIM = (150, 150, 160)


# -- chapters -----------------------------------------------------------------------------
_LINE = re.compile(r"^\s*(\d+(?::\d{1,2}){1,2}(?:\.\d+)?)\s+(.+?)\s*$")


def parse_chapters(text: str, source: str = "chapters") -> list[dict[str, Any]]:
    """Chapters from ``HH:MM:SS Title`` / ``MM:SS Title`` lines or CSV ``start,title``.

    Blank lines and ``#`` comments are ignored; a CSV header row is allowed. Returns
    ``[{"start": s, "title": t}]`` sorted by start. Raises :class:`InputError` naming
    the first bad line.
    """
    rows: list[dict[str, Any]] = []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{source}: no chapters in it")
    if len(lines) > MAX_CHAPTERS + 1:  # (+1: a CSV header)
        raise InputError(f"{source}: {len(lines):,} lines; at most {MAX_CHAPTERS:,} chapters")
    if not all(_LINE.match(ln) for ln in lines) and all("," in ln for ln in lines):
        reader = csv.reader(io.StringIO("\n".join(lines)))
        for n, row in enumerate(reader, 1):
            if len(row) < 2:
                raise InputError(f"{source}: line {n}: expected 'start,title', got {row!r}")
            start, title = row[0].strip(), ",".join(row[1:]).strip()
            try:
                t = parse_time(start)
            except ValueError:
                if n == 1:  # a header row
                    continue
                raise InputError(f"{source}: line {n}: bad time {start!r}") from None
            rows.append({"start": t, "title": title.strip('"')})
    else:
        for n, line in enumerate(lines, 1):
            m = _LINE.match(line)
            if not m:
                raise InputError(
                    f"{source}: line {n}: expected 'HH:MM:SS Title' or "
                    f"'MM:SS Title', got {line.strip()!r}"
                )
            try:
                t = parse_time(m.group(1))
            except ValueError as exc:
                raise InputError(f"{source}: line {n}: {exc}") from None
            rows.append({"start": t, "title": m.group(2)})
    if not rows:
        raise InputError(f"{source}: no chapters in it")
    # The rules a spectrum's data is read back with: what is accepted here is written
    # and read again (no NaN, no infinite or negative times, not too many).
    for n, chapter in enumerate(rows, 1):
        try:
            check_chapters([chapter], "chapter")
        except SchemaError as exc:
            raise InputError(
                f"{source}: chapter {n}: {str(exc).removeprefix('chapter[0].')}"
            ) from None
    try:
        check_chapters(rows)
    except SchemaError as exc:
        raise InputError(f"{source}: {exc}") from None
    return sorted(rows, key=lambda r: r["start"])


def chapter_spans(chapters: Sequence[Mapping[str, Any]], end: float) -> list[Chapter]:
    """Chapters (JSON form, in the order given) as typed records with an explicit end:
    their own, else the next chapter's start, else ``end`` (the film's end, not the
    picture's right edge, which may lie past a shorter film). The one home of that rule
    for the picture's band, a comparison's and the live view's."""
    out = []
    for i, ch in enumerate(chapters):
        c = Chapter.from_dict(ch)
        stop = c.end
        if stop is None:
            stop = float(chapters[i + 1]["start"]) if i + 1 < len(chapters) else float(end)
        out.append(Chapter(c.start, c.title, stop))
    return out


def read_chapters(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """:func:`parse_chapters` of a file, with one-line errors for unreadable files."""
    raw = read_limited(path, MAX_TEXT_BYTES, "a chapters file", label="chapters file ")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"chapters file {str(path)!r} is not text") from None
    return parse_chapters(text, f"chapters file {os.path.basename(os.fspath(path))!r}")


# -- drawing ----------------------------------------------------------------------------
def text_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The font of every picture's text (Pillow's own, scalable), at ``size`` px (8 at least)."""
    return ImageFont.load_default(size=max(8, int(size)))


def _text_w(draw: ImageDraw.ImageDraw, text: str, font: Any) -> float:
    return draw.textlength(text, font=font)


def fit_text(text: str, width: float, measure: Any) -> str:
    """``text`` shortened with an ellipsis so that ``measure(text)`` (its width in
    pixels) is at most ``width`` ("" if nothing fits).

    A binary search over the length, on at most ``MAX_TITLE_CHARS`` characters: a few
    dozen measurements whatever the text's length (widths grow with the length).
    """
    if len(text) > MAX_TITLE_CHARS:
        text = text[:MAX_TITLE_CHARS] + "…"
    elif measure(text) <= width:
        return text

    def cut(n: int) -> str:
        return text[:n].rstrip() + "…"

    lo, hi = 0, len(text) - 1  # cut(lo) fits (or lo is 0); cut(hi + 1) does not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(cut(mid)) <= width:
            lo = mid
        else:
            hi = mid - 1
    return cut(lo) if lo > 0 and measure(cut(lo)) <= width else ""


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels ("" if nothing fits)."""
    return fit_text(text, width, lambda t: _text_w(draw, t, font))


def annotate_image(
    image: Image.Image,
    spectrum: Spectrum,
    *,
    axis: bool = False,
    chapters: Sequence[dict[str, Any]] | bool | None = None,
    segments: Sequence[dict[str, Any]] | bool | None = None,
    strip_width: int = 1,
) -> Image.Image:
    """Add bands under ``image`` (the bare spectrum): segments, chapters, time axis.

    ``chapters``/``segments`` may be lists of dicts (``start``, ``end``, ``title`` /
    ``colours``) or ``True`` to use the spectrum's own.
    """
    if chapters is True:
        chapters = spectrum.chapters
    if segments is True:
        segments = spectrum.segments
    slots = spectrum.width_slots
    return annotate_bands(
        image,
        spectrum.grid,
        slots=slots,
        end_time=_end_time(spectrum, slots),
        axis=axis,
        chapters=chapters or None,
        segments=segments or None,
        strip_width=strip_width,
    )


def annotate_bands(
    image: Image.Image,
    grid: SlotGrid,
    *,
    slots: int,
    end_time: float,
    axis: bool = False,
    chapters: Sequence[dict[str, Any]] | None = None,
    segments: Sequence[dict[str, Any]] | None = None,
    strip_width: int = 1,
) -> Image.Image:
    """:func:`annotate_image` for any picture of a slot grid (``slots`` slots ending at
    ``end_time``, ``strip_width`` px a slot): a function of the grid, not of a spectrum,
    so a comparison's bands in its own time scale are drawn the same way."""
    chapters = list(chapters or [])
    segments = list(segments or [])
    w, h = image.size
    fs = max(10, min(28, round(h * 0.032)))
    font = text_font(fs)
    small = text_font(max(8, round(fs * 0.85)))
    pad = max(3, fs // 3)
    seg_h = (fs + 2 * pad) if segments else 0
    chap_h = (2 * fs + 2 * pad) if chapters else 0
    axis_h = (fs + 3 * pad) if axis else 0
    out = Image.new(
        image.mode,
        (w, h + seg_h + chap_h + axis_h),
        BACKGROUND + ((255,) if image.mode == "RGBA" else ()),
    )
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)

    def x_of(t: float) -> float:
        return grid.x_of_time(t, strip_width)

    y = h
    if segments:
        for seg in segments:
            x0 = max(0, round(x_of(seg["start"])))
            x1 = min(w, round(x_of(seg["end"]))) if seg.get("end") is not None else w
            x1 = max(x1, x0 + 1)
            # One segment, one block: its dominant colours stacked top to bottom (as a
            # strip stacks its palette), so it never reads as several segments.
            _stacked(draw, x0, x1, y + pad, y + seg_h - pad, seg.get("colours") or [])
            if x0 > 0:  # a boundary mark (the spectrum itself stays untouched)
                draw.line([(x0, y), (x0, y + seg_h)], fill=INK, width=max(1, fs // 10))
        y += seg_h
    if chapters:
        for ch in chapter_spans(chapters, end_time):
            left = max(0.0, x_of(ch.start))
            right = min(float(w), x_of(ch.end if ch.end is not None else end_time))
            if right <= left or left >= w:
                continue
            m = max(1.0, min(pad, (right - left) / 6))
            top = y + pad
            draw.line(
                [(left + m, top), (left + m, top + pad), (right - m, top + pad), (right - m, top)],
                fill=INK,
                width=max(1, fs // 12),
            )
            title = _fit(draw, ch.title, font, right - left - 2 * m)
            if title:
                tw = _text_w(draw, title, font)
                draw.text(((left + right - tw) / 2, top + 2 * pad), title, font=font, fill=INK)
        y += chap_h
    if axis:
        label_w = _text_w(draw, "0:00:00", small) * 2.0
        draw.line([(0, y + 1), (w, y + 1)], fill=DIM)
        placed: list[tuple[int, str, float, float]] = []  # (x, label, left, width)
        most = max(1, int(w // max(label_w, 1)))
        for x, t in grid_ticks(grid, end_time, w, strip_width, most):
            label = format_hms(t)
            tw = _text_w(draw, label, small)
            lx = min(max(x - tw / 2, 0), w - tw)
            placed.append((x, label, lx, tw))
        shown: list[tuple[int, str, float, float]] = []

        def overlaps(tick: tuple[int, str, float, float]) -> bool:
            return bool(shown) and tick[2] <= shown[-1][2] + shown[-1][3] + pad

        for i, tick in enumerate(placed):
            # Labels never overlap; the end's label wins over those before it.
            if overlaps(tick) and i < len(placed) - 1:
                continue
            while overlaps(tick):
                shown.pop()
            shown.append(tick)
        for x, _, _, _ in placed:
            draw.line([(x, y + 1), (x, y + 1 + pad)], fill=INK)
        for _, label, lx, _ in shown:
            draw.text((lx, y + 2 + pad), label, font=small, fill=DIM)
    return out


def axis_ticks(
    spectrum: Spectrum, width: int, strip_width: int = 1, max_ticks: int = 8
) -> list[tuple[int, float]]:
    """``(pixel column, time)`` of the time axis's ticks under a spectrum ``width`` px
    wide: at a nice step (:func:`~streamspec.core.timefmt.nice_ticks`), each in the column
    of the strip standing for its time, and the film's end in the last column."""
    slots = spectrum.width_slots
    return grid_ticks(spectrum.grid, _end_time(spectrum, slots), width, strip_width, max_ticks)


def grid_ticks(
    grid: SlotGrid, end: float, width: int, strip_width: int = 1, max_ticks: int = 8
) -> list[tuple[int, float]]:
    """:func:`axis_ticks` of any picture of a slot grid ending at time ``end``."""
    ticks = nice_ticks(max(grid.start, 0.0), end, max_ticks)
    if not ticks or end - ticks[-1] > 1e-6:
        ticks.append(end)  # the axis reaches the film's end
    out = []
    for t in ticks:
        x = min(math.floor(grid.x_of_time(t, strip_width) + 1e-6), width - 1)
        if x >= 0:
            out.append((x, t))
    return out


def _end_time(spectrum: Spectrum, slots: int) -> float:
    """Where the picture ends in time: the last slot's end, or the film's end if that
    is sooner (the last slot of a 10.5-s film sampled every 2 s stands for 10-10.5 s)."""
    return spectrum.grid.picture_end(slots, spectrum.settings.get("end"))


def _stacked(
    draw: ImageDraw.ImageDraw,
    x0: float,
    x1: float,
    top: int,
    bottom: int,
    colours: Sequence[dict[str, Any]],
) -> None:
    """Colours stacked top to bottom in one block, each as tall as its share."""
    total = sum(c["share"] for c in colours) or 1.0
    rows = bottom - top
    done = 0.0
    y0 = top
    for c in colours:
        done += c["share"] / total
        y1 = top + round(done * rows)
        if y1 > y0:
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=tuple(int(v) for v in c["rgb"]))
        y0 = y1
