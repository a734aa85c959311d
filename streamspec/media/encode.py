"""H.264/AAC movie encoding: RGB pictures and PCM sound in, a movie file out.

:class:`MovieWriter` converts each picture to BT.709 YUV 4:2:0 and encodes it with
libx264, and resamples and encodes the sound as AAC, interleaved so the sound runs at
most ``AUDIO_LEAD`` ahead of the picture. It works in the caller's thread and writes
where it is told; :class:`streamspec.live.recorder.Recorder` gives it a thread of its own
and a temp file renamed into place. Sound travels as :class:`Pcm` blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AUDIO_LEAD",
    "MOVIE_FORMATS",
    "AudioSpec",
    "EncodeError",
    "MovieWriter",
    "Pcm",
    "aac_spec",
    "silence_like",
]

# Extension -> FFmpeg muxer. MP4 is the one that plays everywhere.
MOVIE_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
# How far the sound runs ahead of the picture in the file (s): keeps the muxer's
# interleaving buffer small whatever the film's length.
AUDIO_LEAD = 0.5
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_AUDIO_DTYPES = {"u8": "u1", "s16": "<i2", "s32": "<i4", "s64": "<i8", "flt": "<f4", "dbl": "<f8"}


class EncodeError(Exception):
    """The encoder or the muxer failed (a full disk, an unwritable file ...)."""


@dataclass(frozen=True)
class AudioSpec:
    """The sound track's sample rate and channel layout (AAC)."""

    rate: int = 48_000
    layout: str = "stereo"


def aac_spec(rate: int | None, channels: int | None) -> AudioSpec:
    """An AAC track for a source's sound: its rate if AAC has it (else 48 kHz), mono or
    stereo (more channels are downmixed: what every player plays)."""
    r = rate if rate in _AAC_RATES else 48_000
    return AudioSpec(int(r), "mono" if channels == 1 else "stereo")


