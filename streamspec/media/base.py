"""What every frame source is: the :class:`FrameSource` interface and its data.

A source yields lightweight :class:`Frame` handles in presentation order; a handle
converts itself to an upright, square-pixel, cropped RGB array only when asked, so
frames that are not sampled cost nothing beyond decoding. Pure: no PyAV here.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core.options import SEEK_MODES, Crop

__all__ = [
    "ANALYSIS_PIXELS",
    "SEEK_MODES",
    "Chapter",
    "Crop",
    "Frame",
    "FrameSource",
    "SourceInfo",
    "analysis_size",
    "frame_step",
]

# Frames are analysed at about 480x270: colour proportions differ from the full frame's by
# well under 1 % (L1), and the quantizer stays in milliseconds.
ANALYSIS_PIXELS = 480 * 270


@dataclass(frozen=True)
class Chapter:
    """A chapter of a film: start time (s) and title (end is optional)."""

    start: float
    title: str
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``start``, ``title``, and ``end`` when known)."""
        d: dict[str, Any] = {"start": self.start, "title": self.title}
        if self.end is not None:
            d["end"] = self.end
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Chapter:
        """A chapter from its JSON form (as checked by the spectrum reader)."""
        end = d.get("end")
        return cls(float(d["start"]), str(d.get("title", "")), None if end is None else float(end))


@dataclass
class SourceInfo:
    """What is known about a source before decoding it."""

    name: str
    kind: str  # "file", "url", "webcam", "lavfi" or "demo"
    width: int  # display size: rotated, square pixels, before cropping
    height: int
    fps: float | None
    duration: float | None  # seconds; None when unknown (live sources)
    live: bool
    codec: str | None = None
    pix_fmt: str | None = None
    rotation: int = 0
    chapters: list[Chapter] = field(default_factory=list)
    # matrix, range, primaries, transfer, HDR kind and what was applied (sources/colourspace)
    colour: dict[str, Any] | None = None
    # one-line warnings about the source (assumed colour tags ...): not in the JSON block
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        d = dict(self.__dict__)
        d.pop("warnings")
        d["chapters"] = [c.__dict__ for c in self.chapters]
        return d


class Frame:
    """A decoded (or drawable) frame; converting it to pixels is deferred."""

    __slots__ = ("_source", "key", "raw", "time")

    def __init__(self, source: FrameSource, raw: Any, time: float, key: bool) -> None:
        self._source = source
        self.raw = raw
        self.time = time
        self.key = key

    def to_rgb(
        self, size: tuple[int, int] | None = None, *, cropped: bool = True
    ) -> NDArray[np.uint8]:
        """Upright, square-pixel RGB at ``size`` (w, h); default: full size.

        ``cropped`` applies the source's crop (the analysed picture); the player shows
        the whole frame, bars included.
        """
        return self._source.convert(self, size, cropped=cropped)


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------
class FrameSource(abc.ABC):
    """A source of frames: ``frames(start)`` yields :class:`Frame` s in presentation
    order, ``convert`` turns one into pixels.

    ``mode`` is the decoding mode (:data:`SEEK_MODES`), fixed when the source opens;
    ``errors`` counts packets or frames that failed to decode and were skipped;
    ``extent`` is the latest timestamp read so far (s).
    """

    info: SourceInfo
    mode: str = "exact"
    crop: Crop | None = None
    errors: int = 0
    seekable: bool = True
    extent: float = 0.0

    @abc.abstractmethod
    def frames(
        self,
        start: float = 0.0,
        *,
        next_target: Callable[[float], float | None] | None = None,
    ) -> Iterator[Frame]:
        """Frames from ``start`` seconds on.

        ``next_target`` (used in ``fast`` mode) tells the decoder which frames are
        wanted: ``next_target(t)`` is the first sample time at or after ``t`` still to
        be served (``next_target(-inf)``: the next one); ``None`` means no more are.
        """

    @abc.abstractmethod
    def convert(
        self, frame: Frame, size: tuple[int, int] | None, *, cropped: bool = True
    ) -> NDArray[np.uint8]:
        """Upright, square-pixel RGB of ``frame`` at ``size`` (see :meth:`Frame.to_rgb`)."""

    def unread(self, frames: list[Frame]) -> None:  # noqa: B027 - optional: live sources
        """Put frames back, so the next ``frames()`` yields them first (live sources)."""

    def grab(self, t: float) -> Frame | None:
        """One frame near ``t`` (a keyframe at or before it, for files), cheaply."""
        return next(iter(self.frames(t)), None)

    @property
    def content_size(self) -> tuple[int, int]:
        """Display size after cropping."""
        if self.crop is not None:
            return self.crop.w, self.crop.h
        return self.info.width, self.info.height

    def close(self) -> None:  # noqa: B027 - a source may hold nothing
        """Release the source."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def full_size_for(
        self, size: tuple[int, int] | None, cropped: bool = True
    ) -> tuple[int, int, slice, slice]:
        """For subclasses: the full-frame size (w, h) to scale to, and the rows and
        columns to keep, so that the (cropped) picture lands on ``size``."""
        W, H = self.info.width, self.info.height
        c = (self.crop if cropped else None) or Crop(W, H, 0, 0)
        if size is None:
            size = (c.w, c.h)
        sx, sy = size[0] / c.w, size[1] / c.h
        fw, fh = max(1, round(W * sx)), max(1, round(H * sy))
        x0, y0 = min(round(c.x * sx), fw - 1), min(round(c.y * sy), fh - 1)
        rows = slice(y0, min(y0 + size[1], fh))
        cols = slice(x0, min(x0 + size[0], fw))
        return fw, fh, rows, cols


def analysis_size(width: int, height: int, pixels: int = ANALYSIS_PIXELS) -> tuple[int, int]:
    """Size with the same aspect and about ``pixels`` pixels, never larger than the input."""
    scale = min(1.0, math.sqrt(pixels / max(width * height, 1)))
    return max(1, round(width * scale)), max(1, round(height * scale))


def frame_step(info: SourceInfo) -> float:
    """The time (s) from one frame to the next: the finest useful sampling step.

    1 ms when the rate is unknown or implausible (above 1000 fps, e.g. a 90 kHz tick
    reported as the rate).
    """
    fps = info.fps
    if fps is not None and math.isfinite(fps) and 0 < fps <= 1000:
        return 1.0 / fps
    return 0.001
