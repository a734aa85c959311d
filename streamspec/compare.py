"""Films side by side: spectra stacked on one time axis, and the palette distance
between two versions of a film.

Every film is drawn with the same pixels per second (``normalize=False``: a strip
sampled at time t lands at the same x in every band) or stretched over the full width
(``normalize=True``: each film's first strip starts at the left edge and its last ends
at the right, so the axis reads 0-100 % of each film's running time). Columns are taken
from :meth:`Spectrum.columns` by nearest slot: a column shows the strip whose slot
covers the column's centre time.

The palette distance of two strips (:func:`palette_distance`) is a sliced Wasserstein
distance between their colour distributions in OKLab -- see that function for the
formula. It does not depend on the order of the colours in a strip, is symmetric, zero
for identical strips, and reads in OKLab units: if every colour of a strip moves by the
same OKLab offset v, the distance is about |v| (0.02 is a just-noticeable difference).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw, ImageFont

from .annotate import BACKGROUND, DIM, INK, annotate_bands, chapter_spans
from .corpus import film_title, oklab
from .errors import InputError
from .grid import SlotGrid
from .limits import ANNOTATION_ROWS, MAX_HEIGHT, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from .limits import MAX_COMPARE_FILMS as MAX_FILMS
from .segments import colour_segments
from .spectrum import Spectrum, Strip
from .timefmt import clock, format_hms, nice_ticks

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
CURVE = (255, 190, 60)


def _fibonacci_hemisphere(n: int) -> NDArray[np.float64]:
    """``n`` unit vectors spread evenly over the upper hemisphere (a Fibonacci lattice):
    a direction and its opposite project alike, so half the sphere is enough."""
    i = np.arange(n) + 0.5
    z = 1.0 - i / n  # uniform in (0, 1): equal areas of the hemisphere
    r = np.sqrt(1.0 - z * z)
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


#: The 64 fixed projection directions in OKLab of :func:`palette_distance`.
DIRECTIONS = _fibonacci_hemisphere(64)
# For directions spread evenly over the sphere, the mean of |theta . v| is |v| / 2: the
# factor 2 makes a uniform shift by v read as |v|.
_SCALE = 2.0


def _sliced_w1(
    lab_a: NDArray[np.float64],
    w_a: NDArray[np.float64],
    lab_b: NDArray[np.float64],
    w_b: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Batched sliced W1: ``(P, Ka, 3)``, ``(P, Ka)``, ``(P, Kb, 3)``, ``(P, Kb)`` ->
    ``(P,)``. Weights sum to 1 per row (zero-weight padding is allowed)."""
    # Projections as (P, D, K), contiguous along K: sorting a strided axis is 5x slower.
    pts = np.ascontiguousarray(
        np.einsum("pkc,dc->pdk", np.concatenate([lab_a, lab_b], axis=1), DIRECTIONS)
    )
    signed = np.concatenate([w_a, -w_b], axis=1)  # (P, K)
    order = np.argsort(pts, axis=2)  # ties: zero gaps, so their order does not matter
    s = np.take_along_axis(pts, order, axis=2)
    cdf_gap = np.cumsum(np.take_along_axis(signed[:, None, :], order, axis=2), axis=2)
    # W1 in 1-D: the area between the two CDFs, piece by piece between sorted values.
    w1 = (np.abs(cdf_gap[..., :-1]) * np.diff(s, axis=2)).sum(axis=2)
    return _SCALE * w1.mean(axis=1)


def _weights(counts: ArrayLike) -> NDArray[np.float64]:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c / total if total > 0 else np.full(len(c), 1.0 / max(len(c), 1))


