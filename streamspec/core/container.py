"""The spectrum as data: one :class:`Strip` per sample slot, and the settings and
source they came from.

The base of the package: it imports only the core modules (grid, limits, errors,
options), so analysis, drawing and the JSON form build on it without importing back.
Drawing is :mod:`streamspec.outputs.raster`, the JSON form :mod:`streamspec.outputs.spectrum_json`,
and :class:`streamspec.outputs.spectrum.Spectrum` joins them as methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core.grid import SlotGrid
from streamspec.core.options import LookOptions

__all__ = ["SpectrumData", "Strip"]


@dataclass(slots=True)
class Strip:
    """One sample's colours: its palette and pixel counts, plus its centre column."""

    index: int  # slot
    target: float  # nominal sample time (s)
    time: float  # timestamp of the frame actually used (s)
    palette: NDArray[np.uint8]  # (k, 3)
    counts: NDArray[np.int64]  # (k,)
    column: NDArray[np.uint8] | None = None  # (h, 3) centre column, for slitscan
    # A stand-in (the nearest keyframe's colours, from a quick first pass) until the
    # strip of the slot's own frame replaces it.
    provisional: bool = False

    def to_json(self) -> dict[str, Any]:
        """The strip's JSON form (see docs/formats.md)."""
        h = self.palette.tobytes().hex()
        d: dict[str, Any] = {
            "index": self.index,
            "target": round(self.target, 6),
            "time": round(self.time, 6),
            "palette": ["#" + h[i : i + 6] for i in range(0, len(h), 6)],
            "counts": self.counts.tolist(),
        }
        if self.column is not None:
            d["column"] = self.column.tobytes().hex()
        if self.provisional:  # only then: exact strips are written as before
            d["provisional"] = True
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Strip:
        """A strip from its JSON form (checked as a whole file is by
        :func:`streamspec.outputs.spectrum_json.spectrum_from_json`; ValueError if it does not
        hold together)."""
        hexes = "".join(d["palette"]).replace("#", "")
        palette = np.frombuffer(bytes.fromhex(hexes), np.uint8).reshape(-1, 3).copy()
        counts = np.asarray(d["counts"], np.int64)
        if len(palette) != len(counts) or len(palette) == 0 or counts.min() < 0:
            raise ValueError("palette and counts do not match")
        column = None
        if d.get("column"):
            column = np.frombuffer(bytes.fromhex(d["column"]), np.uint8).reshape(-1, 3).copy()
        return cls(
            int(d["index"]),
            float(d["target"]),
            float(d["time"]),
            palette,
            counts,
            column,
            provisional=bool(d.get("provisional", False)),
        )


@dataclass
class SpectrumData:
    """A film's strips by slot, with the settings and source they came from.

    ``settings`` holds at least ``start`` and ``step`` (slot ``i`` is at time
    ``start + (i + offset) * step``), ``height``, ``order``, ``mode`` and
    ``strip_width``; ``slots`` is the planned number of strips (None if open-ended).
    """

    settings: dict[str, Any]
    source: dict[str, Any] = field(default_factory=dict)
    slots: int | None = None
    partial: bool = False
    skipped_frames: int = 0
    warnings: list[str] = field(default_factory=list)
    chapters: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    _strips: dict[int, Strip] = field(default_factory=dict, repr=False)

    # -- strips ---------------------------------------------------------------------------
    def add(self, strip: Strip) -> bool:
        """Put a strip in its slot, replacing what was there -- except that a provisional
        strip never replaces an exact one. Returns whether the strip was put in."""
        if strip.provisional:
            held = self._strips.get(strip.index)
            if held is not None and not held.provisional:
                return False
        self._strips[strip.index] = strip
        return True

    def extend(self, strips: Iterable[Strip]) -> None:
        """:meth:`add` each strip."""
        for s in strips:
            self.add(s)

    @property
    def strips(self) -> list[Strip]:
        """Strips in slot order."""
        return [self._strips[i] for i in sorted(self._strips)]

    def __len__(self) -> int:
        return len(self._strips)

    def __contains__(self, index: int) -> bool:
        return index in self._strips

    def get(self, index: int) -> Strip | None:
        """The strip in slot ``index``, or None."""
        return self._strips.get(index)

    @property
    def provisional_slots(self) -> list[int]:
        """Slots holding a provisional strip (a first pass's stand-in), in order."""
        return [i for i in sorted(self._strips) if self._strips[i].provisional]

    @property
    def complete(self) -> bool:
        """Every planned slot holds an exact strip (never for an open-ended spectrum)."""
        return (
            self.slots is not None
            and len(self._strips) >= self.slots
            and not any(s.provisional for s in self._strips.values())
        )

    @property
    def width_slots(self) -> int:
        """Slots the image spans: the plan, or up to the last strip when open-ended."""
        last = max(self._strips) + 1 if self._strips else 0
        if self.slots is None or self.partial:
            return last
        return max(self.slots, last)

    @property
    def look(self) -> LookOptions:
        """The look the settings describe (the options' defaults for what is missing)."""
        return LookOptions.from_settings(self.settings)

    def _look_with(self, **given: Any) -> LookOptions:
        """The spectrum's look with the options given (not None) changed, checked by
        :class:`LookOptions` like any other option."""
        return self.look.replace(**{k: v for k, v in given.items() if v is not None})

    @property
    def grid(self) -> SlotGrid:
        """The slot grid: slot <-> time, both ways (see :mod:`streamspec.core.grid`)."""
        return SlotGrid.from_settings(self.settings, self.slots)

    def slot_time(self, index: float) -> float:
        """Nominal time (s) of slot ``index`` (fractional slots interpolate)."""
        return self.grid.time(index)

    def copy(self) -> Any:
        """A copy with its own settings, source, warnings, chapters, segments and table
        of strips: adding to either leaves the other as it was. The strips themselves
        are shared (they are never modified, only replaced)."""
        return dataclasses.replace(
            self,
            settings=dict(self.settings),
            source=dict(self.source),
            warnings=list(self.warnings),
            chapters=list(self.chapters),
            segments=list(self.segments),
            _strips=dict(self._strips),
        )

    def source_file(self) -> Path | None:
        """The file this spectrum was made from, if it was a file and is still there.

        A relative name is relative to where the spectrum was made, so it is only
        trusted when such a file exists here (then it may be that very file).
        """
        if self.source.get("kind") != "file" or not self.source.get("name"):
            return None
        p = Path(str(self.source["name"]).removeprefix("file://"))
        return p if p.is_file() else None
