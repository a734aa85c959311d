"""A film's sound, decoded: the track for ``play`` (packed float PCM at the device's rate
and channels, tempo changed by FFmpeg's ``atempo``) and for ``streamspec video`` (the
first track, cut to the movie's range, as :class:`~.encode.Pcm` blocks).

Playback itself (the SDL device, its clock) is :mod:`streamspec.live.audio`'s.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from streamspec.core.options import OptionError
from streamspec.core.timefmt import describe_time
from streamspec.media.encode import AudioSpec, Pcm, aac_spec, silence_like
from streamspec.media.probe import is_cover_art

__all__ = ["LAYOUTS", "SoundError", "SoundReader", "Tempo", "audio_track", "film_sound"]

GAP = 0.03  # a jump in the audio's timestamps larger than this is a gap (or an overlap)
LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
_OPEN_TIMEOUT = 10.0  # s


class SoundError(Exception):
    """The sound cannot be opened or decoded."""


def audio_track(url: str, track: int | None) -> int | None:
    """The container index of audio track ``track`` (1-based; None: the first) of the
    file at ``url``, or None when it has no audio. Raises OptionError for a track it
    does not have."""
    try:
        # (a stream is read while its file is open)
        with av.open(url, timeout=_OPEN_TIMEOUT) as c:
            streams = [s.index for s in c.streams.audio if s.codec_context is not None]
    except (av.error.FFmpegError, OSError):
        return None  # the video opened; a sound that cannot even be listed is no sound
    if track is None:
        return streams[0] if streams else None
    if track > len(streams):
        have = f"{len(streams)} audio track{'s' if len(streams) != 1 else ''}"
        raise OptionError("audio_track", f"is {track}, but the film has {have}")
    return streams[track - 1]


def _samples(frame: Any, channels: int) -> NDArray[np.float32]:
    """A packed float frame as (samples, channels)."""
    return np.asarray(frame.to_ndarray(), np.float32).reshape(-1, channels)


class SoundReader:
    """One audio stream of a file, decoded from a media time on.

    ``origin`` is the time (s) of the film's first picture in the file's timeline, so
    the sound's times are the pictures' times. Raises :class:`SoundError` when the file
    cannot be opened.
    """

    def __init__(self, url: str, stream_index: int, *, origin: float = 0.0) -> None:
        self.origin = origin
        try:
            self._container = av.open(url, timeout=_OPEN_TIMEOUT)
        except av.error.FFmpegError as exc:
            raise SoundError(str(exc)) from exc
        self._stream = next(s for s in self._container.streams if s.index == stream_index)

    def blocks(
        self,
        t: float,
        *,
        rate: int,
        channels: int,
        end: float | None,
        alive: Callable[[], bool],
        warn: Callable[[str, str], None],
    ) -> Generator[tuple[float, NDArray[np.float32]], None, None]:
        """(media time, (n, channels) float32 samples at ``rate``) from about ``t`` to
        ``end``, timed by the file's timestamps (a gap in them moves the time on).
        Stops as soon as ``alive()`` is false; a damaged packet is skipped with a
        ``warn("damaged", line)``."""
        s = self._stream
        tb = float(s.time_base) if s.time_base else 1 / 90000
        try:
            self._container.seek(
                int((max(t, 0.0) + self.origin) / tb), stream=s, backward=True, any_frame=False
            )
        except av.error.FFmpegError:
            self._container.seek(0)
        s.codec_context.flush_buffers()
        resampler = av.AudioResampler(format="flt", layout=LAYOUTS[channels], rate=rate)
        in_next: float | None = None  # the timestamp the next frame should have
        out_t = t  # the media time of the next resampled sample
        for packet in self._container.demux(s):
            if not alive():
                return
            try:
                frames: list[Any] = list(packet.decode())
            except av.error.FFmpegError:
                when = packet.pts * tb - self.origin if packet.pts is not None else out_t
                warn("damaged", f"damaged audio at {describe_time(max(when, 0))} skipped")
                continue
            for frame in frames:
                ft = frame.pts * tb - self.origin if frame.pts is not None else in_next
                if ft is None:
                    ft = out_t
                if in_next is None:
                    out_t = ft
                elif abs(ft - in_next) > GAP:  # a gap (or overlap) in the file's audio
                    out_t += ft - in_next
                in_next = ft + frame.samples / (frame.sample_rate or rate)
                for rf in resampler.resample(frame):
                    data = _samples(rf, channels)
                    yield out_t, data
                    out_t += len(data) / rate
                if not alive():
                    return
            if end is not None and out_t >= end:
                break
        for rf in resampler.resample(None):
            yield out_t, _samples(rf, channels)

    def close(self) -> None:
        self._container.close()


class Tempo:
    """FFmpeg's ``atempo`` (pitch kept) over packed float samples at ``rate``."""

    def __init__(self, rate: int, channels: int, tempo: float) -> None:
        self.rate = rate
        self.channels = channels
        self.layout = LAYOUTS[channels]
        g = av.filter.Graph()
        src = g.add_abuffer(
            format="flt", sample_rate=rate, layout=self.layout, time_base=Fraction(1, rate)
        )
        atempo = g.add("atempo", f"{tempo:g}")
        sink = g.add("abuffersink")
        src.link_to(atempo)
        atempo.link_to(sink)
        g.configure()
        self.graph = g
        # atempo's overlap-add window (rate / 24, up to a power of two: 2048 samples at
        # 48 kHz) puts what it outputs half a window of film ahead of the samples'
        # count (measured: 15-35 ms at 0.5x-2x, 21 ms on average).
        window = 1 << max(math.ceil(math.log2(rate / 24)), 0)
        self.lead = window / 2 / rate
        self.pushed = 0

    def push(self, data: NDArray[np.float32]) -> Iterator[NDArray[np.float32]]:
        """Hand ``data`` (n, channels) in; what comes out, as it comes."""
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data).reshape(1, -1), format="flt", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts = self.pushed
        frame.time_base = Fraction(1, self.rate)
        self.pushed += len(data)
        self.graph.push(frame)
        return self._pull()

    def flush(self) -> Iterator[NDArray[np.float32]]:
        """The end: what the filter still holds."""
        self.graph.push(None)
        return self._pull()

    def _pull(self) -> Iterator[NDArray[np.float32]]:
        while True:
            try:
                f = self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            yield _samples(f, self.channels)


