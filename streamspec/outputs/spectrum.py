"""Spectra: the strips of a film, their image, and their saved form (PNG + JSON).

Pure computation and file I/O: no PyAV, no pygame. A :class:`Spectrum` holds one
:class:`Strip` per sample *slot* (slot ``i`` is the i-th sample time), so strips can
arrive in any order -- the live view fills them in wherever the viewer seeks -- and
the image always puts each strip at its time. The JSON sidecar holds everything needed
to redraw the image (in any order, mode or height) without decoding the film again.

This module joins the parts as one class: the data is
:class:`~streamspec.core.container.SpectrumData` (the base every other module builds on),
drawing is :mod:`streamspec.outputs.raster`, the saved form :mod:`streamspec.outputs.spectrum_json`,
and a frame becomes a strip in :mod:`streamspec.analysis.analyze`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from streamspec.analysis.analyze import analyze_frame
from streamspec.analysis.segments import segment_spectrum
from streamspec.core._schema import SchemaError, check_chapters
from streamspec.core.container import SpectrumData, Strip
from streamspec.core.errors import InputError
from streamspec.core.options import LookOptions
from streamspec.outputs import raster
from streamspec.outputs.annotate import read_chapters
from streamspec.outputs.spectrum_json import (
    FORMAT,
    FORMAT_VERSION,
    image_mismatch,
    json_path_for,
    load_spectrum,
    save_spectrum,
    spectrum_from_json,
    spectrum_to_json,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Spectrum",
    "Strip",
    "analyze_frame",
    "image_mismatch",
    "json_path_for",
]


class Spectrum(SpectrumData):
    """A film's strips by slot, with the settings and source they came from, and
    their image and saved form as methods.

    ``settings`` holds at least ``start`` and ``step`` (slot ``i`` is at time
    ``start + (i + offset) * step``), ``height``, ``order``, ``mode`` and
    ``strip_width``; ``slots`` is the planned number of strips (None if open-ended).
    """

    # -- image ----------------------------------------------------------------------------
    def columns(
        self,
        *,
        height: int | None = None,
        order: str | None = None,
        mode: str | None = None,
    ) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
        """One column per slot: ``(height, slots, 3)`` pixels and a ``(slots,)`` filled mask."""
        return raster.columns(self, height=height, order=order, mode=mode)

    def spectrum_array(self, **kw: Any) -> NDArray[np.uint8]:
        """The bare spectrum, ``(height, slots * strip_width, 3 or 4)``; empty slots are
        transparent (RGBA) when there are any."""
        return raster.spectrum_array(self, **kw)

    def render_image(self, **kw: Any) -> Image.Image:
        """The spectrum as a PIL image (see :meth:`spectrum_array` for the options).

        ``axis``, ``chapters`` and ``segments`` add annotations below it.
        """
        return raster.render_image(self, **kw)

    @property
    def image(self) -> Image.Image:
        """The image with the spectrum's own settings (annotations included)."""
        return raster.spectrum_image(self)

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
        new: Spectrum = super().copy()
        return new

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
        return spectrum_to_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, name: str = "the data") -> Spectrum:
        """A spectrum from its JSON form, every field checked first (one-line
        :class:`InputError` naming the field; ``name`` is used in messages)."""
        return spectrum_from_json(data, cls, name=name)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Spectrum:
        """Read a spectrum from its JSON sidecar (or from the PNG next to it)."""
        return load_spectrum(path, cls)

    def save(
        self, path: str | os.PathLike[str], image: Image.Image | None = None
    ) -> tuple[Path, Path]:
        """Write the image to ``path`` and the data to its ``.json`` sidecar, atomically.

        The extension picks the format: ``.png`` (with text metadata), ``.jpg``/``.jpeg``
        (no alpha: empty slots of a partial spectrum are black), ``.webp`` (lossless) or
        ``.tif``/``.tiff``; anything else raises :class:`~streamspec.core.errors.OutputError`
        before anything is written, as does a path that is the spectrum's own source
        file. Returns both paths. The image defaults to :attr:`image`.
        """
        return save_spectrum(self, path, image if image is not None else self.image)
