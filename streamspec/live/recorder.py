"""An H.264/AAC movie writer in a thread of its own, shared by ``streamspec video`` (the
offline render of the live view) and ``play --record`` (the session as watched).

The caller hands over RGB pictures (and, optionally, sound); a worker thread hands them
to :class:`streamspec.media.encode.MovieWriter`, which converts them to BT.709 YUV
4:2:0 and encodes them with libx264 (PyAV releases the GIL while encoding, so this
overlaps with decoding and drawing). The movie is written to a temp
file beside the output and renamed into place by :meth:`Recorder.close`: a reader sees a
complete, playable file (moov written, ``+faststart``) or nothing.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import sys
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core._io import check_writable, make_temp
from streamspec.core.errors import OutputError
from streamspec.media.encode import (
    MOVIE_FORMATS,
    AudioSpec,
    EncodeError,
    MovieWriter,
    Pcm,
    aac_spec,
    silence_like,
)

__all__ = [
    "MOVIE_FORMATS",
    "AudioSpec",
    "Recorder",
    "ScreenRecorder",
    "aac_spec",
    "check_movie_output",
    "even_size",
    "silence_like",
    "surface_pixels",
]


def even_size(w: int, h: int) -> tuple[int, int]:
    """The largest even (w, h) not above the given one (4:2:0 needs even sides)."""
    return max(2, w - w % 2), max(2, h - h % 2)


def check_movie_output(path: str | os.PathLike[str]) -> Path:
    """One-line :class:`OutputError` for an extension we do not write or an unwritable
    place; nothing is created."""
    p = Path(path)
    if p.suffix.lower() not in MOVIE_FORMATS:
        kinds = ", ".join(MOVIE_FORMATS)
        raise OutputError(
            f"output {str(p)!r}: a movie must end in {kinds} (got {p.suffix or 'no extension'!r})"
        )
    return check_writable(p)


_STOP = object()


class Recorder:
    """Encode RGB frames (and sound) to ``path`` at a constant ``fps``.

    ``size`` (w, h) must be even. ``audio`` declares a sound track (sound arrives by
    :meth:`add_audio`, or is pulled from ``audio_feed``, an iterator of
    :class:`~streamspec.media.encode.Pcm` blocks (or PyAV audio frames) starting at
    the movie's time 0, as the picture advances). ``preset``/``crf`` are x264's. Use as
    a context manager, or call :meth:`close` (keep) / :meth:`abort`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        size: tuple[int, int],
        fps: float | Fraction,
        *,
        audio: AudioSpec | None = None,
        audio_feed: Iterator[Pcm | Any] | None = None,
        preset: str = "superfast",
        crf: int = 20,
        depth: int = 6,
    ) -> None:
        w, h = size
        if w % 2 or h % 2 or w < 2 or h < 2:
            raise ValueError(f"a 4:2:0 movie needs even sides, got {w}x{h}")
        self.path = check_movie_output(path)
        self.size = (w, h)
        self.fps = Fraction(fps).limit_denominator(1001)
        self._queued = 0  # frames handed over so far
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closed = False
        fd, tmp = make_temp(self.path)  # named as ours: cleaned if we are killed
        os.close(fd)
        self._tmp = tmp
        try:
            self._writer = MovieWriter(
                tmp,
                MOVIE_FORMATS[self.path.suffix.lower()],
                (w, h),
                self.fps,
                audio=audio,
                feed=None if audio_feed is None else _as_pcm(audio_feed),
                preset=preset,
                crf=crf,
            )
        except BaseException as exc:
            self._remove()
            if isinstance(exc, EncodeError):
                raise OutputError(f"cannot write {str(self.path)!r}: {exc}") from exc
            raise
        self.audio_spec = audio
        self._thread = threading.Thread(target=self._run, name="streamspec-encode", daemon=True)
        self._thread.start()

    # -- the caller's side --------------------------------------------------------------------
    def add_frame(self, rgb: NDArray[np.uint8], repeat: int = 1, fmt: str = "rgb24") -> None:
        """Queue one (h, w, channels) picture, shown for ``repeat`` frames; ``fmt`` is its
        FFmpeg pixel format (rgb24, bgr24, bgra ...). The array must not change
        afterwards (hand over a copy). Waits while the encoder is behind."""
        self._check()
        if rgb.shape[:2] != (self.size[1], self.size[0]):
            raise ValueError(f"frame is {rgb.shape}, the movie is {self.size[0]}x{self.size[1]}")
        if repeat > 0:
            self._put(("v", rgb, repeat, fmt))

    def offer(self, rgb: NDArray[np.uint8], repeat: int = 1, fmt: str = "rgb24") -> bool:
        """Like :meth:`add_frame` but never waits: False (the picture is dropped) when
        the encoder is behind -- for a window that must not stutter."""
        self._check()
        try:
            self._queue.put_nowait(("v", rgb, repeat, fmt))
        except queue.Full:
            return False
        self._queued += repeat
        return True

    def add_audio(
        self,
        samples: Pcm | NDArray[Any] | Any,
        rate: int | None = None,
        at: float | None = None,
    ) -> None:
        """Queue a chunk of sound: a :class:`~streamspec.media.encode.Pcm` block, a
        PyAV audio frame, or an (n, channels) array of int16 or float32 samples at
        ``rate`` (default: the track's) in the track's layout. Needs ``audio`` at
        construction. Without ``at`` it follows the previous chunk; ``at`` (s of the
        movie) places it: a gap before it (a pause) becomes silence, a chunk wholly
        before the sound so far is dropped."""
        self._check()
        if self.audio_spec is None:
            raise ValueError("this recorder has no sound track (pass audio=AudioSpec(...))")
        if isinstance(samples, np.ndarray):
            block = Pcm.interleaved(samples, rate or self.audio_spec.rate, self.audio_spec.layout)
        elif isinstance(samples, Pcm):
            block = samples
        else:
            block = Pcm.from_frame(samples)
        self._put(("a", block, at))

    @property
    def frames(self) -> int:
        """Frames encoded so far (repeats included)."""
        return self._writer.frames

    @property
    def seconds(self) -> float:
        """Length of the picture queued so far (s)."""
        return float(self._queued / self.fps)

    def close(self) -> Path | None:
        """Finish: flush the encoders, write the index, rename into place. Returns the
        path, or None when no frame was recorded (then nothing is left on disk)."""
        if self._closed:
            return self.path if os.path.exists(self.path) else None
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        try:
            if self._error is not None:
                raise OutputError(f"cannot write {str(self.path)!r}: {self._error}")
            if self.frames == 0:
                self._writer.close()
                self._remove()
                return None
            self._writer.finish()
            self._writer.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)
            os.replace(self._tmp, self.path)
        except BaseException as exc:
            self._writer.close(quiet=True)
            self._remove()
            if isinstance(exc, (EncodeError, OSError)) and not isinstance(
                exc, OutputError
            ):  # a full disk, say: one line for the user
                raise OutputError(f"cannot write {str(self.path)!r}: {exc}") from exc
            raise
        return self.path

    def abort(self) -> None:
        """Stop and leave nothing on disk."""
        if not self._closed:
            self._closed = True
            self._error = self._error or _AbortedError()
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_STOP)
            self._drain_then_stop()
        self._writer.close(quiet=True)
        self._remove()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None or isinstance(exc, KeyboardInterrupt):
            self.close()  # Ctrl-C keeps what is done
        else:
            self.abort()

    def _put(self, item: Any) -> None:
        if item[0] == "v":
            self._queued += item[2]
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                self._check()

    def _check(self) -> None:
        if self._closed:
            raise ValueError("the recorder is closed")
        if self._error is not None:
            raise OutputError(f"cannot write {str(self.path)!r}: {self._error}")

    def _drain_then_stop(self) -> None:
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_STOP)
            self._thread.join(0.1)

    def _remove(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)

    # -- the encoder thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # failed or aborted: swallow the rest
            try:
                if item[0] == "v":
                    self._writer.add_picture(item[1], item[2], item[3])
                else:
                    self._writer.add_sound(item[1], item[2])
            except BaseException as exc:  # handed to the caller at its next call
                self._error = exc


