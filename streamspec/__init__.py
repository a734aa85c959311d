"""streamspec: a film's colours as a colour spectrum.

Time runs left to right; each column is one sampled frame whose dominant colours
(mini-batch k-means) are stacked top to bottom, sorted by hue, each as tall as its
share of the frame.

>>> import streamspec
>>> spec = streamspec.render("film.mp4", every=2.0)   # doctest: +SKIP
>>> spec.save("film-spectrum.png")                    # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import InputError, OutputError, StreamspecError
from .kmeans import ColorKMeans
from .spectrum import Spectrum, Strip
from .strip import make_strip, strip_from_palette

if TYPE_CHECKING:
    from .corpus import Corpus
    from .rendering import Renderer, render
    from .sources import open_source, sample_frames

__all__ = [
    "ColorKMeans",
    "Corpus",
    "InputError",
    "OutputError",
    "Renderer",
    "Spectrum",
    "StreamspecError",
    "Strip",
    "__version__",
    "make_strip",
    "open_source",
    "render",
    "sample_frames",
    "strip_from_palette",
]

# Decoding pulls in PyAV; load it only when asked, so the pure parts import without it.
# The corpus needs pyarrow and pandas, an optional extra: also loaded only when asked.
_LAZY = {
    "Corpus": "corpus",
    "Renderer": "rendering",
    "render": "rendering",
    "open_source": "sources",
    "sample_frames": "sources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
