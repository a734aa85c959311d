"""Drawing a spectrum: its strips as columns of pixels, and as a picture.

The output side of :mod:`streamspec.core.container`:
:class:`~streamspec.outputs.spectrum.Spectrum`'s ``columns``,
``spectrum_array``, ``render_image`` and ``image`` are these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from streamspec.analysis.strip import make_strip, sorted_strips
from streamspec.core.container import SpectrumData
from streamspec.core.errors import InputError
from streamspec.core.limits import check_image_size
from streamspec.outputs.annotate import annotate_image

__all__ = ["columns", "render_image", "spectrum_array", "spectrum_image"]


def columns(
    spectrum: SpectrumData,
    *,
    height: int | None = None,
    order: str | None = None,
    mode: str | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """One column per slot: ``(height, slots, 3)`` pixels and a ``(slots,)`` filled mask."""
    look = spectrum._look_with(height=height, order=order, mode=mode)
    height, order, mode = look.height, look.order, look.mode
    n = spectrum.width_slots
    cols = np.zeros((height, n, 3), np.uint8)
    filled = np.zeros(n, bool)
    strips = [s for i, s in sorted(spectrum._strips.items()) if i < n]
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


def spectrum_array(spectrum: SpectrumData, **kw: Any) -> NDArray[np.uint8]:
    """The bare spectrum, ``(height, slots * strip_width, 3 or 4)``; empty slots are
    transparent (RGBA) when there are any."""
    look = spectrum._look_with(strip_width=kw.pop("strip_width", None), height=kw.get("height"))
    strip_width = look.strip_width
    check_image_size(spectrum.width_slots, strip_width, look.height)
    cols, filled = columns(spectrum, **kw)
    if not filled.all():
        alpha = np.where(filled, 255, 0).astype(np.uint8)
        cols = np.concatenate(
            [cols, np.broadcast_to(alpha[None, :, None], (*cols.shape[:2], 1))], axis=2
        )
    return np.repeat(cols, strip_width, axis=1) if strip_width > 1 else cols


def render_image(spectrum: SpectrumData, **kw: Any) -> Image.Image:
    """The spectrum as a PIL image (see :func:`spectrum_array` for the options).

    ``axis``, ``chapters`` and ``segments`` add annotations below it.
    """
    annotate = {k: kw.pop(k) for k in ("axis", "chapters", "segments") if k in kw}
    arr = spectrum_array(spectrum, **kw)
    if arr.shape[1] == 0:
        raise InputError("the spectrum has no strips yet")
    img = Image.fromarray(arr, "RGBA" if arr.shape[2] == 4 else "RGB")
    if any(annotate.values()):
        img = annotate_image(
            img,
            spectrum,
            **annotate,
            strip_width=int(kw.get("strip_width") or spectrum.look.strip_width),
        )
    return img


def spectrum_image(spectrum: SpectrumData) -> Image.Image:
    """The image with the spectrum's own settings (annotations included)."""
    s = spectrum.settings
    return render_image(
        spectrum,
        axis=bool(s.get("axis")),
        chapters=bool(s.get("chapters")) and spectrum.chapters,
        segments=bool(s.get("segments")) and spectrum.segments,
    )
