"""The pygame window: a thin shell that feeds events to the model and draws it.

Only this module and the painter draw with pygame. Everything worth testing about what
the window shows (layout, scrolling, hit-testing, reveal timing) lives in
:mod:`streamspec.live.model`.
"""

from __future__ import annotations

import ctypes
import os
import queue
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from streamspec.core.limits import MAX_VOLUME
from streamspec.live._pygame import pygame
from streamspec.live.clock import MediaClock, next_speed
from streamspec.live.model import LiveModel, SeekThrottle, fit_window
from streamspec.live.painter import HELP, Painter
from streamspec.live.pipeline import DisplayFrame, Ended, Failed, Pipeline, StripReady
from streamspec.pipeline import _signals

if TYPE_CHECKING:
    from streamspec.live.audio import AudioPlayer

__all__ = ["HELP", "LiveWindow", "on_display_lost"]

_X_HANDLER: list[Any] = []  # the installed Xlib callback (kept alive) and the one before


def on_display_lost(callback: Callable[[], None] | None) -> None:
    """Run ``callback`` when the X connection is lost (the window destroyed from outside,
    the X server gone) -- Xlib then ends the process, so it must save at once. ``None``
    puts the earlier handler back. Does nothing on other video drivers."""
    try:
        lib = ctypes.CDLL("libX11.so.6")
    except OSError:
        return
    set_handler = lib.XSetIOErrorHandler
    set_handler.restype = ctypes.c_void_p
    set_handler.argtypes = [ctypes.c_void_p]
    if callback is None:
        if _X_HANDLER:
            set_handler(_X_HANDLER[1])
            _X_HANDLER.clear()
        return
    if not pygame.display.get_init() or pygame.display.get_driver() != "x11":
        return

    def handler(display: int | None) -> int:
        callback()
        return 0

    c_handler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(handler)
    previous = set_handler(ctypes.cast(c_handler, ctypes.c_void_p))
    if _X_HANDLER:  # a second install keeps the first one's predecessor
        previous = _X_HANDLER[1]
    _X_HANDLER[:] = [c_handler, previous]


def display_driver() -> str:
    """The video driver SDL settles on here (the display is opened to tell; a driver
    without a screen is closed again, so nothing is left open). What SDL prints on the
    way to a driver without a screen (its failed attempts) is kept off the terminal."""
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as said:
        os.dup2(said.fileno(), 2)
        try:
            pygame.display.init()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        driver = str(pygame.display.get_driver())
        if driver in ("offscreen", "dummy"):
            pygame.display.quit()
        else:  # a real screen: what SDL said may matter
            said.seek(0)
            os.write(2, said.read(64 * 1024))
    return driver


