"""Spectra: the strips of a film, their image, and their saved form (PNG + JSON).

Pure computation and file I/O: no PyAV, no pygame. A :class:`Spectrum` holds one
:class:`Strip` per sample *slot* (slot ``i`` is the i-th sample time), so strips can
arrive in any order -- the live view fills them in wherever the viewer seeks -- and
the image always puts each strip at its time. The JSON sidecar holds everything needed
to redraw the image (in any order, mode or height) without decoding the film again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, PngImagePlugin

from ._io import (
    IMAGE_FORMATS,
    check_outputs,
    check_writable,
    commit,
    image_format,
    image_writer,
    load_json,
    output_lock,
    write_aside,
)
from ._schema import SchemaError, check_chapters, check_spectrum_json
from ._version import __version__
from .annotate import annotate_image, read_chapters
from .colour import oklab_grid_to_srgb, srgb_to_oklab_grid
from .errors import InputError, OutputError
from .grid import SlotGrid
from .kmeans import sample_palette
from .limits import MAX_IMAGE_COLOURS, MAX_JSON_BYTES, check_image_size
from .options import LookOptions
from .segments import segment_spectrum
from .strip import make_strip, sorted_strips

__all__ = ["FORMAT", "Spectrum", "Strip", "analyze_frame", "image_mismatch", "json_path_for"]

FORMAT = "streamspec-spectrum"
FORMAT_VERSION = 1


@dataclass
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


def analyze_frame(
    rgb: NDArray[np.uint8],
    *,
    index: int = 0,
    target: float = 0.0,
    time: float = 0.0,
    k: int = 50,
    seed: int | None = 0,
    space: str = "rgb",
) -> Strip:
    """Quantize one frame into a :class:`Strip` (palette, counts, centre column).

    The colours and their shares come from a stratified sample of ~32k pixels
    (:func:`~streamspec.kmeans.sample_palette`); ``counts`` are sampled pixels. ``space``
    is where colours are clustered: ``rgb`` (default) or ``oklab``.
    The random state depends on ``seed`` and the slot ``index`` only, so a strip is the
    same whichever order frames are analysed in (render and the live view agree).
    """
    if (
        isinstance(k, bool)
        or not isinstance(k, (int, np.integer))
        or not 1 <= k <= MAX_IMAGE_COLOURS
    ):
        raise ValueError(f"k must be a whole number from 1 to {MAX_IMAGE_COLOURS}, got {k!r}")
    rgb = np.ascontiguousarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise ValueError(f"a frame must be a non-empty (H, W, 3) uint8 array, got {rgb.shape}")
    rng = np.random.default_rng(None if seed is None else [seed, index])
    if space == "oklab":
        # Cluster in OKLab (on a uint8 grid: the same kernels), centres back to sRGB.
        centers, counts = sample_palette(srgb_to_oklab_grid(rgb), k, rng)
        palette = oklab_grid_to_srgb(centers)
    else:
        centers, counts = sample_palette(rgb, k, rng)
        palette = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    column = np.ascontiguousarray(rgb[:, rgb.shape[1] // 2])
    return Strip(index, float(target), float(time), palette, counts, column)


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _image_record(path: Path, name: str, size: tuple[int, int]) -> dict[str, Any]:
    """What a spectrum's data records of its picture: enough to tell it is that one."""
    return {
        "file": name,
        "width": size[0],
        "height": size[1],
        "bytes": path.stat().st_size,
        "sha256": _file_hash(path),
    }


