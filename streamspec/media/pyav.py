"""Sources decoded by PyAV: files, URLs, webcams and lavfi graphs -- demuxing, seeking
and decoding. The colour conversion of their pictures is :mod:`.convert`, fast mode's
skip plan :mod:`.skipplan`, the count of packets lost to damage :mod:`.damage`.

The decoding mode is fixed when a source opens (``mode``):

``exact``      every frame is decoded (threaded); a sample is the first frame at or
               after its time.
``fast``       between samples the decoder skips non-reference frames (and, for the
               whole pass, the in-loop deblocking filter); it switches back to full
               decoding one packet ahead of each sample time, so a sample is the
               nearest decodable frame and its real timestamp is reported.
``keyframes``  only keyframes are decoded; a sample is the keyframe nearest its time.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from streamspec.core.errors import InputError
from streamspec.media import cmstable, probe
from streamspec.media.base import Frame, FrameSource, SourceInfo
from streamspec.media.convert import Converter, plan_colour
from streamspec.media.damage import GapCounter
from streamspec.media.skipplan import EPS as _EPS
from streamspec.media.skipplan import LookAhead, Skip, SkipPlan

__all__ = ["AVSource"]

_TIMEOUT = 15.0  # s: how long a source may take to open, or to give its next packet
# s: how far back a seek looks for the keyframe it needs in a container without an index
# (longer than any sane GOP; a stream without keyframe flags is decoded from where it lands)
_SEEK_BACK_LIMIT = 64.0


class AVSource(FrameSource):
    """A source decoded by PyAV: a file, URL, webcam or lavfi graph."""

    def __init__(
        self,
        url: str,
        *,
        kind: str,
        name: str,
        format: str | None = None,
        options: dict[str, str] | None = None,
        mode: str = "exact",
        tonemap: str = "auto",
        threads: int | None = None,
    ) -> None:
        self.kind = kind
        self.mode = mode
        self.threads = threads  # decoder threads (None: FFmpeg's choice, or the mode's)
        self.tonemap = tonemap
        self._open_args = (url, format, dict(options or {}))
        self.url = url
        self.decode_errors = 0
        self._gaps = GapCounter()
        try:
            self.container = av.open(url, format=format, options=options or {}, timeout=_TIMEOUT)
        except av.error.FileNotFoundError:
            raise InputError(probe.not_found(kind, name)) from None
        except av.error.IsADirectoryError:
            raise InputError(f"{name!r} is a directory, not a video") from None
        except av.error.PermissionError:
            raise InputError(f"{name!r}: permission denied") from None
        except (av.error.InvalidDataError, av.error.PatchWelcomeError, av.error.EOFError):
            raise InputError(
                f"{name!r} is not a video FFmpeg can read (not a video, or damaged beyond use)"
            ) from None
        except av.error.FFmpegError as exc:
            raise InputError(probe.describe_open_error(kind, name, exc)) from None
        except OSError as exc:  # e.g. EBUSY from a webcam
            raise InputError(probe.describe_open_error(kind, name, exc)) from None
        try:
            self._setup(name)
        except BaseException:
            self.container.close()
            raise

    @property
    def time_origin(self) -> float:
        """Where time 0 of the frames is in the file's timeline (s): its video's start."""
        return self._t0

    def _setup(self, name: str) -> None:
        c = self.container
        if probe.is_image_format(c.format.name or ""):
            # FFmpeg opens a picture as a one-frame "video": say what it is instead.
            raise InputError(
                f"{name!r} is a still image, not a video; to reduce an image to K colours "
                "use 'streamspec quantize'"
            )
        # Cover art (an MP3's or M4A's picture) is a video stream holding one picture:
        # it is not the film, and its demuxer cannot seek in it.
        films = [v for v in c.streams.video if not probe.is_cover_art(v)]
        # A stream in a codec FFmpeg does not know has no decoder (no codec context).
        videos = [v for v in films if v.codec_context is not None]
        if not videos:
            if films:
                raise InputError(f"{name!r}: its video is in a format FFmpeg cannot decode")
            if c.streams.video:
                raise InputError(f"{name!r} has no video, only cover art")
            what = "audio only" if c.streams.audio else "no video stream, or an empty one"
            raise InputError(f"{name!r} has no video frames ({what})")
        self.stream = s = videos[0]
        ctx = s.codec_context
        live = self.kind in ("webcam", "lavfi") or (self.kind == "url" and not c.duration)
        self.seekable = not live
        self._configure_decoder(live)
        # Animations (GIF, APNG, WebP) give each frame its own delay: a frame held for
        # several others' time is their nature, never a lost packet.
        self._count_gaps = ctx.name not in ("gif", "apng", "webp")
        self._tb = float(s.time_base) if s.time_base else 1 / 90000
        start: float | None = s.start_time if s.start_time is not None else None
        if start is None and c.start_time is not None:
            start = c.start_time / av.time_base / self._tb
        self._t0 = (start or 0) * self._tb
        rate = s.average_rate or s.guessed_rate or s.base_rate
        fps = float(rate) if rate else None
        self._frame_time = 1 / fps if fps else 0.04
        duration = None
        if s.duration and s.time_base:
            duration = float(s.duration * s.time_base)
        elif c.duration:
            duration = c.duration / av.time_base
        claimed = duration
        if duration and self.kind == "file" and self.seekable:
            measured = probe.measured_end(self.url, s.index, duration, self._t0)
            if measured is not None and duration - measured > max(1.0, 0.05 * duration):
                duration = measured  # the header is wrong: what the packets say counts
        self._iter: LookAhead | None = None
        self._pending: list[Any] = []
        self.extent = 0.0
        self._next_untimed = 0.0  # the time of a frame without a timestamp, if first
        # Decode the first frame now: real size, rotation, and "no frames at all".
        first = self._first_frame(name)
        self.rotation = round((first.rotation or 0) / 90.0) * 90 % 360
        sar = ctx.sample_aspect_ratio or s.sample_aspect_ratio
        w, h = first.width, first.height
        if sar and sar.numerator > 0 and sar.denominator > 0 and float(sar) != 1.0:
            w = max(1, round(w * float(sar)))
        if self.rotation in (90, 270):
            w, h = h, w
        self.info = SourceInfo(
            name=name,
            kind=self.kind,
            width=w,
            height=h,
            fps=fps,
            duration=duration,
            live=live,
            codec=ctx.name,
            pix_fmt=first.format.name,
            rotation=self.rotation,
            chapters=probe.chapters(c),
        )
        self._colour = plan_colour(s, first, self.tonemap)
        self._converter = Converter(self._colour)
        self.info.colour = self._colour.record
        self.info.warnings.extend(self._colour.warnings)
        if claimed != duration:
            from streamspec.core.timefmt import describe_time

            self.info.warnings.append(
                f"the video ends early at {describe_time(duration or 0.0)} (truncated or "
                f"damaged?), though its header says {describe_time(claimed or 0.0)}: "
                "what there is is used"
            )
        if self._converter.uses_table() and self.seekable:
            # Build the colour table now (a second or more when it is not cached), not
            # in the middle of a pass: the demuxer's read timeout counts from its last
            # read, and a seek that long after it is interrupted (a sticky I/O error).
            # The pass after this one starts with a seek of its own.
            self._converter.cms_table(first)
            self._end_pass()
            threading.Thread(target=cmstable.warm, name="cms-warm", daemon=True).start()

    def _configure_decoder(self, live: bool) -> None:
        ctx = self.stream.codec_context
        if not live:
            # Frame+slice threads: decoding is the real cost of a render.
            ctx.thread_type = "AUTO"
        if self.mode in ("fast", "keyframes"):
            # PyAV applies codec options only when the decoder opens, so the loop filter
            # is skipped for the whole pass (frame skipping is switched per packet).
            ctx.options = {**(ctx.options or {}), "skip_loop_filter": "all"}
            if not live:
                # With frames skipped, the chain of reference frames is serial: more frame
                # threads than cores keep both cores busy (measured: 0.65x -> 0.5x of
                # decoding everything, on a 1080p film with 3 B-frames).
                ctx.thread_count = min(16, 4 * (os.cpu_count() or 2))
        if self.mode == "keyframes":
            ctx.skip_frame = "NONKEY"
        if self.threads is not None:  # a background pass that must not crowd playback
            ctx.thread_count = self.threads

    def _reopen(self) -> None:
        """Open the input again, at its start: the only way back in a stream whose
        demuxer cannot seek at all (raw H.264 or HEVC, for one)."""
        url, format, options = self._open_args
        old, index = self.container, self.stream.index
        self.container = av.open(url, format=format, options=options, timeout=_TIMEOUT)
        with contextlib.suppress(Exception):
            old.close()
        same = [v for v in self.container.streams.video if v.index == index]
        if not same:  # the file changed under us
            raise OSError("its video stream is gone")
        self.stream = same[0]
        self._configure_decoder(not self.seekable)

    # -- decoding ------------------------------------------------------------------------
    def _packets(self) -> Iterator[Any]:
        """Demuxed packets; a demuxer error is counted and reading goes on."""
        failures = 0
        stalled: float | None = None
        while True:
            demux: Any = self.container.demux(self.stream)
            try:
                for packet in demux:
                    failures, stalled = 0, None
                    yield packet
                return
            except av.error.EOFError:
                return
            except av.error.BlockingIOError:
                # EAGAIN: a live device has no picture ready yet. Not damage; wait (as
                # long as opening it may take) for one.
                now = time.monotonic()
                stalled = now if stalled is None else stalled
                if now - stalled > _TIMEOUT:
                    return
                time.sleep(0.005)
            except (av.error.FFmpegError, OSError):
                self.decode_errors += 1
                failures += 1
                if failures > 20:
                    return
            finally:
                demux.close()  # disarms the read timeout (see _end_pass)

    def _counted(self, packets: Iterable[Any]) -> Generator[Any, None, None]:
        """``packets`` read one after the other by a pass: their timestamps go to the gap
        counter and the extent."""
        try:
            for packet in packets:
                if packet.pts is not None:
                    self._gaps.add(packet.pts)
                    self.extent = max(self.extent, packet.pts * self._tb - self._t0)
                yield packet
        finally:
            close = getattr(packets, "close", None)
            if close is not None:
                close()
        # The end of the stream: the counter's reorder buffer now holds all the rest.
        self._gaps.finish()

    def _decode(self, packet: Any) -> list[Any]:
        try:
            frames = self.stream.codec_context.decode(packet)
        except (av.error.FFmpegError, ValueError):
            self.decode_errors += 1
            return []
        good = []
        for f in frames:
            if f.is_corrupt:
                self.decode_errors += 1
                continue
            good.append(f)
        return good

    # Derived from the counts, so read-only here; FrameSource keeps a plain attribute
    # that simpler sources may assign (nothing assigns it on an AVSource).
    @property
    def errors(self) -> int:  # type: ignore[override]  # see the comment above
        """Frames lost: decode failures, corrupt frames, and packets the demuxer dropped
        while resynchronising after damage (gaps in a constant-rate stream)."""
        return self.decode_errors + (self._gaps.missing() if self._count_gaps else 0)

    def _first_frame(self, name: str) -> Any:
        self._iter = LookAhead(self._counted(self._packets()), self._packet_time)
        for packet in self._iter:
            frames = self._decode(packet)
            if frames:
                self._pending = frames
                return frames[0]
            if packet.size == 0 and packet.dts is None:
                break
        raise InputError(f"{name!r} has no decodable video frames")

    def _time(self, f: Any) -> float | None:
        if f.pts is None:
            return None
        return f.pts * self._tb - self._t0

    def _packet_time(self, packet: Any) -> float | None:
        """A packet's presentation time (s; its decoding time if it has none)."""
        pt = packet.pts if packet.pts is not None else packet.dts
        return None if pt is None else pt * self._tb - self._t0

    def _end_pass(self) -> None:
        """Close the pass in progress, if any. PyAV arms the container's read timeout
        for as long as a demuxer generator is open, counting from its last read; a seek
        made while one is suspended longer than that (a long set-up, a paused viewer) is
        interrupted, and the interruption sticks: every read after it fails."""
        if self._iter is not None:
            with contextlib.suppress(Exception):
                self._iter.close()
            self._iter = None

    def _seek_to(self, t: float) -> bool:
        """Move the demuxer to about ``t`` (s); True when it went to the very start."""
        self._end_pass()
        self._gaps.restart()  # the timestamps read next do not follow the last ones
        start = t <= _EPS
        # For the start, aim before it: bisecting demuxers (MPEG-TS) land on the first
        # packet after the timestamp aimed at, which would miss the first keyframe.
        ts = math.floor(((-1.0 if start else t) + self._t0) / self._tb)
        try:
            self.container.seek(ts, stream=self.stream, backward=True, any_frame=False)
            return start
        except av.error.FFmpegError:  # e.g. EPERM for a timestamp before an AVI's start
            pass
        try:
            self.container.seek(0, stream=self.stream, backward=True, any_frame=False)
            return True
        except av.error.FFmpegError:  # e.g. EPERM from a raw stream's demuxer
            pass
        try:
            self._reopen()
            return True
        except (av.error.FFmpegError, OSError) as exc:
            text = getattr(exc, "strerror", None) or str(exc)
            raise InputError(f"{self.info.name!r}: cannot seek in this video ({text})") from None

    def _seek(self, t: float) -> Iterator[Any]:
        """Packets from a keyframe at or before ``t`` (s) on, the demuxer moved there.

        Containers with an index (MP4, MKV ...) land on that keyframe. Those without
        (MPEG-TS, raw streams) bisect on timestamps and land on any packet, often after
        it: nothing then decodes before the next keyframe, which may be far past ``t``
        or past the end of the film. So when the first keyframe read comes after ``t``,
        the seek steps back (1, 2, 4 ... s) and tries again. The packets read before
        that keyframe cannot be decoded and are dropped.
        """
        late = 0.5 * self._frame_time  # a keyframe this soon after t is the frame at t
        back = 0.0
        while True:
            whole = self._seek_to(t - back)
            packets = self._packets()
            head: list[Any] = []
            key: int | None = None
            for packet in packets:
                head.append(packet)
                if packet.is_keyframe and packet.size:
                    key = len(head) - 1
                    break
                when = packet.dts if packet.dts is not None else packet.pts
                if when is not None and when * self._tb - self._t0 > t + late:
                    break  # past t without a keyframe: the one needed is further back
            enough = whole or back >= _SEEK_BACK_LIMIT  # or a file with no keyframe flags
            if key is not None:
                kt = self._time(head[key])
                if kt is None or kt <= t + late or enough:
                    self._next_untimed = 0.0 if whole else t
                    return _joined(head[key:], packets)
            elif enough:
                self._next_untimed = 0.0 if whole else t
                return _joined(head, packets)
            back = max(1.0, 2 * back)

    def frames(
        self,
        start: float = 0.0,
        *,
        next_target: Callable[[float], float | None] | None = None,
    ) -> Iterator[Frame]:
        ctx = self.stream.codec_context
        pending, self._pending = self._pending, []
        first_t = self._time(pending[0]) if pending else None
        at_start = pending and (start <= _EPS or (first_t is not None and start <= first_t))
        if self._iter is not None and (at_start or not self.seekable):
            it = self._iter  # go on where the previous pass stopped (live sources)
        else:
            pending = []
            it = self._iter = LookAhead(self._counted(self._seek(start)), self._packet_time)

        fps = self.info.fps or 25.0
        plan = SkipPlan(it, window=2.0 / fps)
        skip: Skip = "NONE"
        last_t = -math.inf

        def stamp(f: Any) -> float:
            nonlocal last_t
            t = self._time(f)
            if t is None:  # no timestamps (raw streams): one frame after the last
                t = self._next_untimed if last_t == -math.inf else last_t + 1 / fps
            last_t = max(last_t, t)
            self._next_untimed = last_t + 1 / fps
            self.extent = max(self.extent, t)
            return t

        for f in pending:
            t = stamp(f)
            if t >= start - _EPS or self.mode == "keyframes":
                yield Frame(self, f, t, bool(f.key_frame))
        try:
            for packet in it:
                if self.mode == "fast" and next_target is not None:
                    if next_target(-math.inf) is None:
                        return
                    want = plan.decide(self._packet_time(packet), next_target)
                    if want != skip:
                        skip = ctx.skip_frame = want
                for f in self._decode(packet):
                    t = stamp(f)
                    if t < start - _EPS and self.mode != "keyframes":
                        continue
                    yield Frame(self, f, t, bool(f.key_frame))
        finally:
            if skip != "NONE":
                ctx.skip_frame = "NONE"

    def unread(self, frames: list[Frame]) -> None:
        if frames:  # frames without timestamps get theirs again
            self._next_untimed = frames[0].time
        self._pending = [f.raw for f in frames] + self._pending

    def grab(self, t: float) -> Frame | None:
        """The keyframe at or before ``t``, decoded on its own: the decoder is drained
        right after it instead of waiting for its frame threads to fill up."""
        self._pending = []
        self._end_pass()
        try:
            packets = self._seek(t)
        except InputError:
            return None
        for packet in packets:
            if packet.size == 0:
                break
            if not packet.is_keyframe:
                continue
            frames = self._decode(packet)
            if not frames:
                try:  # drain: the frame threads give the keyframe back at once
                    frames = [f for f in self.stream.codec_context.decode(None) if not f.is_corrupt]
                except (av.error.FFmpegError, ValueError):
                    frames = []
            if frames:
                f = frames[0]
                when = self._time(f)
                return Frame(self, f, t if when is None else when, True)
            break
        return None

    def convert(
        self, frame: Frame, size: tuple[int, int] | None, *, cropped: bool = True
    ) -> NDArray[np.uint8]:
        fw, fh, rows, cols = self.full_size_for(size, cropped)
        if self.rotation in (90, 270):
            fw, fh = fh, fw
        rgb = self._converter.to_rgb(frame.raw, fw, fh)
        if self.rotation:
            rgb = np.rot90(rgb, k=self.rotation // 90)
        return np.ascontiguousarray(rgb[rows, cols])

    def close(self) -> None:
        # Closing a broken container must not hide the real error.
        with contextlib.suppress(Exception):
            self.container.close()


def _joined(head: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    """``head``, then ``rest``; closing this closes ``rest`` (unlike itertools.chain)."""
    yield from head
    yield from rest
