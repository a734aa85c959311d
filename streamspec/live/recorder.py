"""An H.264/AAC movie writer in a thread of its own, shared by ``streamspec video`` (the
offline render of the live view) and ``play --record`` (the session as watched).

The caller hands over RGB pictures (and, optionally, sound); a worker thread converts
them to BT.709 YUV 4:2:0 and encodes them with libx264 (PyAV releases the GIL while
encoding, so this overlaps with decoding and drawing). The movie is written to a temp
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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from .._io import check_writable, make_temp
from ..errors import OutputError

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

# Extension -> FFmpeg muxer. MP4 is the one that plays everywhere.
MOVIE_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
# How far the sound runs ahead of the picture in the file (s): keeps the muxer's
# interleaving buffer small whatever the film's length.
_AUDIO_LEAD = 0.5


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


@dataclass(frozen=True)
class AudioSpec:
    """The sound track's sample rate and channel layout (AAC)."""

    rate: int = 48_000
    layout: str = "stereo"


_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def aac_spec(rate: int | None, channels: int | None) -> AudioSpec:
    """An AAC track for a source's sound: its rate if AAC has it (else 48 kHz), mono or
    stereo (more channels are downmixed: what every player plays)."""
    r = rate if rate in _AAC_RATES else 48_000
    return AudioSpec(int(r), "mono" if channels == 1 else "stereo")


_STOP = object()


