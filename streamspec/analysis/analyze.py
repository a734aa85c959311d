"""From a frame to a :class:`~streamspec.core.container.Strip`: the quantizer's entry point.

Beside :mod:`streamspec.analysis.kmeans` (the clustering) and :mod:`streamspec.analysis.strip` (the
ordering); every path that turns frames into strips -- render, play, batch -- comes
through :func:`analyze_frame`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.colour import oklab_grid_to_srgb, srgb_to_oklab_grid
from streamspec.analysis.kmeans import sample_palette
from streamspec.core.container import Strip
from streamspec.core.limits import MAX_IMAGE_COLOURS

__all__ = ["analyze_frame"]


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
    (:func:`~streamspec.analysis.kmeans.sample_palette`); ``counts`` are sampled pixels. ``space``
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