def palette_distance(
    palette_a: ArrayLike, counts_a: ArrayLike, palette_b: ArrayLike, counts_b: ArrayLike
) -> float:
    """Perceptual distance between two strips' palettes (uint8 ``(k, 3)`` colours and
    their pixel counts): a sliced Wasserstein (earth mover's) distance in OKLab.

    Each strip is a distribution: colour c_i (in OKLab) with weight w_i = its share of
    the strip. For each of the 64 fixed unit directions theta (:data:`DIRECTIONS`),
    both distributions are projected onto theta and the 1-D earth mover's distance is
    taken -- the area between the two cumulative distributions,
    ``W1_theta = integral |F_A(s) - F_B(s)| ds``. The distance is
    ``2 * mean_theta W1_theta`` (the 2 makes a uniform shift of every colour by v read
    as about |v|).

    Properties: 0 for identical strips; independent of the order of colours in a strip
    (and of how a colour is split into several entries); symmetric; it grows with a hue
    shift or a change in the colours' proportions (unlike a nearest-colour "chamfer"
    distance, which is blind to proportions).
    """
    pa, pb = np.asarray(palette_a, np.uint8), np.asarray(palette_b, np.uint8)
    wa, wb = _weights(counts_a), _weights(counts_b)
    if pa.shape == pb.shape and np.array_equal(pa, pb) and np.array_equal(wa, wb):
        return 0.0  # exactly, not up to rounding
    return float(_sliced_w1(oklab(pa)[None], wa[None], oklab(pb)[None], wb[None])[0])


def strip_distances(
    pairs: Sequence[tuple[Strip, Strip]], *, chunk: int = 256
) -> NDArray[np.float64]:
    """:func:`palette_distance` of many pairs of strips, computed in batches."""
    out = np.zeros(len(pairs))
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        ka = max(len(a.counts) for a, _ in part)
        kb = max(len(b.counts) for _, b in part)
        lab_a, w_a = np.zeros((len(part), ka, 3)), np.zeros((len(part), ka))
        lab_b, w_b = np.zeros((len(part), kb, 3)), np.zeros((len(part), kb))
        same = np.zeros(len(part), bool)
        for j, (a, b) in enumerate(part):
            lab_a[j, : len(a.counts)] = oklab(a.palette)
            w_a[j, : len(a.counts)] = _weights(a.counts)
            lab_b[j, : len(b.counts)] = oklab(b.palette)
            w_b[j, : len(b.counts)] = _weights(b.counts)
            same[j] = (
                a.palette.shape == b.palette.shape
                and np.array_equal(a.palette, b.palette)
                and np.array_equal(a.counts, b.counts)
            )
        d = _sliced_w1(lab_a, w_a, lab_b, w_b)
        out[lo : lo + len(part)] = np.where(same, 0.0, d)
    return out


@dataclass
class PaletteDiff:
    """The palette distance between two films over time, at each strip of the first.

    ``times`` are the first film's strip times (nominal, s), ``x`` their positions in
    the image, ``other_slots`` the second film's matching slots (-1: none) and
    ``distances`` the :func:`palette_distance` (NaN where the second film has no strip).
    """

    times: NDArray[np.float64]
    x: NDArray[np.float64]
    other_slots: NDArray[np.int64]
    distances: NDArray[np.float64]

    @property
    def mean(self) -> float:
        """Mean distance over the strips both films have (NaN if none)."""
        d = self.distances[~np.isnan(self.distances)]
        return float(d.mean()) if len(d) else float("nan")

    @property
    def max(self) -> float:
        """Largest distance (NaN if no strip pairs)."""
        d = self.distances[~np.isnan(self.distances)]
        return float(d.max()) if len(d) else float("nan")

    def peaks(self, n: int = 3) -> list[tuple[float, float]]:
        """Up to ``n`` ``(time, distance)`` of the largest differences, largest first,
        at least a twentieth of the film (and two strips) apart; zero distances are
        not differences."""
        ok = np.flatnonzero(~np.isnan(self.distances) & (self.distances > 0))
        if len(ok) == 0:
            return []
        t = self.times
        step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        sep = max((t[-1] - t[0]) / 20.0, 2.0 * step)
        chosen: list[int] = []
        for i in ok[np.argsort(-self.distances[ok], kind="stable")]:
            if all(abs(t[i] - t[j]) >= sep for j in chosen):
                chosen.append(int(i))
            if len(chosen) == n:
                break
        return [(float(t[i]), float(self.distances[i])) for i in chosen]


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


