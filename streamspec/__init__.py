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

from streamspec import _moved
from streamspec._version import __version__
from streamspec.core._deprecated import warn_renamed
from streamspec.core.errors import InputError, OutputError, StreamspecError

if TYPE_CHECKING:
    from streamspec.analysis.kmeans import ColourKMeans
    from streamspec.analysis.strip import make_strip, strip_from_palette
    from streamspec.media import open_source
    from streamspec.outputs.corpus import Corpus
    from streamspec.outputs.spectrum import Spectrum, Strip
    from streamspec.pipeline.rendering import Renderer, render
    from streamspec.pipeline.sampling import sample_frames

__all__ = [
    "ColourKMeans",
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

# Everything is loaded when first asked for: ``import streamspec`` (which the command
# line's start runs before its signal handler can be installed) imports no NumPy; PyAV
# and the corpus's pyarrow (an optional extra) come only with what needs them.
_LAZY = {
    "ColourKMeans": "analysis.kmeans",
    "Spectrum": "outputs.spectrum",
    "Strip": "outputs.spectrum",
    "make_strip": "analysis.strip",
    "strip_from_palette": "analysis.strip",
    "Corpus": "outputs.corpus",
    "Renderer": "pipeline.rendering",
    "render": "pipeline.rendering",
    "open_source": "media",
    "sample_frames": "pipeline.sampling",
}


def __getattr__(name: str) -> Any:
    if name == "ColorKMeans":  # the old spelling
        warn_renamed("streamspec.ColorKMeans", "streamspec.ColourKMeans")
        name = "ColourKMeans"
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_moved.install()