def _as_pcm(blocks: Iterator[Pcm | Any]) -> Iterator[Pcm]:
    """Sound blocks, PyAV audio frames among them taken as blocks (what a feed gave
    before blocks existed)."""
    for block in blocks:
        yield block if isinstance(block, Pcm) else Pcm.from_frame(block)


class _AbortedError(Exception):
    def __str__(self) -> str:
        return "recording aborted"


def surface_pixels(surface: Any) -> tuple[NDArray[np.uint8], str]:
    """A copy of a pygame surface's pixels and their FFmpeg pixel format, straight from
    its memory where the layout is one FFmpeg knows (8x faster than ``tobytes``)."""
    from streamspec.live._pygame import pygame

    w, h = surface.get_size()
    size, masks = surface.get_bytesize(), surface.get_masks()[:3]
    fmt = (
        {
            (3, (0xFF0000, 0xFF00, 0xFF)): "bgr24",
            (3, (0xFF, 0xFF00, 0xFF0000)): "rgb24",
            (4, (0xFF0000, 0xFF00, 0xFF)): "bgra",
            (4, (0xFF, 0xFF00, 0xFF0000)): "rgba",
        }.get((size, masks))
        if sys.byteorder == "little"
        else None
    )
    if fmt is None:
        rgb = pygame.image.tobytes(surface, "RGB")
        return np.frombuffer(rgb, np.uint8).reshape(h, w, 3), "rgb24"
    raw = np.frombuffer(surface.get_buffer().raw, np.uint8).reshape(h, surface.get_pitch())
    return raw[:, : w * size].reshape(h, w, size), fmt


