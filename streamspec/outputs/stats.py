"""The tables researchers publish: Cinemetrics statistics of shot lengths, and per-item
(shot, colour segment, chapter) tables of times and colours.

Shot lengths (Cinemetrics, Yuri Tsivian's definitions): the number of shots, ASL (the
average shot length: the mean), MSL (the median shot length), MSL/ASL (below 1 when a few
long takes pull the mean up), min, max, range (max - min), SD (the sample standard
deviation, n - 1 in the denominator, as Python's ``statistics.stdev``; undefined for one
shot) and CV (SD / ASL). The distribution is a histogram of lengths in bins of
``bin_width`` seconds from 0 (edges ``0, w, 2w, ...`` up to the first edge at or past the
longest shot; every bin half-open ``[a, b)`` except the last, ``[a, b]``, as NumPy's).

Colour per item, in OKLCh -- OKLab (Björn Ottosson, 2020) in polar form -- rather than
CIE L*C*h: OKLab was fitted so that hue stays constant along lines of equal perceived
hue (CIELAB bends blues towards purple as chroma changes), so a mean hue means what it
says, and its lightness and chroma are as evenly spaced as CIELAB's. Each colour of each
strip in the item weighs its share of its strip over the number of strips (every sample
counts the same, as every moment of the film does):

- ``mean_lightness``: the weighted mean of OKLab L (0 black to 1 white);
- ``mean_chroma``: the weighted mean of OKLCh C (0 grey, about 0.32 at most in sRGB):
  how colourful the item is on average, which the chroma of the mean colour is not
  (red and green average to a dull yellow);
- ``mean_hue_deg``: the circular mean of OKLCh h weighted by share x chroma, i.e. the hue
  of the weighted mean of OKLab a and b, so near-greys hardly count; null when the item
  has no colour at all;
- ``hue_concentration``: the length of that mean (a, b) over the mean chroma, 0 (hues
  all round the circle) to 1 (one hue);
- ``mean_colour``: the mean colour, taken in linear light (the project's rule for a
  mean of colours; :func:`streamspec.analysis.colour.linear_mean`);
- ``colour_N`` / ``share_N``: the item's palette, pooled and merged as colour segments'
  colours are (:func:`streamspec.outputs.export.items.item_palette`), shares of the item.

Same spectrum, same items: the same table, bit for bit.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec._version import __version__
from streamspec.analysis.colour import linear_mean, oklab
from streamspec.core._io import atomic_write, check_outputs, check_writable
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_BINS
from streamspec.outputs.corpus_schema import arrow_schema
from streamspec.outputs.export.items import (
    MAX_ITEMS,
    TimelineItem,
    by_time,
    hex_colour,
    item_palette,
    strips_in,
)

if TYPE_CHECKING:
    from streamspec.outputs.spectrum import Spectrum, Strip

__all__ = [
    "MAX_BINS",
    "ColourStats",
    "ShotLengthStats",
    "cinemetrics",
    "colour_stats",
    "film_summary",
    "item_table",
    "length_histogram",
    "shot_lengths",
    "table_columns",
    "write_table",
]

TABLE_FORMAT = "streamspec-stats"
# Below this OKLab chroma a mean has no hue: exact greys come out of the conversion with
# chroma around 1e-8 (rounding), and the eye needs about 0.02 to see any colour at all.
_NO_HUE = 1e-6
#: Palette colours listed per row of an item table.
TABLE_COLOURS = 5


@dataclass(frozen=True)
class ShotLengthStats:
    """Cinemetrics statistics of shot lengths, in seconds (see the module docstring)."""

    shots: int
    total: float
    asl: float
    msl: float
    msl_asl: float
    min: float
    max: float
    range: float
    sd: float | None
    cv: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def shot_lengths(shots: Iterable[Mapping[str, Any] | TimelineItem]) -> NDArray[np.float64]:
    """The lengths (``end - start``, seconds) of shots given as records or items."""
    out: list[float] = []
    for i, s in enumerate(shots):
        if len(out) >= MAX_ITEMS:
            raise InputError(f"more than {MAX_ITEMS:,} shots")
        if isinstance(s, TimelineItem):
            out.append(s.duration)
            continue
        try:
            a, b = float(s["start"]), float(s["end"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"shot {i + 1} has no start and end in seconds") from None
        if not (math.isfinite(a) and math.isfinite(b)) or b <= a:
            raise InputError(f"shot {i + 1} has no length ({a} to {b} s)")
        out.append(b - a)
    return np.asarray(out, dtype=np.float64)


def _lengths(lengths: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(lengths, dtype=np.float64).reshape(-1)
    if len(x) == 0:
        raise InputError("there are no shots to measure")
    if len(x) > MAX_ITEMS:
        raise InputError(f"{len(x):,} shots; the limit is {MAX_ITEMS:,}")
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise InputError("every shot length must be a positive number of seconds")
    return x


def cinemetrics(lengths: ArrayLike) -> ShotLengthStats:
    """Cinemetrics statistics of shot lengths in seconds (one shot or more)."""
    x = _lengths(lengths)
    n = len(x)
    # math.fsum: the mean of many lengths without rounding drift, whatever their order.
    total = math.fsum(x.tolist())
    asl = total / n
    msl = float(np.median(x))
    sd = None
    if n > 1:
        dev = x - asl
        sd = math.sqrt(math.fsum((dev * dev).tolist()) / (n - 1))
    lo, hi = float(x.min()), float(x.max())
    return ShotLengthStats(
        shots=n,
        total=total,
        asl=asl,
        msl=msl,
        msl_asl=msl / asl,
        min=lo,
        max=hi,
        range=hi - lo,
        sd=sd,
        cv=None if sd is None else sd / asl,
    )


def length_histogram(
    lengths: ArrayLike, bin_width: float = 1.0
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Shot-length distribution: ``(counts, edges)``, edges ``0, w, 2w, ...`` up to the
    first at or past the longest shot (at least one bin); NumPy's bins (half-open but
    the last)."""
    x = _lengths(lengths)
    w = float(bin_width)
    if not (math.isfinite(w) and w > 0):
        raise InputError(f"the bin width must be a positive number of seconds, got {bin_width!r}")
    bins = max(1, math.ceil(float(x.max()) / w - 1e-12))
    if bins > MAX_BINS:
        raise InputError(f"{bins:,} bins of {w:g} s; the limit is {MAX_BINS:,}: choose a wider bin")
    edges = np.arange(bins + 1, dtype=np.float64) * w
    counts, _ = np.histogram(x, bins=edges)
    return counts.astype(np.int64), edges


