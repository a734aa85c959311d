"""The pygame window: a thin shell that feeds events to the model and draws it.

Only the live window's modules and the painter draw with pygame. Everything worth
testing about what the window shows (layout, scrolling, hit-testing, reveal timing)
lives in :mod:`streamspec.live.model`. This module holds the window's loop, the pacing
of pictures and the drawing schedule; what keys and the mouse do is in
:mod:`streamspec.live.controls`, and the display beneath (the driver, X11) in
:mod:`streamspec.live.display`.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from streamspec.live._pygame import pygame
from streamspec.live.clock import MediaClock
from streamspec.live.controls import _SOUND_KEYS as _SOUND_KEYS
from streamspec.live.controls import WindowControls
from streamspec.live.display import _X_HANDLER as _X_HANDLER
from streamspec.live.display import display_driver as display_driver
from streamspec.live.display import on_display_lost as on_display_lost
from streamspec.live.display import window_manager_missing as _window_manager_missing  # noqa: F401
from streamspec.live.model import LiveModel, SeekThrottle, fit_window
from streamspec.live.painter import HELP, Painter
from streamspec.live.pipeline import DisplayFrame, Ended, Failed, Pipeline, StripReady
from streamspec.pipeline import _signals

if TYPE_CHECKING:
    from streamspec.live.audio import AudioPlayer

# The names imported "as" themselves, and _window_manager_missing, were defined here
# before the controls and the display helpers got modules of their own: still importable.
__all__ = ["HELP", "LiveWindow", "on_display_lost"]


class LiveWindow(WindowControls):
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

    def _poll_seek(self) -> None:
        """Start the newest coalesced seek once the one in flight has a picture: shown
        while scrubbing (the picture follows the pointer), otherwise skipped for the
        newer one."""
        if self._throttle.queued is not None and not self._scrubbing:
            self._take()
        t = self._throttle.poll()
        if t is not None:
            self._issue(t)

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