def image_mismatch(image: str | os.PathLike[str], data: dict[str, Any] | None = None) -> str | None:
    """Why the picture ``image`` and the data beside it do not belong together, or None
    when they do (or when the data predates such records and cannot tell).

    ``data`` is the spectrum's JSON data if already read. A torn pair -- a save cut
    short, another writer's picture -- says so here; nothing is trusted on the
    picture's own word.
    """
    p = Path(image)
    if data is None:
        data = load_json(json_path_for(p), MAX_JSON_BYTES, "a spectrum JSON file")
    if not isinstance(data, dict) or "image" not in data:
        return None
    record = data["image"]
    if not p.exists():
        return "its picture is missing"
    if not isinstance(record, dict):
        return "its data was saved without a picture"
    try:
        if record.get("file") not in (None, p.name):
            return f"its data belongs to the picture {record.get('file')!r}"
        if p.stat().st_size != record.get("bytes") or _file_hash(p) != record.get("sha256"):
            return "its picture is not the one its data was saved with (a save cut short?)"
    except OSError as exc:
        return f"its picture cannot be read ({exc.strerror or exc})"
    return None


def json_path_for(image: str | os.PathLike[str]) -> Path:
    """The sidecar of ``spectrum.png`` (or ``.jpg``, ``.webp``, ...) is ``spectrum.json``."""
    return Path(image).with_suffix(".json")


