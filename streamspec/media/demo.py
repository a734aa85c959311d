"""The built-in demo film (:mod:`streamspec.media.demofilm`) as a frame source."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from streamspec.media.base import Chapter, Frame, FrameSource, SourceInfo
from streamspec.media.demofilm import DemoFilm

__all__ = ["DemoSource"]

_EPS = 1e-6


class DemoSource(FrameSource):
    """The built-in demo film as a source: frames are drawn only when converted."""

    def __init__(self, mode: str = "exact") -> None:
        # Every frame is drawn on demand: the decoding mode changes nothing here.
        self.mode = mode
        self.film = DemoFilm()
        w, h = self.film.size
        self.info = SourceInfo(
            name="demo film",
            kind="demo",
            width=w,
            height=h,
            fps=float(self.film.fps),
            duration=self.film.duration,
            live=False,
            codec="generated",
            pix_fmt="rgb24",
            chapters=[Chapter(t, title) for t, title in self.film.chapters],
        )

    def frames(
        self,
        start: float = 0.0,
        *,
        next_target: Callable[[float], float | None] | None = None,
    ) -> Iterator[Frame]:
        fps = self.film.fps
        i = max(0, math.ceil(start * fps - _EPS))
        n = round(self.film.duration * fps)
        while i < n:
            self.extent = i / fps
            yield Frame(self, None, i / fps, True)
            i += 1

    def convert(
        self, frame: Frame, size: tuple[int, int] | None, *, cropped: bool = True
    ) -> NDArray[np.uint8]:
        fw, fh, rows, cols = self.full_size_for(size, cropped)
        return np.ascontiguousarray(self.film.frame(frame.time, fw, fh)[rows, cols])