# -- the film's sound for a movie ----------------------------------------------------------
def film_sound(
    path: Path | str | None, start: float, stop: float
) -> tuple[AudioSpec | None, Generator[Pcm, None, None] | None]:
    """The film's first sound track from ``start`` to ``stop``, timed against its
    picture, and the AAC track to encode it in; or (None, None) for a film without
    sound."""
    if path is None:
        return None, None
    try:
        container = av.open(os.fspath(path))
    except (av.error.FFmpegError, OSError):
        return None, None
    if not container.streams.audio:
        container.close()
        return None, None
    stream = container.streams.audio[0]
    spec = aac_spec(stream.rate, stream.channels)
    return spec, _trimmed_sound(container, stream, _picture_origin(container), start, stop)


def _picture_origin(container: Any) -> float:
    """The picture's first timestamp (s): frame times count from it (as the source's)."""
    for s in container.streams.video:
        if is_cover_art(s):
            continue
        if s.start_time is not None and s.time_base:
            return float(s.start_time * s.time_base)
        break
    return float(container.start_time / av.time_base) if container.start_time else 0.0


def _trimmed_sound(
    container: Any, stream: Any, origin: float, start: float, stop: float
) -> Generator[Pcm, None, None]:
    """Decoded sound from film time ``start`` to ``stop`` (the movie's 0 to its end):
    cut to the sample, silence where the track starts late or has a hole."""
    rate = stream.rate
    tb = float(stream.time_base) if stream.time_base else 1 / rate
    at = 0  # samples given so far (movie time * rate)
    length = round((stop - start) * rate)
    try:
        if start > 0:
            with contextlib.suppress(av.error.FFmpegError):
                container.seek(int(max(0.0, start + origin - 1.0) / tb), stream=stream)
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue  # a damaged packet: the next ones go on
            for f in decoded:
                first = at if f.pts is None else round((f.pts * tb - origin - start) * rate)
                n = f.samples
                if first + n <= at:
                    continue  # before the start (or already given)
                if first >= length:
                    return
                block = Pcm.from_frame(f)
                if first > at + 1:  # a hole (or a late start): silence keeps the sync
                    yield silence_like(block, first - at)
                    at = first
                head = max(0, at - first)
                tail = max(0, first + n - length)
                if head or tail:
                    block = block.cut(head, n - tail)
                at += n - head - tail
                yield block
    finally:
        container.close()
