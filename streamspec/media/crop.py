"""Black bars: found like FFmpeg's cropdetect, from a few frames of a source."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from streamspec.media.base import Crop, FrameSource, analysis_size

__all__ = ["detect_crop"]


def _content_bounds(luma: NDArray[np.float32], limit: float) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(luma.mean(axis=1) > limit)
    cols = np.flatnonzero(luma.mean(axis=0) > limit)
    if len(rows) == 0 or len(cols) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def detect_crop(
    source: FrameSource,
    start: float = 0.0,
    end: float | None = None,
    probes: int = 8,
    limit: float = 24.0,
) -> Crop | None:
    """Find black bars like FFmpeg's cropdetect, from a few frames.

    A row or column is black when the mean of its brightest channel is at most
    ``limit`` (of 255; luma would call saturated blue black). The
    content box is the union over the probe frames that are not black all over, so a
    dark scene does not shrink it. Returns ``None`` when there is nothing to crop (bars
    thinner than 1 % of the picture are ignored).
    """
    old = source.crop
    source.crop = None
    W, H = source.info.width, source.info.height
    size = analysis_size(W, H, 640 * 360)
    boxes = []
    try:
        if source.seekable and source.info.duration:
            stop = end if end is not None else source.info.duration
            times = [start + (stop - start) * (i + 0.5) / probes for i in range(probes)]
            for t in times:
                frame = source.grab(t)
                if frame is not None:
                    boxes.append(_frame_bounds(frame.to_rgb(size), limit))
        else:
            # A live source cannot seek: look at its first frames, then give them back.
            seen = []
            for i, frame in enumerate(source.frames(start)):
                seen.append(frame)
                if i % 3 == 0:
                    boxes.append(_frame_bounds(frame.to_rgb(size), limit))
                if len(boxes) >= probes:
                    break
            source.unread(seen)
    finally:
        source.crop = old
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    x0 = min(b[0] for b in found)
    y0 = min(b[1] for b in found)
    x1 = max(b[2] for b in found)
    y1 = max(b[3] for b in found)
    sx, sy = W / size[0], H / size[1]
    # Back to display pixels, rounded inwards to even numbers so no bar edge survives.
    X0 = min(W, 2 * math.ceil(x0 * sx / 2))
    Y0 = min(H, 2 * math.ceil(y0 * sy / 2))
    X1 = max(X0 + 2, 2 * math.floor(x1 * sx / 2))
    Y1 = max(Y0 + 2, 2 * math.floor(y1 * sy / 2))
    X1, Y1 = min(X1, W), min(Y1, H)
    if (W - (X1 - X0)) < 0.01 * W and (H - (Y1 - Y0)) < 0.01 * H:
        return None
    return Crop(X1 - X0, Y1 - Y0, X0, Y0)


def _frame_bounds(rgb: NDArray[np.uint8], limit: float) -> tuple[int, int, int, int] | None:
    # The brightest channel, not luma: saturated blue has a luma below the black limit.
    return _content_bounds(rgb.max(axis=2).astype(np.float32), limit)