class ScreenRecorder:
    """``play --record``: the window as it is watched, at a constant ``fps``.

    Call it with the screen after each flip: the picture fills the movie frames due by
    the wall clock since the first call (repeated while the window is slower, dropped
    while it is faster), so seeks and pauses play back as they happened. A window
    resized since the start is scaled to the movie's size. Sound can be added with
    :meth:`add_audio` (declare ``audio`` here).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        size: tuple[int, int],
        fps: float = 30.0,
        *,
        audio: AudioSpec | None = None,
        preset: str = "superfast",
        clock: Any = None,
    ) -> None:
        import time

        self.size = even_size(*size)
        self.recorder = Recorder(path, self.size, fps, audio=audio, preset=preset, depth=4)
        self.clock = clock or time.monotonic
        self._t0: float | None = None
        self._handed = 0  # movie frames handed to the encoder

    def __call__(self, surface: Any) -> None:
        from streamspec.live._pygame import pygame

        now = self.clock()
        if self._t0 is None:
            self._t0 = now
        due = math.floor((now - self._t0) * float(self.recorder.fps)) + 1 - self._handed
        if due <= 0:
            return  # the window is faster than the movie: this picture is not needed
        if surface.get_size() != self.size:
            surface = pygame.transform.smoothscale(surface, self.size)
        pixels, fmt = surface_pixels(surface)
        if self.recorder.offer(pixels, due, fmt):
            self._handed += due

    def add_audio(
        self,
        samples: Pcm | NDArray[Any] | Any,
        rate: int | None = None,
        started: float | None = None,
    ) -> None:
        """Sound the window played, which started at ``started`` (this recorder's clock;
        default: now), put at its place in the movie (see :meth:`Recorder.add_audio`):
        a pause between chunks is silence in the movie as it was in the room."""
        when = self.clock() if started is None else started
        if self._t0 is None:
            self._t0 = when
        self.recorder.add_audio(samples, rate, at=max(0.0, when - self._t0))

    def close(self) -> Path | None:
        """Finish the movie (see :meth:`Recorder.close`)."""
        return self.recorder.close()

    def abort(self) -> None:
        self.recorder.abort()