@dataclass
class Spectrum:
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
        """The slot grid: slot <-> time, both ways (see :mod:`streamspec.grid`)."""
        return SlotGrid.from_settings(self.settings, self.slots)

    def slot_time(self, index: float) -> float:
        """Nominal time (s) of slot ``index`` (fractional slots interpolate)."""
        return self.grid.time(index)

    # -- image ----------------------------------------------------------------------------
    def columns(
        self,
        *,
        height: int | None = None,
        order: str | None = None,
        mode: str | None = None,
    ) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
        """One column per slot: ``(height, slots, 3)`` pixels and a ``(slots,)`` filled mask."""
        look = self._look_with(height=height, order=order, mode=mode)
        height, order, mode = look.height, look.order, look.mode
        n = self.width_slots
        cols = np.zeros((height, n, 3), np.uint8)
        filled = np.zeros(n, bool)
        strips = [s for i, s in sorted(self._strips.items()) if i < n]
        if mode == "sorted":
            batch = sorted_strips(
                [s.palette for s in strips], [s.counts for s in strips], height, order
            )
            for s, col in zip(strips, batch, strict=True):
                cols[:, s.index] = col
                filled[s.index] = True
            return cols, filled
        for s in strips:
            if mode == "slitscan" and s.column is None:
                raise InputError("this spectrum has no centre columns; slitscan is unavailable")
            cols[:, s.index] = make_strip(
                s.palette, s.counts, height, order=order, mode=mode, column=s.column
            )
            filled[s.index] = True
        return cols, filled

    def spectrum_array(self, **kw: Any) -> NDArray[np.uint8]:
        """The bare spectrum, ``(height, slots * strip_width, 3 or 4)``; empty slots are
        transparent (RGBA) when there are any."""
        look = self._look_with(strip_width=kw.pop("strip_width", None), height=kw.get("height"))
        strip_width = look.strip_width
        check_image_size(self.width_slots, strip_width, look.height)
        cols, filled = self.columns(**kw)
        if not filled.all():
            alpha = np.where(filled, 255, 0).astype(np.uint8)
            cols = np.concatenate(
                [cols, np.broadcast_to(alpha[None, :, None], (*cols.shape[:2], 1))], axis=2
            )
        return np.repeat(cols, strip_width, axis=1) if strip_width > 1 else cols

    def render_image(self, **kw: Any) -> Image.Image:
        """The spectrum as a PIL image (see :meth:`spectrum_array` for the options).

        ``axis``, ``chapters`` and ``segments`` add annotations below it.
        """
        annotate = {k: kw.pop(k) for k in ("axis", "chapters", "segments") if k in kw}
        arr = self.spectrum_array(**kw)
        if arr.shape[1] == 0:
            raise InputError("the spectrum has no strips yet")
        img = Image.fromarray(arr, "RGBA" if arr.shape[2] == 4 else "RGB")
        if any(annotate.values()):
            img = annotate_image(
                img,
                self,
                **annotate,
                strip_width=int(kw.get("strip_width") or self.look.strip_width),
            )
        return img

    @property
    def image(self) -> Image.Image:
        """The image with the spectrum's own settings (annotations included)."""
        s = self.settings
        return self.render_image(
            axis=bool(s.get("axis")),
            chapters=bool(s.get("chapters")) and self.chapters,
            segments=bool(s.get("segments")) and self.segments,
        )

    def _repr_png_(self) -> bytes:
        """Jupyter shows a spectrum as its image."""
        buf = io.BytesIO()
        self.image.save(buf, format="PNG")
        return buf.getvalue()

    # -- restyling ------------------------------------------------------------------------
    def copy(self) -> Spectrum:
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

    def restyle(
        self,
        *,
        height: int | None = None,
        order: str | None = None,
        mode: str | None = None,
        strip_width: int | None = None,
        axis: bool | None = None,
        chapters: str | os.PathLike[str] | list[dict[str, Any]] | None = None,
        segments: bool | None = None,
        min_segment: float | None = None,
    ) -> Spectrum:
        """The same strips in another look (what ``streamspec redraw`` draws).

        Options left at None keep the spectrum's own. ``chapters`` is a chapters file,
        a list of chapter dicts, ``"auto"`` (the video's own, kept in the data) or
        ``"none"``; ``segments`` True finds the colour segments again (with
        ``min_segment``), False drops them. Every value is checked as ``render``
        checks it. Returns a new :class:`Spectrum` sharing the strips.
        """
        given = {
            "height": height,
            "order": order,
            "mode": mode,
            "strip_width": strip_width,
            "axis": axis,
            "min_segment": min_segment,
        }
        look = LookOptions.from_settings(self.settings).replace(
            **{k: v for k, v in given.items() if v is not None}
        )
        new = self.copy()
        s = new.settings
        s.update({k: getattr(look, k) for k in given if given[k] is not None})
        if chapters is not None:
            if chapters == "none":
                s["chapters"] = None
            elif chapters == "auto":
                s["chapters"] = "auto"
                if not self.chapters:
                    new.warnings.append("the data has no chapters of the video's own")
            else:
                if isinstance(chapters, list):
                    try:
                        check_chapters(chapters)
                    except SchemaError as exc:
                        raise InputError(f"the chapters given: {exc}") from None
                    new.chapters = list(chapters)
                else:
                    new.chapters = read_chapters(chapters)
                s["chapters"] = True
        if segments is not None:
            s["segments"] = "auto" if segments else None
            if segments:
                segment_spectrum(new, min_seconds=s.get("min_segment"))
            else:
                new.segments = []
        return new

    # -- saving ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Everything needed to redraw the image without decoding."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "streamspec": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": self.source,
            "settings": self.settings,
            "slots": self.slots,
            "partial": self.partial,
            "skipped_frames": self.skipped_frames,
            "warnings": self.warnings,
            "chapters": self.chapters,
            "segments": self.segments,
            "strips": [s.to_json() for s in self.strips],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, name: str = "the data") -> Spectrum:
        """A spectrum from its JSON form, every field checked first (one-line
        :class:`InputError` naming the field; ``name`` is used in messages)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{name} is not a streamspec spectrum file (no 'format' marker)")
        version = data.get("format_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise InputError(f"damaged spectrum file {name}: format_version must be a whole number")
        if version > FORMAT_VERSION:
            raise InputError(f"{name} was written by a newer streamspec (format {version})")
        try:
            check_spectrum_json(data)
        except SchemaError as exc:
            raise InputError(f"damaged spectrum file {name}: {exc}") from None
        try:
            spec = cls(
                settings=dict(data["settings"]),
                source=dict(data.get("source") or {}),
                slots=data.get("slots"),
                partial=bool(data.get("partial", False)),
                skipped_frames=int(data.get("skipped_frames", 0)),
                warnings=list(data.get("warnings") or []),
                chapters=list(data.get("chapters") or []),
                segments=list(data.get("segments") or []),
            )
            spec.extend(Strip.from_json(s) for s in data["strips"])
        except (KeyError, TypeError, ValueError) as exc:  # pragma: no cover - checked above
            raise InputError(f"damaged spectrum file {name} ({exc})") from None
        return spec

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Spectrum:
        """Read a spectrum from its JSON sidecar (or from the PNG next to it)."""
        p = Path(path)
        if p.suffix.lower() in IMAGE_FORMATS:
            p = json_path_for(p)
        data = load_json(p, MAX_JSON_BYTES, "a spectrum JSON file")
        return cls.from_json(data, name=repr(str(p)))

    def source_file(self) -> Path | None:
        """The file this spectrum was made from, if it was a file and is still there.

        A relative name is relative to where the spectrum was made, so it is only
        trusted when such a file exists here (then it may be that very file).
        """
        if self.source.get("kind") != "file" or not self.source.get("name"):
            return None
        p = Path(str(self.source["name"]).removeprefix("file://"))
        return p if p.is_file() else None

    def save(
        self, path: str | os.PathLike[str], image: Image.Image | None = None
    ) -> tuple[Path, Path]:
        """Write the image to ``path`` and the data to its ``.json`` sidecar, atomically.

        The extension picks the format: ``.png`` (with text metadata), ``.jpg``/``.jpeg``
        (no alpha: empty slots of a partial spectrum are black), ``.webp`` (lossless) or
        ``.tif``/``.tiff``; anything else raises :class:`~streamspec.errors.OutputError`
        before anything is written, as does a path that is the spectrum's own source
        file. Returns both paths. The image defaults to :attr:`image`.
        """
        out = check_writable(path)  # first: a directory has no sidecar name
        sidecar = json_path_for(out)
        check_outputs(
            [("the spectrum's source video", self.source_file())],
            [("output", out, "-o"), ("output data", sidecar, "-o")],
            distinct=False,  # they differ unless out is a .json, which image_format refuses
        )
        image_format(out)
        check_writable(sidecar)
        img = image if image is not None else self.image
        data = self.to_json()
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", f"streamspec {__version__}")
        info.add_itxt("Source", str(self.source.get("name", "")))
        info.add_itxt("streamspec:settings", json.dumps(self.settings, sort_keys=True))
        info.add_itxt("streamspec:source", json.dumps(self.source, sort_keys=True))
        info.add_text("streamspec:partial", "yes" if self.partial else "no")
        try:
            write_image = image_writer(
                img,
                out,
                pnginfo=info,
                # zlib level 3: a third faster than the default 6 for ~7 % more bytes
                # (spectra of thousands of strips are redrawn interactively).
                compress_level=3,
                software=f"streamspec {__version__}",
                description=f"colour spectrum of {self.source.get('name', '')}",
            )
        except OutputError as exc:  # too large for the format: the data alone is saved
            write_image = None
            too_large = exc
        with output_lock(out):
            # One unit: both written aside and flushed, then renamed -- the picture
            # first, the data last. The data names the picture it goes with (size and
            # hash), so a picture left from another save is told apart
            # (:func:`image_mismatch`) whatever stopped this one.
            tmp_image = None
            try:
                if write_image is not None:
                    tmp_image = write_aside(out, write_image)
                    data["image"] = _image_record(Path(tmp_image), out.name, img.size)
                else:
                    data["image"] = None
                text = json.dumps(data, separators=(",", ":"), allow_nan=False)
                tmp_data = write_aside(sidecar, lambda fh: fh.write(text.encode("utf-8")))
            except BaseException:
                if tmp_image is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp_image)
                raise
            commit([(tmp_image, out), (tmp_data, sidecar)] if tmp_image else [(tmp_data, sidecar)])
        if write_image is None:  # the data is safe: say how to get the picture
            raise OutputError(
                f"{too_large}; the data is saved in {str(sidecar)!r} (streamspec redraw draws it)"
            ) from None
        return out, sidecar