class Recorder:
    """Encode RGB frames (and sound) to ``path`` at a constant ``fps``.

    ``size`` (w, h) must be even. ``audio`` declares a sound track (sound arrives by
    :meth:`add_audio`, or is pulled from ``audio_feed``, an iterator of ``av.AudioFrame``
    starting at the movie's time 0, as the picture advances). ``preset``/``crf`` are
    x264's. Use as a context manager, or call :meth:`close` (keep) / :meth:`abort`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        size: tuple[int, int],
        fps: float | Fraction,
        *,
        audio: AudioSpec | None = None,
        audio_feed: Iterator[av.AudioFrame] | None = None,
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
        self.frames = 0  # frames encoded so far (repeats included)
        self._queued = 0  # frames handed over so far
        self._audio_limit: float | None = None  # samples: no sound past the picture's end
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closed = False
        fd, tmp = make_temp(self.path)  # named as ours: cleaned if we are killed
        os.close(fd)
        self._tmp = tmp
        try:
            fmt = MOVIE_FORMATS[self.path.suffix.lower()]
            opts = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
            self._out = av.open(tmp, "w", format=fmt, options=opts)
            v = self._out.add_stream("libx264", rate=self.fps)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            v.options = {"preset": preset, "crf": str(crf)}
            cc = v.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1
            self._video = v
            self._audio: Any = None
            self._resampler: Any = None
            self._audio_samples = 0  # written to the track so far
            self._audio_in = 0.0  # handed to the resampler so far (the track's samples)
            if audio is not None:
                a = self._out.add_stream("aac", rate=audio.rate)
                a.layout = audio.layout
                self._audio = a
                self._resampler = av.AudioResampler(
                    format="fltp", layout=audio.layout, rate=audio.rate, frame_size=1024
                )
            self.audio_spec = audio
            self._feed = audio_feed if audio is not None else None
        except BaseException:
            self._remove()
            raise
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._inputs: dict[str, av.VideoFrame] = {}
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
        samples: av.AudioFrame | NDArray[Any],
        rate: int | None = None,
        at: float | None = None,
    ) -> None:
        """Queue a chunk of sound: an ``av.AudioFrame``, or an (n, channels) array of
        int16 or float32 samples at ``rate`` (default: the track's) in the track's
        layout. Needs ``audio`` at construction. Without ``at`` it follows the previous
        chunk; ``at`` (s of the movie) places it: a gap before it (a pause) becomes
        silence, a chunk wholly before the sound so far is dropped."""
        self._check()
        if self.audio_spec is None:
            raise ValueError("this recorder has no sound track (pass audio=AudioSpec(...))")
        if not isinstance(samples, av.AudioFrame):
            a = np.ascontiguousarray(samples)
            fmt = "s16" if a.dtype == np.int16 else "flt"
            a = a.astype(np.int16 if fmt == "s16" else np.float32, copy=False)
            frame = av.AudioFrame.from_ndarray(
                a.reshape(1, -1), format=fmt, layout=self.audio_spec.layout
            )
            frame.sample_rate = rate or self.audio_spec.rate
            samples = frame
        self._put(("a", samples, at))

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
                self._out.close()
                self._remove()
                return None
            self._finish()
            self._out.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)
            os.replace(self._tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._out.close()
            self._remove()
            if isinstance(exc, (av.error.FFmpegError, OSError)) and not isinstance(
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
        with contextlib.suppress(Exception):
            self._out.close()
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
                    self._encode_picture(item[1], item[2], item[3])
                else:
                    self._encode_sound(item[1], item[2])
            except BaseException as exc:  # handed to the caller at its next call
                self._error = exc

    def _encode_picture(self, rgb: NDArray[np.uint8], repeat: int, fmt: str) -> None:
        w, h = self.size
        frame = self._inputs.get(fmt)
        if frame is None:  # one input frame per format, filled in place: from_ndarray's
            frame = self._inputs[fmt] = av.VideoFrame(w, h, fmt)  # copy costs 7x more
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(h, plane.line_size)
        rows[:, : rgb.shape[1] * rgb.shape[2]] = rgb.reshape(h, -1)
        yuv = self._reformatter.reformat(
            frame, w, h, "yuv420p", dst_colorspace=1, dst_color_range=1
        )
        for _ in range(repeat):
            self._pull_sound((self.frames + 1) / self.fps + _AUDIO_LEAD)
            yuv.pts = self.frames
            yuv.time_base = 1 / self.fps
            self._out.mux(self._video.encode(yuv))
            self.frames += 1

    def _encode_sound(self, frame: av.AudioFrame, at: float | None = None) -> None:
        rate = self._audio.rate
        if at is not None:
            gap = at * rate - self._audio_in  # in the track's samples
            if gap >= 1024:  # a pause (or a late start): silence keeps the clock
                self._resample(silence_like(frame, round(gap * frame.sample_rate / rate)))
            elif gap <= -frame.samples * rate / frame.sample_rate:
                return  # wholly in the past
        self._resample(frame)

    def _resample(self, frame: av.AudioFrame) -> None:
        frame.pts = None
        self._audio_in += frame.samples * self._audio.rate / frame.sample_rate
        for out in self._resampler.resample(frame):
            self._write_sound(out)

    def _write_sound(self, frame: av.AudioFrame) -> None:
        if self._audio_limit is not None and self._audio_samples >= self._audio_limit:
            return
        frame.pts = self._audio_samples
        frame.time_base = Fraction(1, self._audio.rate)
        self._audio_samples += frame.samples
        self._out.mux(self._audio.encode(frame))

    def _pull_sound(self, until: float) -> None:
        """Encode sound from the feed up to ``until`` seconds of the movie."""
        if self._feed is None:
            return
        rate = self._audio.rate
        while self._audio_samples < until * rate:
            chunk = next(self._feed, None)
            if chunk is None:
                self._feed = None
                return
            self._encode_sound(chunk)

    def _finish(self) -> None:
        """The picture's end: sound up to it (not beyond), then flush both encoders."""
        if self._audio is not None:
            end = float(self.frames / self.fps)
            self._audio_limit = end * self._audio.rate
            self._pull_sound(end)
            # What the resampler still holds, then the encoder's tail.
            for out in self._resampler.resample(None):
                self._write_sound(out)
            self._out.mux(self._audio.encode(None))
        self._out.mux(self._video.encode(None))


class _AbortedError(Exception):
    def __str__(self) -> str:
        return "recording aborted"


def surface_pixels(surface: Any) -> tuple[NDArray[np.uint8], str]:
    """A copy of a pygame surface's pixels and their FFmpeg pixel format, straight from
    its memory where the layout is one FFmpeg knows (8x faster than ``tobytes``)."""
    from ._pygame import pygame

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


def silence_like(like: av.AudioFrame, n: int) -> av.AudioFrame:
    """``n`` samples of silence in the format, layout and rate of ``like``."""
    fmt = like.format
    ch = len(like.layout.channels)
    dtype = np.dtype(_AUDIO_DTYPES[fmt.name.rstrip("p")])
    shape = (ch, n) if fmt.is_planar else (1, n * ch)
    out = av.AudioFrame.from_ndarray(
        np.zeros(shape, dtype), format=fmt.name, layout=like.layout.name
    )
    out.sample_rate = like.sample_rate
    return out


_AUDIO_DTYPES = {"u8": "u1", "s16": "<i2", "s32": "<i4", "s64": "<i8", "flt": "<f4", "dbl": "<f8"}


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
        from ._pygame import pygame

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
        samples: av.AudioFrame | NDArray[Any],
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
