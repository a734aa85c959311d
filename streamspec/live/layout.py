"""Where the live window's parts go: the picture, the spectrum panel, the bands for
segments and chapters under it, the time axis and the status line, as rectangles in
window pixels. Pure arithmetic, no pygame."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CHAPTERS_H", "HUD_H", "SEGMENTS_H", "Layout", "Rect", "fit_window"]

SEGMENTS_H = 10  # the segments' band under the strips
CHAPTERS_H = 18  # the chapters' band under that
HUD_H = 22  # the status line
AXIS_H = 20  # the time axis's labels


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in window pixels."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, px: float, py: float) -> bool:
        """Whether the point (px, py) lies inside (left and top edges included)."""
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class Layout:
    """Where things go in a window of a given size."""

    window: Rect
    video: Rect  # the picture, letterboxed to the source's aspect
    panel: Rect  # the spectrum strips
    axis: Rect  # tick labels under the strips
    hud: Rect  # one line of status text
    segments: Rect = Rect(0, 0, 0, 0)  # the colour segments' band, under the strips
    chapters: Rect = Rect(0, 0, 0, 0)  # chapter brackets and names, under the segments

    @staticmethod
    def compute(
        width: int,
        height: int,
        aspect: float,
        mode: str = "below",
        segments_h: int = 0,
        chapters_h: int = 0,
    ) -> Layout:
        """Split the window: video above the spectrum (``below``) or left of it (``right``);
        under the strips, the bands for segments and chapters (when shown), then the axis."""
        width, height = max(int(width), 64), max(int(height), 64)
        hud_h = HUD_H
        axis_h = AXIS_H + segments_h + chapters_h
        if mode == "right":
            side = max(160, int(width * 0.42))
            video_area = Rect(0, 0, width - side, height - hud_h)
            panel = Rect(width - side + 8, 8, side - 16, max(height - hud_h - axis_h - 16, 16))
        else:
            spec_h = max(int(height * 0.36), 90) + segments_h + chapters_h
            video_area = Rect(0, 0, width, height - spec_h - hud_h)
            panel = Rect(8, video_area.bottom + 6, width - 16, max(spec_h - axis_h - 8, 16))
        segments = Rect(panel.x, panel.bottom, panel.w, segments_h)
        chapters = Rect(panel.x, segments.bottom, panel.w, chapters_h)
        axis = Rect(panel.x, chapters.bottom, panel.w, axis_h - segments_h - chapters_h)
        hud = Rect(0, height - hud_h, width, hud_h)
        # Fit the picture into its area, keeping the aspect ratio.
        aw, ah = max(video_area.w, 1), max(video_area.h, 1)
        if aw / ah > aspect:
            vh = ah
            vw = max(1, round(ah * aspect))
        else:
            vw = aw
            vh = max(1, round(aw / aspect))
        video = Rect(video_area.x + (aw - vw) // 2, video_area.y + (ah - vh) // 2, vw, vh)
        return Layout(Rect(0, 0, width, height), video, panel, axis, hud, segments, chapters)


def fit_window(size: tuple[int, int], screen: tuple[int, int] | None) -> tuple[int, int]:
    """``size`` shrunk (keeping its aspect) to fit ``screen``; unchanged if it fits."""
    w, h = size
    if not screen or screen[0] <= 0 or screen[1] <= 0:
        return w, h
    scale = min(1.0, screen[0] / w, screen[1] / h)
    return max(1, math.floor(w * scale)), max(1, math.floor(h * scale))
