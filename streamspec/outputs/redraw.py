"""A saved spectrum drawn again with another look, without decoding (``streamspec redraw``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamspec.core._io import IMAGE_FORMATS, check_outputs, check_writable, image_format

if TYPE_CHECKING:
    from streamspec.outputs.spectrum import Spectrum

__all__ = ["Redrawn", "redraw"]


@dataclass(frozen=True)
class Redrawn:
    """What :func:`redraw` wrote: the new spectrum, its image and data files, and the
    warnings the new look raised (the saved data's own are not repeated)."""

    spectrum: Spectrum
    image: Path
    data: Path
    warnings: tuple[str, ...]


def redraw(data: str | os.PathLike[str], output: str | os.PathLike[str], **look: Any) -> Redrawn:
    """Draw the spectrum saved in ``data`` (its ``.json``, or its image) again to
    ``output`` (an image; its ``.json`` goes beside it), with the look options given
    (those of :meth:`Spectrum.restyle <streamspec.outputs.spectrum.Spectrum.restyle>`; None
    keeps the data's own).

    Before anything is read, refuses with one line an output that is an input: the data,
    the images drawn from it before (the user's too), or the chapters file.
    """
    from streamspec.outputs.spectrum import Spectrum, json_path_for

    src = Path(data)
    if src.suffix.lower() in IMAGE_FORMATS:
        src, images = json_path_for(src), [src]
    else:  # the images drawn from this data before are the user's too
        images = [p for p in map(src.with_suffix, IMAGE_FORMATS) if p.exists()] if src.name else []
    chapters = look.get("chapters")
    chapters_file = chapters if isinstance(chapters, (str, os.PathLike)) else None
    if chapters_file is not None and os.fspath(chapters_file) in ("auto", "none"):
        chapters_file = None
    out = check_writable(output)  # first: a directory has no sidecar name
    check_outputs(
        [
            ("the spectrum data it is drawn from", src),
            *(("the spectrum image it is drawn from", p) for p in images),
            ("the chapters file", chapters_file),
        ],
        [("output", out, "-o"), ("output data", json_path_for(out), "-o")],
        distinct=False,  # they differ unless out is a .json, which image_format refuses
    )
    image_format(out)
    check_writable(json_path_for(out))
    before = Spectrum.load(data)
    spectrum = before.restyle(**look)
    png, js = spectrum.save(out)
    return Redrawn(spectrum, png, js, tuple(spectrum.warnings[len(before.warnings) :]))