def _window_manager_missing() -> bool:
    """True on an X server without a window manager (no ``_NET_SUPPORTING_WM_CHECK``
    on the root window); False elsewhere, or when it cannot be told."""
    if pygame.display.get_driver() != "x11":
        return False
    try:
        x = ctypes.CDLL("libX11.so.6")
    except OSError:
        return False
    vp, ul = ctypes.c_void_p, ctypes.c_ulong
    x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = vp, [ctypes.c_char_p]
    x.XInternAtom.restype, x.XInternAtom.argtypes = ul, [vp, ctypes.c_char_p, ctypes.c_int]
    x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ul, [vp]
    x.XGetWindowProperty.argtypes = [vp, ul, ul, ctypes.c_long, ctypes.c_long, ctypes.c_int]
    x.XGetWindowProperty.argtypes += [ul, vp, vp, vp, vp, vp]
    x.XFree.argtypes, x.XCloseDisplay.argtypes = [vp], [vp]
    display = x.XOpenDisplay(None)
    if not display:
        return False
    try:
        atom = x.XInternAtom(display, b"_NET_SUPPORTING_WM_CHECK", 1)
        if not atom:
            return True  # no window manager ever announced itself on this server
        kind, fmt = ul(), ctypes.c_int()
        items, after, data = ul(), ul(), ctypes.c_void_p()
        ok = x.XGetWindowProperty(
            display,
            x.XDefaultRootWindow(display),
            atom,
            0,
            1,
            0,
            0,  # AnyPropertyType
            ctypes.byref(kind),
            ctypes.byref(fmt),
            ctypes.byref(items),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        if data:
            x.XFree(data)
        return ok == 0 and items.value == 0
    finally:
        x.XCloseDisplay(display)


_SOUND_KEYS = (
    pygame.K_m,
    pygame.K_UP,
    pygame.K_DOWN,
    pygame.K_LEFTBRACKET,
    pygame.K_RIGHTBRACKET,
    pygame.K_BACKSPACE,
)


class LiveWindow:
    """The window. ``run()`` returns why it stopped: "quit", "closed", "ended", or
    "interrupted" / "terminated" (a stop request: Ctrl-C, SIGTERM)."""

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
        on_frame: Callable[[pygame.Surface], None] | None = None,
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
        self.on_frame = on_frame  # gets the screen after each flip (play --record)
        self.size = size
        self.message: tuple[str, float] | None = None  # transient notice and its expiry
        self._frame: DisplayFrame | None = None
        self._next: DisplayFrame | None = None
        # The media clock: the sound's when there is sound (``audio``), else the wall's.
        self.clock = clock or MediaClock()
        self.audio = audio
        self.generation = 0
        self.running = False
        self._throttle = SeekThrottle()
        self._show_pending = False  # paused: show the next picture that arrives
        self._back_before: float | None = None  # stepping back: show the last frame before
        self._held: DisplayFrame | None = None
        self._drag: bool | None = None  # button down on the spectrum: the pause state
        self._scrubbing = False  # ... and the pointer moved since
        self._pan_from: int | None = None  # right-button drag (pan): the last x
        self._click: tuple[float, int, int] | None = None  # the last left click (time, x, y)

    # -- set-up -----------------------------------------------------------------------------
    def open(self) -> None:
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(f"{self.title} - streamspec")
        if pygame.display.get_driver() == "x11":
            # X11's own shared-memory framebuffer: SDL's default, an OpenGL texture, runs
            # on Mesa's llvmpipe without a GPU (Xvfb, VMs): 60-120 ms a present at
            # 1920x1080 on a busy machine against 2-6 ms this way.
            os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
        if pygame.display.get_driver() not in ("dummy", "offscreen"):  # a real screen
            desktop = pygame.display.get_desktop_sizes()
            self.size = fit_window(self.size, desktop[0] if desktop else None)
        self.screen = pygame.display.set_mode(self.size, pygame.RESIZABLE)
        self._windowed: tuple[tuple[int, int], tuple[int, int]] | None = None
        pygame.key.set_repeat(400, 40)  # held keys repeat (seeks are coalesced)
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
            if _signals.requested():  # looked at every frame (at most 1/fps late)
                return _signals.signal_name()
            for event in pygame.event.get():
                r = self.handle(event)
                if r:
                    reason = r
                    self.running = False
            self._pull_events()
            self._poll_seek()
            self._advance()
            self.model.stats.frames_skipped_live = self.pipeline.dropped
            self.draw()
            pygame.display.flip()
            if self.on_frame is not None:
                self.on_frame(self.screen)
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
                if _window_manager_missing():
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

    def _poll_seek(self) -> None:
        """Start the newest coalesced seek once the one in flight has a picture: shown
        while scrubbing (the picture follows the pointer), otherwise skipped for the
        newer one."""
        if self._throttle.queued is not None and not self._scrubbing:
            self._take()
        t = self._throttle.poll()
        if t is not None:
            self._issue(t)

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
                self._throttle.arrived()
        return self._next

    def _show(self, f: DisplayFrame) -> None:
        self._frame = f
        self._show_pending = False
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
            self._advance_paused()
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
                for slot in shown.samples:  # (its samples' moment has come all the same)
                    m.sample_shown(slot)
            shown = f
            self._next = None
            f = self._take()
        if shown is not None:
            self._show(shown)

    def _advance_paused(self) -> None:
        """Paused: show the first picture after a seek or the next for a frame step; a
        step back shows the last picture before the one it started from."""
        if not self._show_pending or (self._throttle.queued is not None and not self._scrubbing):
            return  # (a newer seek waits: the picture of the one in flight is skipped)
        back = self._back_before
        while (f := self._take()) is not None:
            if back is not None and f.time < back - 1e-3:
                self._held, self._next = f, None  # keep looking: a later one may be nearer
                continue
            if back is not None and self._held is not None:
                f = self._held  # the frame after it stays next, for "."
            else:
                self._next = None
            self._back_before = self._held = None
            self._show(f)
            return
        if back is not None and self._held is not None and self.model.ended:
            self._show(self._held)
            self._back_before = self._held = None

    # -- drawing ------------------------------------------------------------------------------
    def draw(self) -> None:
        msg = self.message[0] if self.message and time.monotonic() < self.message[1] else None
        self.painter.draw(self.screen, self._frame, msg)

    def close(self) -> None:
        pygame.display.quit()
