"""The built-in demo film, generated in code (pure NumPy, nothing downloaded).

Three minutes in five "seasons", after the chapters of the *La La Land* analysis. Each
season has its own palette that drifts slowly, a sky and a ground with texture, a sun or
moon, figures moving on Lissajous paths, film grain, and 2.39:1 letterbox bars, so the
spectrum shows the chapters and ``--crop auto`` has something to do. Any frame can be
drawn at any size and any time, which makes the film both a render source (only the
sampled frames are ever drawn) and a player source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEMO_CHAPTERS", "DEMO_DURATION", "DEMO_FPS", "DEMO_SIZE", "DemoFilm"]

DEMO_SIZE = (640, 360)
DEMO_FPS = 24
SEASON = 36.0
ASPECT = 2.39  # the picture inside the letterbox bars

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Season:
    title: str
    sky: tuple[RGB, RGB]  # top, horizon -- first variant
    ground: tuple[RGB, RGB]
    accents: tuple[RGB, RGB, RGB]
    drift: tuple[RGB, RGB, RGB, RGB]  # second variant: sky top, horizon, ground top, bottom
    sun: RGB


SEASONS: tuple[Season, ...] = (
    Season(
        "Winter",
        sky=((8, 16, 64), (40, 80, 150)),
        ground=((24, 40, 90), (10, 14, 40)),
        accents=((250, 210, 40), (90, 200, 230), (200, 220, 255)),
        drift=((20, 30, 110), (70, 120, 190), (30, 60, 120), (14, 20, 60)),
        sun=(230, 235, 255),
    ),
    Season(
        "Spring",
        sky=((120, 190, 240), (200, 235, 250)),
        ground=((70, 160, 60), (30, 90, 30)),
        accents=((250, 150, 190), (250, 240, 120), (160, 90, 200)),
        drift=((150, 210, 250), (230, 245, 225), (110, 190, 70), (50, 120, 40)),
        sun=(255, 250, 210),
    ),
    Season(
        "Summer",
        sky=((20, 110, 230), (120, 200, 255)),
        ground=((250, 190, 40), (220, 120, 20)),
        accents=((230, 40, 40), (255, 240, 60), (20, 170, 160)),
        drift=((10, 80, 200), (250, 200, 120), (250, 160, 30), (200, 90, 20)),
        sun=(255, 255, 200),
    ),
    Season(
        "Fall",
        sky=((90, 40, 110), (240, 130, 60)),
        ground=((160, 70, 20), (80, 35, 15)),
        accents=((200, 40, 30), (240, 180, 40), (110, 70, 40)),
        drift=((60, 30, 90), (220, 90, 50), (140, 50, 20), (60, 25, 10)),
        sun=(255, 160, 60),
    ),
    Season(
        "Winter (five years later)",
        sky=((70, 80, 100), (140, 150, 165)),
        ground=((90, 95, 110), (45, 50, 60)),
        accents=((180, 30, 40), (200, 205, 215), (60, 70, 90)),
        drift=((60, 70, 95), (160, 165, 180), (100, 105, 120), (40, 42, 52)),
        sun=(220, 225, 235),
    ),
)

DEMO_DURATION = SEASON * len(SEASONS)
DEMO_CHAPTERS: tuple[tuple[float, str], ...] = tuple(
    (i * SEASON, s.title) for i, s in enumerate(SEASONS)
)


def _lerp(a: RGB, b: RGB, u: float) -> NDArray[np.float32]:
    return (np.asarray(a, np.float32) * (1 - u) + np.asarray(b, np.float32) * u).astype(np.float32)


def _ramp(top: NDArray[np.float32], bottom: NDArray[np.float32], n: int) -> NDArray[np.float32]:
    w = np.linspace(0.0, 1.0, max(n, 1), dtype=np.float32)[:, None]
    return top[None, :] * (1 - w) + bottom[None, :] * w


@lru_cache(maxsize=8)
def _texture(w: int, h: int) -> NDArray[np.float32]:
    """Smooth value noise in [-1, 1], twice as wide as the frame so it can scroll."""
    rng = np.random.default_rng(2016)
    cells = rng.uniform(-1, 1, (h // 24 + 2, (2 * w) // 24 + 2)).astype(np.float32)
    ys = np.linspace(0, cells.shape[0] - 1.001, h, dtype=np.float32)
    xs = np.linspace(0, cells.shape[1] - 1.001, 2 * w, dtype=np.float32)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    a = cells[y0][:, x0]
    b = cells[y0][:, x0 + 1]
    c = cells[y0 + 1][:, x0]
    d = cells[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


@lru_cache(maxsize=8)
def _grain(w: int, h: int) -> NDArray[np.int16]:
    """A bank of grain frames (luma noise, +/-6 levels)."""
    rng = np.random.default_rng(1895)
    return rng.integers(-6, 7, (6, h, w, 1), dtype=np.int16)


class DemoFilm:
    """The demo film: ``frame(t, width, height)`` draws the picture at time ``t``."""

    duration = DEMO_DURATION
    fps = DEMO_FPS
    size = DEMO_SIZE
    chapters = DEMO_CHAPTERS

    def season_at(self, t: float) -> int:
        """Index of the season shown at time ``t``."""
        return int(min(max(t, 0.0) // SEASON, len(SEASONS) - 1))

    def frame(
        self, t: float, width: int = DEMO_SIZE[0], height: int = DEMO_SIZE[1]
    ) -> NDArray[np.uint8]:
        """The frame at ``t`` seconds as ``(height, width, 3)`` uint8, bars included."""
        w, h = int(width), int(height)
        s = self.season_at(t)
        season = SEASONS[s]
        local = (t - s * SEASON) / SEASON
        u = 0.5 - 0.5 * np.cos(np.pi * local)  # eased drift through the season

        inner = min(h, max(1, round(w / ASPECT)))
        bar = (h - inner) // 2
        horizon = int(inner * 0.62)

        sky = _ramp(
            _lerp(season.sky[0], season.drift[0], u),
            _lerp(season.sky[1], season.drift[1], u),
            horizon,
        )
        ground = _ramp(
            _lerp(season.ground[0], season.drift[2], u),
            _lerp(season.ground[1], season.drift[3], u),
            inner - horizon,
        )
        column = np.concatenate([sky, ground])  # (inner, 3)

        tex = _texture(w, inner)
        shift = int(t * w * 0.05) % w
        shade = 1.0 + 0.12 * tex[:, shift : shift + w]
        pic = column[:, None, :] * shade[:, :, None]  # (inner, w, 3) float32

        yy = np.arange(inner, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        # Sun or moon crossing the sky.
        self._disc(
            pic,
            yy,
            xx,
            w * (0.1 + 0.8 * local),
            inner * (0.28 - 0.12 * np.sin(np.pi * local)),
            inner * 0.09,
            np.asarray(season.sun, np.float32),
        )
        # Figures: accents on Lissajous paths, bigger in the foreground.
        for i, colour in enumerate(season.accents):
            phase = t * (0.23 + 0.07 * i) + i * 2.1
            cx = w * (0.5 + 0.38 * np.sin(phase))
            cy = horizon + (inner - horizon) * (0.35 + 0.3 * np.sin(1.7 * phase + i))
            r = inner * (0.07 + 0.025 * i)
            self._disc(pic, yy, xx, cx, cy, r, np.asarray(colour, np.float32))

        out = np.zeros((h, w, 3), np.uint8)
        grain = _grain(w, inner)[int(t * self.fps) % 6]
        np.clip(pic + grain, 0, 255, out=pic)
        out[bar : bar + inner] = pic
        return out

    @staticmethod
    def _disc(
        pic: NDArray[np.float32],
        yy: NDArray[np.float32],
        xx: NDArray[np.float32],
        cx: float,
        cy: float,
        r: float,
        colour: NDArray[np.float32],
    ) -> None:
        h, w = pic.shape[:2]
        y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, h)
        x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, w)
        if y0 >= y1 or x0 >= x1:
            return
        inside = (yy[y0:y1] - cy) ** 2 + (xx[:, x0:x1] - cx) ** 2 <= r * r
        region = pic[y0:y1, x0:x1]
        region[inside] = colour