# -- colour --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColourStats:
    """Colour statistics of a set of strips (see the module docstring)."""

    mean_lightness: float
    mean_chroma: float
    mean_hue_deg: float | None
    hue_concentration: float | None
    mean_colour: tuple[int, int, int]


def _weights(strips: Sequence[Strip]) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    pal = np.concatenate([s.palette for s in strips]).astype(np.uint8)
    w = np.concatenate(
        [s.counts.astype(np.float64) / max(float(s.counts.sum()), 1.0) for s in strips]
    ) / len(strips)
    return pal, w


def colour_stats(strips: Sequence[Strip]) -> ColourStats:
    """OKLCh statistics and the linear-light mean colour of ``strips`` (each strip
    weighing the same, each colour its share of its strip)."""
    if not strips:
        raise InputError("no strips to measure the colours of")
    pal, w = _weights(strips)
    total = math.fsum(w.tolist())
    w = w / total
    lab = oklab(pal)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    mean_l = float(np.dot(w, lab[:, 0]))
    mean_c = float(np.dot(w, chroma))
    a, b = float(np.dot(w, lab[:, 1])), float(np.dot(w, lab[:, 2]))
    resultant = math.hypot(a, b)
    hue = conc = None
    if resultant > _NO_HUE:
        hue = math.degrees(math.atan2(b, a)) % 360.0
        conc = min(resultant / mean_c, 1.0) if mean_c > 0 else None
    mean = linear_mean(pal, w)
    return ColourStats(mean_l, mean_c, hue, conc, (int(mean[0]), int(mean[1]), int(mean[2])))


def film_summary(
    spectrum: Spectrum, shots: Sequence[Mapping[str, Any] | TimelineItem] | None = None
) -> list[tuple[str, Any, str]]:
    """The film's table, as ``(statistic, value, unit)`` rows: its running time and
    strips, its colour statistics, and -- with shots -- the Cinemetrics statistics. A
    value that does not exist (the SD of one shot) is None."""
    from streamspec.outputs.export.items import film_duration

    if not spectrum.strips:
        raise InputError("the spectrum has no strips; it has no colours to measure")
    cs = colour_stats(spectrum.strips)
    rows: list[tuple[str, Any, str]] = [
        ("duration", film_duration(spectrum), "s"),
        ("strips", len(spectrum), "count"),
        ("mean colour", hex_colour(cs.mean_colour), "#rrggbb (linear-light mean)"),
        ("mean lightness", cs.mean_lightness, "OKLab L 0-1"),
        ("mean chroma", cs.mean_chroma, "OKLCh C"),
        ("mean hue", cs.mean_hue_deg, "degrees"),
        ("hue concentration", cs.hue_concentration, "0-1"),
    ]
    if shots:
        s = cinemetrics(shot_lengths(shots))
        rows += [
            ("shots", s.shots, "count"),
            ("ASL", s.asl, "s"),
            ("MSL", s.msl, "s"),
            ("MSL/ASL", s.msl_asl, "ratio"),
            ("min", s.min, "s"),
            ("max", s.max, "s"),
            ("range", s.range, "s"),
            ("SD", s.sd, "s"),
            ("CV", s.cv, "ratio"),
        ]
    return rows


