"""streamspec: a film's colours as a colour spectrum.

Time runs left to right; each column is one sampled frame whose dominant colours
(mini-batch k-means) are stacked top to bottom, sorted by hue, each as tall as its
share of the frame.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import InputError, OutputError, StreamspecError
from .kmeans import ColorKMeans
from .strip import make_strip, strip_from_palette

__all__ = [
    "ColorKMeans",
    "InputError",
    "OutputError",
    "StreamspecError",
    "__version__",
    "make_strip",
    "strip_from_palette",
]