def _slot_at(spec: Spectrum, t: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """The slot whose span (:meth:`~streamspec.grid.SlotGrid.span`) holds each time."""
    grid = spec.grid
    return np.floor((t - grid.start) / grid.step + 1e-9).astype(np.int64)


def _font(size: int) -> Any:
    return ImageFont.load_default(size=max(8, int(size)))


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> str:
    from .annotate import fit_text

    return fit_text(text, width, lambda t: draw.textlength(t, font=font))


def _clock(t: float) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` past an hour): strip times need tenths on short clips."""
    return clock(t, 1)


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
    font, small = _font(fs), _font(sfs)
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


def _palette_diff(
    a: Spectrum, b: Spectrum, origins: Sequence[float], scales: Sequence[float]
) -> PaletteDiff:
    """Distances at each strip of ``a`` to ``b``'s strip at the same x (the same time,
    or the same fraction of the running time when normalized)."""
    strips = a.strips
    times = np.array([a.slot_time(s.index) for s in strips])
    x = (times - origins[0]) * scales[0]
    slots = _slot_at(b, origins[1] + x / scales[1])
    pairs, where = [], []
    for j, (s, k) in enumerate(zip(strips, slots, strict=True)):
        other = b.get(int(k))
        if other is not None:
            pairs.append((s, other))
            where.append(j)
        else:
            slots[j] = -1
    dist = np.full(len(strips), np.nan)
    if pairs:
        dist[where] = strip_distances(pairs)
    return PaletteDiff(times, x, slots, dist)


def _draw_diff(
    panel: Image.Image,
    diff: PaletteDiff,
    top: int,
    curve_h: int,
    fonts: tuple[Any, Any, int],
    pad: int,
    titles: Sequence[str],
) -> tuple[int, int, float]:
    """The distance curve; returns the rows of its top value and of 0, and that value."""
    font, small, sfs = fonts
    d = ImageDraw.Draw(panel)
    W = panel.width
    dmax = diff.max
    ymax = max(dmax * 1.15 if math.isfinite(dmax) else 0.0, 0.05)  # no magnified noise
    label = f"palette distance (OKLab): {titles[0]} vs {titles[1]}"
    d.text((pad, pad), _fit(d, label, font, W * 0.75), font=font, fill=INK)
    stats = (
        f"mean {diff.mean:.3f}, max {dmax:.3f}" if math.isfinite(dmax) else "no strips to compare"
    )
    sw = d.textlength(stats, font=small)
    d.text((W - sw - pad, pad), stats, font=small, fill=DIM)
    # Rows of the value ymax and of 0, with room above ymax for the peaks' labels.
    y0, y1 = top + sfs + 4, top + curve_h - 1
    d.line([(0, y1), (W, y1)], fill=DIM)
    d.line([(0, y0), (W, y0)], fill=(48, 48, 54))
    d.text((pad, y0 + 2), f"{ymax:.2f}", font=small, fill=DIM)

    def yv(v: float) -> float:
        return y1 - (y1 - y0) * v / ymax

    run: list[tuple[float, float]] = []
    for xv, v in zip(diff.x, diff.distances, strict=True):
        if math.isnan(v):
            if len(run) > 1:
                d.line(run, fill=CURVE, width=2)
            run = []
            continue
        run.append((float(xv), yv(float(v))))
        d.point(run[-1], fill=CURVE)
    if len(run) > 1:
        d.line(run, fill=CURVE, width=2)
    elif len(run) == 1:
        d.point(run[0], fill=CURVE)
    for t, v in diff.peaks(3):  # mark the largest differences
        xi = float(diff.x[np.argmin(np.abs(diff.times - t))])
        lab = _clock(t)
        tw = d.textlength(lab, font=small)
        ly = max(top, yv(v) - sfs - 4)
        d.text((min(max(xi - tw / 2, 0), W - tw), ly), lab, font=small, fill=INK)
    return y0, y1, ymax


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
    from ._io import IMAGE_FORMATS, check_image_output, check_outputs, save_image
    from .spectrum import json_path_for

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
    from ._version import __version__

    save_image(
        cmp.image,
        out,
        software=f"streamspec {__version__}",
        description="colour spectra compared: " + ", ".join(cmp.titles),
        compress_level=3,
    )
    return cmp
