"""The window's controls: what each key, click, drag and wheel turn does.

:class:`WindowControls` is the half of :class:`streamspec.live.view.LiveWindow` that
turns the user's input into the model's changes and the pipeline's seeks (pause, seek,
frame steps, scrubbing, zoom and pan, sound and speed, fullscreen); the window's loop
and its drawing stay in :mod:`streamspec.live.view`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from streamspec.core.limits import MAX_VOLUME
from streamspec.live._pygame import pygame
from streamspec.live.clock import MediaClock, next_speed
from streamspec.live.display import window_manager_missing
from streamspec.live.model import LiveModel, SeekThrottle
from streamspec.live.painter import Painter
from streamspec.live.pipeline import DisplayFrame, Pipeline

if TYPE_CHECKING:
    from streamspec.live.audio import AudioPlayer

__all__ = ["WindowControls"]

_SOUND_KEYS = (
    pygame.K_m,
    pygame.K_UP,
    pygame.K_DOWN,
    pygame.K_LEFTBRACKET,
    pygame.K_RIGHTBRACKET,
    pygame.K_BACKSPACE,
)


class WindowControls:
    """The window's input handling; the window (:class:`~streamspec.live.view.LiveWindow`)
    sets up the state below and runs the loop that feeds events to :meth:`handle`."""

    # The window's state the controls read and change (set in LiveWindow.__init__/open).
    model: LiveModel
    pipeline: Pipeline
    clock: MediaClock
    audio: AudioPlayer | None
    on_snapshot: Callable[[], str] | None
    screen: pygame.Surface
    painter: Painter
    message: tuple[str, float] | None
    generation: int
    _windowed: tuple[tuple[int, int], tuple[int, int]] | None
    _frame: DisplayFrame | None
    _next: DisplayFrame | None
    _throttle: SeekThrottle
    _show_pending: bool
    _back_before: float | None
    _held: DisplayFrame | None
    _drag: bool | None
    _scrubbing: bool
    _pan_from: int | None
    _click: tuple[float, int, int] | None

    # -- the window's size ------------------------------------------------------------------
    def _resized(self, w: int, h: int) -> None:
        layout = self.model.resize(w, h)
        self.pipeline.display_size = (layout.video.w, layout.video.h)
        self.painter.invalidate()

    # -- events ---------------------------------------------------------------------------
    def handle(self, event: pygame.event.Event) -> str | None:
        """React to one pygame event; returns a reason to stop, if any."""
        m = self.model
        if event.type == pygame.QUIT:
            return "closed"
        # The view's own (zoom, pan, fit, marks; a double click) before the player's
        # controls, which take every left click on the spectrum.
        if self._view_event(event) or self._handle_controls(event):
            return None
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
            elif key in _SOUND_KEYS:
                self.sound_key(key)
            elif key == pygame.K_h:
                m.show_help = not m.show_help
            elif key == pygame.K_f:
                self.toggle_fullscreen()
            elif key == pygame.K_s and self.on_snapshot is not None:
                self.notify(self.on_snapshot())
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                m.zoom(2.0)
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                m.zoom(0.5)
        elif event.type == pygame.MOUSEMOTION:
            m.hover = event.pos
        elif event.type == pygame.WINDOWLEAVE:
            m.hover = None
        return None

    @property
    def fullscreen(self) -> bool:
        return self._windowed is not None

    def _view_event(self, event: pygame.event.Event) -> bool:
        """Zoom, pan, fit and the chapters/segments key; True if the event was one."""
        m = self.model
        if event.type == pygame.MOUSEWHEEL:
            x, y = m.hover or pygame.mouse.get_pos()
            steps = getattr(event, "precise_y", event.y)
            if event.x:  # a sideways wheel: right goes forward in time
                m.pan(-40.0 * getattr(event, "precise_x", event.x))
            elif pygame.key.get_mods() & pygame.KMOD_SHIFT:  # up goes back, as scrolling left
                m.pan(40.0 * steps)
            elif m.layout.panel.contains(x, y) or m.layout.axis.contains(x, y):
                m.zoom(1.25**steps, x)
            return True
        if event.type == pygame.KEYDOWN:
            ctrl = event.mod & pygame.KMOD_CTRL
            if (event.key == pygame.K_0 and ctrl) or event.key == pygame.K_z:
                m.fit_view()
            elif event.key == pygame.K_c and not ctrl:
                m.toggle_marks()
            else:
                return False
            return True
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self._pan_from = event.pos[0]
            return True
        if event.type == pygame.MOUSEBUTTONUP and event.button == 3:
            self._pan_from = None
            return True
        if event.type == pygame.MOUSEMOTION and self._pan_from is not None:
            m.pan(event.pos[0] - self._pan_from)
            self._pan_from = event.pos[0]
            m.hover = event.pos
            return True
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            # A double click on the spectrum fits the film (its first click seeks).
            now, (x, y) = time.monotonic(), event.pos
            last, self._click = self._click, (now, x, y)
            p = m.layout.panel
            if p.contains(x, y) and last and now - last[0] < 0.4 and abs(x - last[1]) < 6:
                self._click = None
                m.fit_view()
                return True
        return False

    def toggle_fullscreen(self) -> None:
        """Fullscreen on/off, through SDL's window (the same window, not a new one);
        back to windowed, the earlier size and position return."""
        with warnings.catch_warnings():  # the display module's own window, on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            win = pygame.Window.from_display_module()
        try:
            if self._windowed is None:
                self._windowed = (win.size, win.position)
                if window_manager_missing():
                    # Fullscreen is the window manager's job; with none (a bare X server)
                    # SDL's request changes nothing on screen: cover the screen ourselves.
                    desktop = pygame.display.get_desktop_sizes()[0]
                    win.borderless = True
                    win.position = (0, 0)
                    win.size = desktop
                else:
                    win.set_fullscreen(desktop=True)
            else:
                size, pos = self._windowed
                self._windowed = None
                win.set_windowed()
                win.borderless = False
                win.size = size
                win.position = pos
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
            a.volume = min(max(a.volume + (10 if key == pygame.K_UP else -10), 0), MAX_VOLUME)
            a.muted = False
        m.volume, m.muted = a.volume, a.muted
        self.notify("muted" if a.muted else f"volume {a.volume}%", 1.5)

    def notify(self, text: str, seconds: float = 3.0) -> None:
        self.message = (text, time.monotonic() + seconds)

    # -- playback commands --------------------------------------------------------------
    def toggle_pause(self) -> None:
        """Pause / resume; at the end of a file, play it again from the start."""
        m = self.model
        if m.ended and not m.live and m.error is None:
            self.seek(m.grid.start)
            m.paused = False
            self.clock.set_paused(False)
            return
        m.paused = not m.paused
        self.clock.set_paused(m.paused)

    def seek(self, t: float) -> None:
        """Seek a file to ``t`` (clamped); live sources cannot seek. Seeks are coalesced
        (one in flight); paused, the new picture is shown as soon as it is decoded."""
        m = self.model
        if m.live:
            self.notify("a live source cannot seek")
            return
        t = m.clamp_time(t)
        m.seeked(t)
        m.ended = False
        self._show_pending = True
        self._back_before = self._held = None
        go = self._throttle.request(t)
        if go is not None:
            self._issue(go)

    def _issue(self, t: float) -> None:
        self.generation = self.pipeline.seek(t)
        self._next = None
        self.clock.seek(t)
        self._show_pending = True  # paused: its first picture is shown
        self._held = None  # a step back looks at this generation's pictures only

    def step(self, direction: int) -> None:
        """One frame forward (the next picture) or back (the previous one, exactly:
        decoded again from the keyframe before it); pauses first."""
        m = self.model
        if m.live:
            self.notify("a live source cannot step")
            return
        m.paused = True
        self.clock.set_paused(True)
        if direction > 0:
            self._show_pending = True
            return
        now = self._frame.time if self._frame is not None else m.playhead
        if now <= m.grid.start + 1e-3:
            return
        self.seek(now - 3 * m.frame_time)
        self._back_before = now
        m.playhead = now  # until the earlier picture is on screen

    def _handle_controls(self, event: pygame.event.Event) -> bool:
        """Seek keys, frame steps and scrubbing; True if the event was used."""
        m = self.model
        if event.type == pygame.KEYDOWN:
            key, mod = event.key, getattr(event, "mod", 0)
            big = 60.0 if mod & pygame.KMOD_SHIFT else 10.0
            if key == pygame.K_LEFT:
                self.seek(m.playhead - big)
            elif key == pygame.K_RIGHT:
                self.seek(m.playhead + big)
            elif key == pygame.K_HOME:
                self.seek(m.grid.start)
            elif key == pygame.K_END:
                self.seek(m.last_moment)
            elif pygame.K_0 <= key <= pygame.K_9 and not mod & (pygame.KMOD_CTRL | pygame.KMOD_ALT):
                self.seek(m.time_at_fraction((key - pygame.K_0) / 10))
            elif key == pygame.K_COMMA:
                self.step(-1)
            elif key == pygame.K_PERIOD:
                self.step(1)
            else:
                return False
            return True
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            t = m.click_time(*event.pos)
            if t is None:
                return False
            if m.live:
                self.seek(t)  # says why not
                return True
            self._drag = m.paused
            m.paused = True  # the picture follows the pointer; release resumes
            self.clock.set_paused(True)
            self.seek(t)
            return True
        if event.type == pygame.MOUSEMOTION and self._drag is not None:
            buttons = getattr(event, "buttons", (1,))
            if not buttons[0]:  # released where we did not see it: the drag is over
                self._end_drag()
                return False
            m.hover = event.pos
            if abs(m.time_at_x(event.pos[0]) - m.playhead) > 1e-3:
                self._scrubbing = True
                self.seek(m.time_at_x(event.pos[0]))
            return True
        if event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self._drag is not None:
            self._end_drag()
            return True
        return False

    def _end_drag(self) -> None:
        if self._drag is not None:
            self.model.paused, self._drag = self._drag, None
        self._scrubbing = False
        self.clock.set_paused(self.model.paused)
