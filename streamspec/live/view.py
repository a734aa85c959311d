"""The pygame window: a thin shell that feeds events to the model and draws it.

Only this module imports pygame. Everything worth testing about what the window shows
(layout, scrolling, hit-testing, reveal timing) lives in :mod:`streamspec.live.model`.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from .clock import MediaClock, next_speed
from .model import LiveModel
from .painter import HELP, Painter
from .pipeline import DisplayFrame, Ended, Failed, Pipeline, StripReady

if TYPE_CHECKING:
    from .audio import AudioPlayer

__all__ = ["HELP", "LiveWindow"]


_SOUND_KEYS = (
    pygame.K_m,
    pygame.K_UP,
    pygame.K_DOWN,
    pygame.K_LEFTBRACKET,
    pygame.K_RIGHTBRACKET,
    pygame.K_BACKSPACE,
)


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
        clock: MediaClock | None = None,
        audio: AudioPlayer | None = None,
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
        # The media clock: the sound's when there is sound (``audio``), else the wall's.
        self.clock = clock or MediaClock()
        self.audio = audio
        self.generation = 0
        self.running = False

    # -- set-up -----------------------------------------------------------------------------
    def open(self) -> None:
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(f"streamspec - {self.title}")
        self.screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self._windowed = self.size
        self.painter = Painter(self.model)
        self._resized(*self.screen.get_size())

    def _resized(self, w: int, h: int) -> None:
        layout = self.model.resize(w, h)
        self.pipeline.display_size = (layout.video.w, layout.video.h)
        self.painter.invalidate()

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
            elif key in _SOUND_KEYS:
                self.sound_key(key)
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

    def sound_key(self, key: int) -> None:
        """M, Up/Down: mute and volume; [ ] and Backspace: the speed."""
        m = self.model
        if key in (pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET, pygame.K_BACKSPACE):
            if m.live:
                self.notify("a live source plays at its own rate")
                return
            step = {pygame.K_LEFTBRACKET: -1, pygame.K_RIGHTBRACKET: 1}.get(key, 0)
            self.clock.set_speed(next_speed(m.speed, step) if step else 1.0)
            m.speed = self.clock.speed
            self.notify(f"speed {m.speed:g}x", 1.5)
            return
        a = self.audio
        if a is None or m.volume is None:
            self.notify("no sound")
            return
        if key == pygame.K_m:
            a.muted = not a.muted
        else:
            a.volume = min(max(a.volume + (10 if key == pygame.K_UP else -10), 0), 150)
            a.muted = False
        m.volume, m.muted = a.volume, a.muted
        self.notify("muted" if a.muted else f"volume {a.volume}%", 1.5)

    def notify(self, text: str, seconds: float = 3.0) -> None:
        self.message = (text, time.monotonic() + seconds)

    def toggle_pause(self) -> None:
        m = self.model
        m.paused = not m.paused
        self.clock.set_paused(m.paused)

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
        self.clock.seek(t)
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
        clock = self.clock
        f = self._take()
        if f is None:
            # The decoder is behind: the video clock waits just past the picture we have
            # (the sound's does not), so the frames that arrive next are shown.
            if self._frame is not None and clock.started:
                clock.hold(self._frame.time + 0.1)
            return
        media = clock.time()
        if media is None:  # the first picture of a run starts the clock (and the sound)
            clock.start(f.time)
            self._next = None
            self._show(f)
            return
        shown = None
        # A picture is drawn and flipped on the next tick: take the one due half a tick on,
        # so it is on screen +-half a tick around its time rather than up to a tick late.
        while f is not None and f.time <= media + 0.5 / self.fps:
            if shown is not None:
                m.frames_dropped(1)  # drawing fell behind: skip the stale picture
            shown = f
            self._next = None
            f = self._take()
        if shown is not None:
            self._show(shown)

    # -- drawing ------------------------------------------------------------------------------
    def draw(self) -> None:
        msg = self.message[0] if self.message and time.monotonic() < self.message[1] else None
        self.painter.draw(self.screen, self._frame, msg)

    def close(self) -> None:
        pygame.display.quit()