# -- item tables ------------------------------------------------------------------------
def table_columns(colours: int = TABLE_COLOURS) -> dict[str, tuple[str, str, str]]:
    """An item table's columns: name -> (Arrow type, unit, meaning)."""
    cols: dict[str, tuple[str, str, str]] = {
        "kind": ("string", "", "shot, segment or chapter"),
        "index": ("int32", "1-based", "the item's number among items of its kind"),
        "name": ("string", "", "Shot N, Segment N, the chapter's title"),
        "start_s": ("float64", "s", "start, from the film's start"),
        "end_s": ("float64", "s", "end (exclusive)"),
        "duration_s": ("float64", "s", "end - start"),
        "transition": ("string", "", "shots: cut, dissolve or fade (the edit opening it)"),
        "strips": ("int32", "count", "samples (strips) the colour statistics are over"),
        "mean_colour": ("string", "#rrggbb", "mean colour in linear light, as sRGB"),
        "mean_lightness": ("float64", "OKLab L 0-1", "mean lightness (0 black, 1 white)"),
        "mean_chroma": ("float64", "OKLCh C", "mean chroma (0 grey; sRGB reaches about 0.32)"),
        "mean_hue_deg": (
            "float64",
            "degrees 0-360",
            "OKLCh hue, circular mean weighted by share x chroma; null without colour",
        ),
        "hue_concentration": (
            "float64",
            "fraction 0-1",
            "length of the mean (a, b) over the mean chroma: 1 = one hue",
        ),
    }
    for i in range(1, colours + 1):
        cols[f"colour_{i}"] = ("string", "#rrggbb", f"the palette's colour {i}, largest first")
        cols[f"share_{i}"] = ("float64", "fraction 0-1", f"colour {i}'s share of the item")
    return cols


def item_table(
    spectrum: Spectrum, items: Sequence[TimelineItem], *, colours: int = TABLE_COLOURS
) -> list[dict[str, Any]]:
    """One row per item (in the order given) with :func:`table_columns`: times, the
    colour statistics of the strips in it (:func:`~streamspec.outputs.export.items.strips_in`)
    and its palette's ``colours`` largest colours with their shares of the item."""
    if not 1 <= colours <= 64:
        raise InputError(f"a table lists 1 to 64 colours per item, not {colours}")
    if not spectrum.strips:
        raise InputError("the spectrum has no strips; it has no colours to measure")
    rows = []
    counters: dict[str, int] = {}
    ordered = by_time(spectrum)
    for it in items:
        counters[it.kind] = counters.get(it.kind, 0) + 1
        strips = strips_in(ordered, it.start, it.end)
        cs = colour_stats(strips)
        pal = item_palette(strips, name=it.name, top=colours)
        row: dict[str, Any] = {
            "kind": it.kind,
            "index": counters[it.kind],
            "name": it.name,
            "start_s": it.start,
            "end_s": it.end,
            "duration_s": it.duration,
            "transition": it.transition,
            "strips": len(strips),
            "mean_colour": hex_colour(cs.mean_colour),
            "mean_lightness": cs.mean_lightness,
            "mean_chroma": cs.mean_chroma,
            "mean_hue_deg": cs.mean_hue_deg,
            "hue_concentration": cs.hue_concentration,
        }
        for i in range(colours):
            has = i < len(pal.colours)
            row[f"colour_{i + 1}"] = hex_colour(pal.colours[i]) if has else None
            row[f"share_{i + 1}"] = pal.shares[i] * pal.coverage if has else None
        rows.append(row)
    return rows


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(
            [
                "" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c])
                for c in columns
            ]
        )
    return buf.getvalue().encode("utf-8")


def _arrow(rows: Sequence[Mapping[str, Any]], columns: dict[str, tuple[str, str, str]]) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise InputError(
            "writing Parquet needs pyarrow: pip install 'streamspec[corpus]'"
        ) from None
    schema = arrow_schema(
        columns,
        {
            b"streamspec": __version__.encode(),
            b"format": TABLE_FORMAT.encode(),
            b"format_version": b"1",
        },
    )
    return pa.Table.from_pylist([dict(r) for r in rows], schema=schema)


def write_table(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    columns: dict[str, tuple[str, str, str]] | None = None,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write an item table as ``.csv`` (units in the column names and the docs) or
    ``.parquet`` (units and meanings in each field's metadata), atomically, never over
    one of ``inputs``."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(
            f"cannot write a table to {os.fspath(path)!r}: known extensions: .csv, .parquet"
        )
    out = check_writable(path)
    check_outputs([("an input", p) for p in inputs], [("output", out, "-o")])
    cols = columns or table_columns(
        sum(1 for c in (rows[0] if rows else {}) if c.startswith("colour_")) or TABLE_COLOURS
    )
    if suffix == ".csv":
        data = _csv(rows, list(cols))
        return atomic_write(out, lambda fh: fh.write(data))
    table = _arrow(rows, cols)
    import pyarrow.parquet as pq

    return atomic_write(out, lambda fh: pq.write_table(table, fh))
