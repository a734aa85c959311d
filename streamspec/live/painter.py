"""Drawing the live view's model onto any pygame surface: the window's screen, or an
off-screen surface for a video of the spectrum building. No window, no events here.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

from .model import LiveModel
from .pipeline import DisplayFrame

__all__ = ["HELP", "Painter"]

HELP = [
    ("Space", "pause / resume (at the end: play again)"),
    ("Left / Right", "seek -10 s / +10 s (hold to repeat)"),
    ("Shift+Left / Right", "seek -60 s / +60 s"),
    ("Home / End", "the start / the last moment of the film"),
    ("0 ... 9", "jump to 0 % ... 90 % of the film"),
    (", / .", "one frame back / forward (pauses)"),
    ("click spectrum", "seek to that time"),
    ("drag on spectrum", "scrub (the picture follows)"),
    ("+ / -", "zoom the spectrum"),
    ("[ / ]", "slower / faster (0.5x - 2x)"),
    ("Backspace", "normal speed"),
    ("Up / Down", "volume +10 % / -10 %"),
    ("M", "mute / unmute"),
    ("S", "save a snapshot"),
    ("F", "fullscreen on / off"),
    ("H", "this help"),
    ("Q / Esc", "quit (saves)"),
]

BG = (18, 18, 20)
PANEL_BG = (34, 34, 38)
TEXT = (225, 225, 230)
DIM = (140, 140, 150)
PLAYHEAD = (255, 255, 255)
ERROR = (255, 110, 100)


class Painter:
    """Draws a :class:`LiveModel` (and the current picture) onto a surface.

    Keeps the scaled picture and the scaled spectrum panel between calls, so a frame
    where nothing changed costs a few blits.
    """

    def __init__(self, model: LiveModel) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.model = model
        self.font = pygame.font.Font(None, 20)
        self.small = pygame.font.Font(None, 17)
        self.big = pygame.font.Font(None, 28)
        self.screen: pygame.Surface = pygame.Surface((1, 1))
        self._surface: pygame.Surface | None = None
        self._surface_of: DisplayFrame | None = None
        self._panel: tuple[pygame.Surface, int] | None = None  # the scaled panel, its first slot
        self._panel_key: tuple[Any, ...] | None = None

    def invalidate(self) -> None:
        """The layout changed: rescale the picture and rebuild the panel."""
        self._surface = None
        self._panel_key = None

    def draw(
        self,
        screen: pygame.Surface,
        frame: DisplayFrame | None,
        message: str | None = None,
    ) -> None:
        """Draw the whole view onto ``screen``: picture, spectrum, axis, status line,
        then the banner (``message`` or the error), tooltip and help overlay."""
        self.screen = screen
        m = self.model
        L = m.layout
        screen.fill(BG)
        if frame is not None:
            if self._surface is None or self._surface_of is not frame:
                rgb = frame.rgb
                surf = pygame.image.frombuffer(rgb.data, (rgb.shape[1], rgb.shape[0]), "RGB")
                if surf.get_size() != (L.video.w, L.video.h):
                    surf = pygame.transform.scale(surf, (L.video.w, L.video.h))
                self._surface, self._surface_of = surf, frame
            screen.blit(self._surface, (L.video.x, L.video.y))
        self._draw_panel()
        self._draw_axis()
        hud = self.font.render(m.hud_text(), True, ERROR if m.error else TEXT)
        self.screen.blit(hud, (8, L.hud.y + (L.hud.h - hud.get_height()) // 2))
        if m.error:
            self._banner(f"error: {m.error} - the spectrum so far will be saved")
        elif message is not None:
            self._banner(message)
        if m.hover is not None:
            self._draw_hover(*m.hover)
        if m.show_help:
            self._draw_help()

    def _draw_panel(self) -> None:
        m = self.model
        p = m.layout.panel
        pygame.draw.rect(self.screen, PANEL_BG, (p.x, p.y, p.w, p.h))
        key = (p.w, p.h, m.pps, round(m.scroll * m.pps))
        if m.dirty or self._panel is None or key != self._panel_key:
            cols, filled, first = m.panel_pixels()
            self._panel = None
            if cols.shape[1]:
                # Opaque, in the screen's format: blitting it every frame is a copy (with
                # alpha it was ~45 ms a frame at 1920x1080).
                rgb = np.where(filled[None, :, None], cols, np.array(PANEL_BG, np.uint8))
                surf = pygame.image.frombuffer(rgb.tobytes(), (cols.shape[1], p.h), "RGB")
                w = cols.shape[1] * m.pps
                scaled = pygame.transform.scale(surf, (w, p.h))
                if pygame.display.get_surface() is not None:
                    scaled = scaled.convert(self.screen)
                self._panel = (scaled, first)
            self._panel_key = key
        if self._panel is not None:
            surf, first = self._panel
            x = round(m.x_of_slot(first))
            self.screen.set_clip(pygame.Rect(p.x, p.y, p.w, p.h))
            self.screen.blit(surf, (x, p.y))
            self.screen.set_clip(None)
        hx = round(m.playhead_x)
        if p.x <= hx <= p.right:
            pygame.draw.line(self.screen, PLAYHEAD, (hx, p.y - 3), (hx, p.bottom + 3), 2)

    def _draw_axis(self) -> None:
        m = self.model
        a = m.layout.axis
        pygame.draw.line(self.screen, DIM, (a.x, a.y), (a.right, a.y))
        for x, label in m.ticks():
            xi = round(x)
            pygame.draw.line(self.screen, DIM, (xi, a.y), (xi, a.y + 4))
            text = self.small.render(label, True, DIM)
            tx = min(max(xi - text.get_width() // 2, a.x), a.right - text.get_width())
            self.screen.blit(text, (tx, a.y + 5))

    def _draw_hover(self, x: int, y: int) -> None:
        info = self.model.hover_info(x, y)
        if info is None:
            return
        when, colours = info
        lines = [self.font.render(when, True, TEXT)]
        sw = 14
        w = max(lines[0].get_width(), 150) + 16
        h = lines[0].get_height() + 8 + len(colours) * (sw + 4) + 6
        bx = min(x + 14, self.screen.get_width() - w - 4)
        by = max(y - h - 10, 4)
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((10, 10, 12, 225))
        self.screen.blit(box, (bx, by))
        self.screen.blit(lines[0], (bx + 8, by + 5))
        cy = by + lines[0].get_height() + 10
        for rgb, share in colours:
            pygame.draw.rect(self.screen, rgb, (bx + 8, cy, sw * 2, sw))
            label = self.small.render(
                f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}  {share:5.1%}", True, TEXT
            )
            self.screen.blit(label, (bx + 8 + sw * 2 + 8, cy))
            cy += sw + 4

    def _banner(self, text: str) -> None:
        surf = self.font.render(text, True, TEXT)
        w, h = surf.get_width() + 20, surf.get_height() + 10
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((120, 30, 30, 220) if self.model.error else (20, 20, 24, 220))
        x = (self.screen.get_width() - w) // 2
        self.screen.blit(box, (x, 10))
        self.screen.blit(surf, (x + 10, 15))

    def _draw_help(self) -> None:
        rows = [(self.font.render(k, True, TEXT), self.font.render(v, True, DIM)) for k, v in HELP]
        title = self.big.render("streamspec - keys", True, TEXT)
        kw = max(r[0].get_width() for r in rows)
        vw = max(r[1].get_width() for r in rows)
        lh = rows[0][0].get_height() + 6
        w = max(kw + vw + 60, title.get_width() + 40)
        h = title.get_height() + 20 + lh * len(rows) + 10
        sw, sh = self.screen.get_size()
        x, y = (sw - w) // 2, (sh - h) // 2
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((10, 10, 12, 235))
        self.screen.blit(box, (x, y))
        self.screen.blit(title, (x + 20, y + 10))
        cy = y + title.get_height() + 20
        for k, v in rows:
            self.screen.blit(k, (x + 20, cy))
            self.screen.blit(v, (x + 40 + kw, cy))
            cy += lh
