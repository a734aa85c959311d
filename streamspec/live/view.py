"""The pygame window: a thin shell that feeds events to the model and draws it.

Only this module imports pygame. Everything worth testing about what the window shows
(layout, scrolling, hit-testing, reveal timing) lives in :mod:`streamspec.live.model`.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

from .model import LiveModel
from .pipeline import DisplayFrame, Ended, Failed, Pipeline, StripReady

__all__ = ["HELP", "LiveWindow"]

HELP = [
    ("Space", "pause / resume"),
    ("Left / Right", "seek -10 s / +10 s"),
    ("click spectrum", "seek to that time"),
    ("+ / -", "zoom the spectrum"),
    ("S", "save a snapshot"),
    ("F", "fullscreen"),
    ("H", "this help"),
    ("Q / Esc", "quit (saves)"),
]

BG = (18, 18, 20)
PANEL_BG = (34, 34, 38)
TEXT = (225, 225, 230)
DIM = (140, 140, 150)
PLAYHEAD = (255, 255, 255)
ERROR = (255, 110, 100)


class LiveWindow:
    """The window. ``run()`` returns why it stopped: "quit", "closed" or "ended"."""

    def __init__(
        self,
        model: LiveModel,
        pipeline: Pipeline,
        *,
        title: str,
        size: tuple[int, int] = (1280, 720),
        exit_at_end: bool = False,
        on_snapshot: Callable[[], str] | None = None,
        on_tick: Callable[[LiveWindow], None] | None = None,
        fps: int = 60,
    ) -> None:
        self.model = model
        self.pipeline = pipeline
        self.title = title
        self.exit_at_end = exit_at_end
        self.on_snapshot = on_snapshot
        self.on_tick = on_tick
        self.fps = fps
        self.size = size
        self.message: tuple[str, float] | None = None  # transient notice and its expiry
        self._frame: DisplayFrame | None = None
        self._next: DisplayFrame | None = None
        self._surface: pygame.Surface | None = None
        self._panel: tuple[pygame.Surface, int] | None = None  # the scaled panel, its first slot
        self._panel_key: tuple[Any, ...] | None = None
        self._base: tuple[float, float] | None = None  # (wall time, media time) of the clock
        self.generation = 0
        self.running = False

    # -- set-up -----------------------------------------------------------------------------
    def open(self) -> None:
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(f"streamspec - {self.title}")
        self.screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self._windowed = self.size
        self.font = pygame.font.Font(None, 20)
        self.small = pygame.font.Font(None, 17)
        self.big = pygame.font.Font(None, 28)
        self._resized(*self.screen.get_size())

    def _resized(self, w: int, h: int) -> None:
        layout = self.model.resize(w, h)
        self.pipeline.display_size = (layout.video.w, layout.video.h)
        self._panel_key = None

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> str:
        """Run until the user quits (or the film ends with ``exit_at_end``)."""
        clock = pygame.time.Clock()
        self.running = True
        reason = "quit"
        while self.running:
            for event in pygame.event.get():
                r = self.handle(event)
                if r:
                    reason = r
                    self.running = False
            self._pull_events()
            self._advance()
            self.model.stats.frames_skipped_live = self.pipeline.dropped
            self.draw()
            pygame.display.flip()
            self.model.presented()
            if self.on_tick is not None:
                self.on_tick(self)
            if (
                self.model.ended
                and self.exit_at_end
                and self._next is None
                and self.pipeline.frames.empty()
            ):
                reason = "ended"
                self.running = False
            clock.tick(self.fps)
        return reason

    def handle(self, event: pygame.event.Event) -> str | None:
        """React to one pygame event; returns a reason to stop, if any."""
        m = self.model
        if event.type == pygame.QUIT:
            return "closed"
        if event.type in (pygame.VIDEORESIZE, pygame.WINDOWRESIZED, pygame.WINDOWSIZECHANGED):
            self._resized(*self.screen.get_size())
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_q, pygame.K_ESCAPE):
                if key == pygame.K_ESCAPE and m.show_help:
                    m.show_help = False
                    return None
                return "quit"
            if key == pygame.K_SPACE:
                self.toggle_pause()
            elif key == pygame.K_LEFT:
                self.seek(m.playhead - 10.0)
            elif key == pygame.K_RIGHT:
                self.seek(m.playhead + 10.0)
            elif key == pygame.K_h:
                m.show_help = not m.show_help
            elif key == pygame.K_f:
                self.toggle_fullscreen()
            elif key == pygame.K_s and self.on_snapshot is not None:
                self.notify(f"saved {self.on_snapshot()}")
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                m.zoom(2.0)
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                m.zoom(0.5)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            t = m.click_time(*event.pos)
            if t is not None:
                self.seek(t)
        elif event.type == pygame.MOUSEMOTION:
            m.hover = event.pos
        elif event.type == pygame.WINDOWLEAVE:
            m.hover = None
        return None

    def toggle_fullscreen(self) -> None:
        """Fullscreen on/off; falls back to a new window mode where toggling is unsupported."""
        full = bool(self.screen.get_flags() & pygame.FULLSCREEN)
        try:
            pygame.display.toggle_fullscreen()
        except pygame.error:
            try:
                if full:
                    self.screen = pygame.display.set_mode(self._windowed, pygame.RESIZABLE)
                else:
                    self._windowed = self.screen.get_size()
                    self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
            except pygame.error as exc:
                self.notify(f"fullscreen is not available here ({exc})")
                return
        screen = pygame.display.get_surface()
        assert screen is not None  # None only before a display mode is set
        self.screen = screen
        self._resized(*self.screen.get_size())

    def notify(self, text: str, seconds: float = 3.0) -> None:
        self.message = (text, time.monotonic() + seconds)

    def toggle_pause(self) -> None:
        m = self.model
        m.paused = not m.paused
        self._base = None  # the clock restarts from the picture on screen

    def seek(self, t: float) -> None:
        """Seek a file to ``t`` (clamped); live sources cannot seek."""
        m = self.model
        if m.live:
            self.notify("a live source cannot seek")
            return
        start = m.grid.start
        end = m.duration if m.duration is not None else t
        t = min(max(t, start), max(end - 0.05, start))
        self.generation = self.pipeline.seek(t)
        self._next = None
        self._base = None
        m.seeked(t)
        m.ended = False

    # -- playback ---------------------------------------------------------------------------
    def _pull_events(self) -> None:
        while True:
            try:
                ev = self.pipeline.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(ev, StripReady):
                self.model.add_strip(ev.strip, ev.quantize_ms)
            elif isinstance(ev, Ended):
                if ev.generation == self.generation:
                    self.model.ended = True
            elif isinstance(ev, Failed):
                self.model.error = ev.message
                self.model.ended = True

    def _take(self) -> DisplayFrame | None:
        """The next display frame of the current generation, without waiting."""
        while self._next is None:
            try:
                f = self.pipeline.frames.get_nowait()
            except queue.Empty:
                return None
            self.model.frame_decoded()
            if f.generation == self.generation:
                self._next = f
        return self._next

    def _show(self, f: DisplayFrame) -> None:
        self._frame = f
        self._surface = None
        for slot in f.samples:
            self.model.sample_shown(slot)
        self.model.frame_shown(f.time)

    def _advance(self) -> None:
        """Pick the picture for now: paced by timestamps (files) or newest (live)."""
        m = self.model
        if m.live:
            newest = None
            while (f := self._take()) is not None:
                if newest is not None:
                    m.frames_dropped(1)
                newest = f
                self._next = None
            if newest is not None and not m.paused:
                self._show(newest)
            return
        if m.paused:
            return
        now = time.monotonic()
        f = self._take()
        if f is None:
            # The decoder is behind: hold the clock just past the picture we have, so the
            # frames that arrive next are shown rather than dropped as late.
            if self._frame is not None and self._base is not None:
                held = self._frame.time + 0.1
                if self._base[1] + (now - self._base[0]) > held:
                    self._base = (now, held)
            return
        if self._base is None:
            self._base = (now, f.time)
            self._next = None
            self._show(f)
            return
        media = self._base[1] + (now - self._base[0])
        shown = None
        while f is not None and f.time <= media + 1e-3:
            if shown is not None:
                m.frames_dropped(1)  # drawing fell behind: skip the stale picture
            shown = f
            self._next = None
            f = self._take()
        if shown is not None:
            self._show(shown)

    # -- drawing ------------------------------------------------------------------------------
    def draw(self) -> None:
        m = self.model
        L = m.layout
        self.screen.fill(BG)
        if self._frame is not None:
            if self._surface is None:
                rgb = self._frame.rgb
                surf = pygame.image.frombuffer(rgb.data, (rgb.shape[1], rgb.shape[0]), "RGB")
                if surf.get_size() != (L.video.w, L.video.h):
                    surf = pygame.transform.scale(surf, (L.video.w, L.video.h))
                self._surface = surf
            self.screen.blit(self._surface, (L.video.x, L.video.y))
        self._draw_panel()
        self._draw_axis()
        hud = self.font.render(m.hud_text(), True, ERROR if m.error else TEXT)
        self.screen.blit(hud, (8, L.hud.y + (L.hud.h - hud.get_height()) // 2))
        if m.error:
            self._banner(f"error: {m.error} - the spectrum so far will be saved")
        elif self.message is not None and time.monotonic() < self.message[1]:
            self._banner(self.message[0])
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
                rgba = np.zeros((p.h, cols.shape[1], 4), np.uint8)
                rgba[:, :, :3] = cols
                rgba[:, :, 3] = np.where(filled, 255, 0)[None, :]
                surf = pygame.image.frombuffer(rgba.tobytes(), (cols.shape[1], p.h), "RGBA")
                w = cols.shape[1] * m.pps
                self._panel = (pygame.transform.scale(surf, (w, p.h)), first)
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

    def close(self) -> None:
        pygame.display.quit()