@dataclass(frozen=True)
class Pcm:
    """A block of sound: ``data`` as FFmpeg lays out sample format ``format`` (planar:
    one row per channel; packed: one row of interleaved samples), in channel layout
    ``layout`` (``"stereo"``, ``"5.1"`` ...) at ``rate`` samples a second."""

    data: NDArray[Any]
    format: str
    layout: str
    rate: int

    @classmethod
    def interleaved(cls, samples: NDArray[Any], rate: int, layout: str) -> Pcm:
        """An (n, channels) array of int16 or float32 samples (other types are taken as
        float32) as a packed block."""
        a = np.ascontiguousarray(samples)
        fmt = "s16" if a.dtype == np.int16 else "flt"
        a = a.astype(np.int16 if fmt == "s16" else np.float32, copy=False)
        return cls(a.reshape(1, -1), fmt, layout, int(rate))

    @classmethod
    def from_frame(cls, frame: Any) -> Pcm:
        """A decoded PyAV audio frame's samples."""
        return cls(frame.to_ndarray(), frame.format.name, frame.layout.name, frame.sample_rate)

    @property
    def planar(self) -> bool:
        return self.format.endswith("p")

    @property
    def channels(self) -> int:
        return len(av.AudioLayout(self.layout).channels)

    @property
    def samples(self) -> int:
        """Samples per channel."""
        n = self.data.shape[1]
        return int(n if self.planar else n // self.channels)

    def cut(self, a: int, b: int) -> Pcm:
        """Samples ``a`` to ``b`` (per channel)."""
        ch = 1 if self.planar else self.channels
        data = np.ascontiguousarray(self.data[:, a * ch : b * ch])
        return Pcm(data, self.format, self.layout, self.rate)

    def frame(self) -> Any:
        """The block as a PyAV audio frame (for the resampler and the encoder)."""
        out = av.AudioFrame.from_ndarray(self.data, format=self.format, layout=self.layout)
        out.sample_rate = self.rate
        return out


def silence_like(like: Pcm, n: int) -> Pcm:
    """``n`` samples of silence in the format, layout and rate of ``like``."""
    ch = len(av.AudioLayout(like.layout).channels)
    dtype = np.dtype(_AUDIO_DTYPES[like.format.rstrip("p")])
    shape = (ch, n) if like.planar else (1, n * ch)
    return Pcm(np.zeros(shape, dtype), like.format, like.layout, like.rate)


class MovieWriter:
    """Encode pictures (and sound) to ``path`` in the muxer ``format`` at ``fps``.

    ``size`` (w, h) must be even. ``audio`` declares a sound track: blocks arrive by
    :meth:`add_sound`, or are pulled from ``feed`` (starting at the movie's time 0) as
    the picture advances. ``preset``/``crf`` are x264's. :meth:`finish` flushes the
    encoders; :meth:`close` closes the file. Every PyAV failure is an
    :class:`EncodeError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: str,
        size: tuple[int, int],
        fps: Fraction,
        *,
        audio: AudioSpec | None = None,
        feed: Iterator[Pcm] | None = None,
        preset: str = "superfast",
        crf: int = 20,
    ) -> None:
        w, h = size
        self.size = size
        self.fps = fps
        self.frames = 0  # frames encoded so far (repeats included)
        self._audio_limit: float | None = None  # samples: no sound past the picture's end
        opts = {"movflags": "+faststart"} if format in ("mp4", "mov") else {}
        try:
            self._out = av.open(os.fspath(path), "w", format=format, options=opts)
        except av.error.FFmpegError as exc:
            raise EncodeError(str(exc)) from exc
        try:
            v = self._out.add_stream("libx264", rate=fps)
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
        except BaseException as exc:
            self.close(quiet=True)
            if isinstance(exc, av.error.FFmpegError):
                raise EncodeError(str(exc)) from exc
            raise
        self._feed = feed if audio is not None else None
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._inputs: dict[str, Any] = {}

    def add_picture(self, rgb: NDArray[np.uint8], repeat: int = 1, fmt: str = "rgb24") -> None:
        """Encode one (h, w, channels) picture in FFmpeg pixel format ``fmt``, shown for
        ``repeat`` frames (the feed's sound up to each goes first)."""
        try:
            self._encode_picture(rgb, repeat, fmt)
        except av.error.FFmpegError as exc:
            raise EncodeError(str(exc)) from exc

    def add_sound(self, block: Pcm, at: float | None = None) -> None:
        """Encode a block of sound. Without ``at`` it follows the previous block; ``at``
        (s of the movie) places it: a gap before it (a pause) becomes silence, a block
        wholly before the sound so far is dropped."""
        try:
            self._encode_sound(block, at)
        except av.error.FFmpegError as exc:
            raise EncodeError(str(exc)) from exc

    def finish(self) -> None:
        """The picture's end: sound up to it (not beyond), then flush both encoders."""
        try:
            self._finish()
        except av.error.FFmpegError as exc:
            raise EncodeError(str(exc)) from exc

    def close(self, quiet: bool = False) -> None:
        """Close the file (``quiet``: whatever fails, as when it is thrown away)."""
        try:
            self._out.close()
        except Exception as exc:
            if quiet:
                return
            if isinstance(exc, av.error.FFmpegError):
                raise EncodeError(str(exc)) from exc
            raise

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
            self._pull_sound((self.frames + 1) / self.fps + AUDIO_LEAD)
            yuv.pts = self.frames
            yuv.time_base = 1 / self.fps
            self._out.mux(self._video.encode(yuv))
            self.frames += 1

    def _encode_sound(self, block: Pcm, at: float | None = None) -> None:
        rate = self._audio.rate
        if at is not None:
            gap = at * rate - self._audio_in  # in the track's samples
            if gap >= 1024:  # a pause (or a late start): silence keeps the clock
                self._resample(silence_like(block, round(gap * block.rate / rate)))
            elif gap <= -block.samples * rate / block.rate:
                return  # wholly in the past
        self._resample(block)

    def _resample(self, block: Pcm) -> None:
        frame = block.frame()
        self._audio_in += frame.samples * self._audio.rate / frame.sample_rate
        for out in self._resampler.resample(frame):
            self._write_sound(out)

    def _write_sound(self, frame: Any) -> None:
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
        if self._audio is not None:
            end = float(self.frames / self.fps)
            self._audio_limit = end * self._audio.rate
            self._pull_sound(end)
            # What the resampler still holds, then the encoder's tail.
            for out in self._resampler.resample(None):
                self._write_sound(out)
            self._out.mux(self._audio.encode(None))
        self._out.mux(self._video.encode(None))
