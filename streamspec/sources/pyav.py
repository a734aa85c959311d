"""Sources decoded by PyAV: files, URLs, webcams and lavfi graphs.

With the live view's window, this is the only module that touches PyAV. The decoding
mode is fixed when a source opens (``mode``):

``exact``      every frame is decoded (threaded); a sample is the first frame at or
               after its time.
``fast``       between samples the decoder skips non-reference frames (and, for the
               whole pass, the in-loop deblocking filter); it switches back to full
               decoding one packet ahead of each sample time, so a sample is the
               nearest decodable frame and its real timestamp is reported.
``keyframes``  only keyframes are decoded; a sample is the keyframe nearest its time.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import heapq
import math
import os
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Literal

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from .. import cmstable
from ..colour import DEFAULT_HDR_PEAK, HLG_NOMINAL_PEAK, PEAK_RANGE, bt2020_to_bt709
from ..errors import InputError
from .base import Chapter, Frame, FrameSource, SourceInfo
from .colourspace import LUMA_WEIGHTS, ColourPlan, resolve

__all__ = ["AVSource"]

_EPS = 1e-6
_TIMEOUT = 15.0  # s: how long a source may take to open, or to give its next packet
# s: how far back a seek looks for the keyframe it needs in a container without an index
# (longer than any sane GOP; a stream without keyframe flags is decoded from where it lands)
_SEEK_BACK_LIMIT = 64.0
# The values of the decoder's skip_frame that fast mode uses (see _SkipPlan).
_Skip = Literal["NONE", "NONREF", "ALL"]


def _is_image_format(name: str) -> bool:
    """A demuxer FFmpeg picks for a picture file: image2, or one of the image pipes
    (png_pipe, jpeg_pipe, webp_pipe ...); an animated GIF or PNG has a demuxer of its own
    and is a video."""
    return name == "image2" or (name.endswith("_pipe") and name != "gif_pipe")


def _is_cover_art(stream: Any) -> bool:
    """An attached picture (cover art), not a video."""
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):  # PyAV without Stream.disposition
        return False


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
        self._gaps = _GapCounter()
        try:
            self.container = av.open(url, format=format, options=options or {}, timeout=_TIMEOUT)
        except av.error.FileNotFoundError:
            raise InputError(_not_found(kind, name)) from None
        except av.error.IsADirectoryError:
            raise InputError(f"{name!r} is a directory, not a video") from None
        except av.error.PermissionError:
            raise InputError(f"{name!r}: permission denied") from None
        except (av.error.InvalidDataError, av.error.PatchWelcomeError, av.error.EOFError):
            raise InputError(
                f"{name!r} is not a video FFmpeg can read (not a video, or damaged beyond use)"
            ) from None
        except av.error.FFmpegError as exc:
            raise InputError(_describe_open_error(kind, name, exc)) from None
        except OSError as exc:  # e.g. EBUSY from a webcam
            raise InputError(_describe_open_error(kind, name, exc)) from None
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
        if _is_image_format(c.format.name or ""):
            # FFmpeg opens a picture as a one-frame "video": say what it is instead.
            raise InputError(
                f"{name!r} is a still image, not a video; to reduce an image to K colours "
                "use 'streamspec quantize'"
            )
        # Cover art (an MP3's or M4A's picture) is a video stream holding one picture:
        # it is not the film, and its demuxer cannot seek in it.
        films = [v for v in c.streams.video if not _is_cover_art(v)]
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
            measured = _measured_end(self.url, s.index, duration, self._t0)
            if measured is not None and duration - measured > max(1.0, 0.05 * duration):
                duration = measured  # the header is wrong: what the packets say counts
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._prescaler = av.video.reformatter.VideoReformatter()
        self._managed: dict[tuple[int, int], Any] = {}
        self._table: NDArray[np.uint8] | None = None
        self._graphs: dict[tuple[int, int, str, int, int], Any] = {}
        self._iter: _LookAhead | None = None
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
            chapters=_chapters(c),
        )
        self._colour = self._plan_colour(first)
        self.info.colour = self._colour.record
        self.info.warnings.extend(self._colour.warnings)
        if claimed != duration:
            from ..timefmt import describe_time

            self.info.warnings.append(
                f"the video ends early at {describe_time(duration or 0.0)} (truncated or "
                f"damaged?), though its header says {describe_time(claimed or 0.0)}: "
                "what there is is used"
            )
        if self._uses_table() and self.seekable:
            # Build the colour table now (a second or more when it is not cached), not
            # in the middle of a pass: the demuxer's read timeout counts from its last
            # read, and a seek that long after it is interrupted (a sticky I/O error).
            # The pass after this one starts with a seek of its own.
            self._cms_table(first)
            self._end_pass()
            threading.Thread(target=cmstable.warm, name="cms-warm", daemon=True).start()

    def _plan_colour(self, first: Any) -> ColourPlan:
        """The colour conversion, from the first frame's tags (the codec's when the frame
        has none) and size: see :mod:`.colourspace`."""
        ctx = self.stream.codec_context

        def tag(name: str) -> int | None:
            value = getattr(first, name, None)
            untagged = 0 if name == "color_range" else 2  # AVCOL_*_UNSPECIFIED
            if value in (None, untagged):
                value = getattr(ctx, name, value)
            return None if value is None else int(value)

        return resolve(
            width=first.width,
            height=first.height,
            pix_fmt=first.format.name,
            matrix=tag("colorspace"),
            colour_range=tag("color_range"),
            primaries=tag("color_primaries"),
            transfer=tag("color_trc"),
            tonemap=self.tonemap,
            dolby_vision=_is_dolby_vision(self.stream, first),
        )

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
        self._iter = _LookAhead(self._counted(self._packets()), self._packet_time)
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
            it = self._iter = _LookAhead(self._counted(self._seek(start)), self._packet_time)

        fps = self.info.fps or 25.0
        plan = _SkipPlan(it, window=2.0 / fps)
        skip: _Skip = "NONE"
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
        rgb = self._to_rgb(frame.raw, fw, fh)
        if self.rotation:
            rgb = np.rot90(rgb, k=self.rotation // 90)
        return np.ascontiguousarray(rgb[rows, cols])

    def _to_rgb(self, raw: Any, w: int, h: int) -> NDArray[np.uint8]:
        """Scale and convert to sRGB with the planned matrix and range, and (for HDR and
        wide-gamut sources) colour management: the table (see :mod:`..cmstable`), or
        FFmpeg's for the perceptual intent and RGB pixel formats."""
        plan = self._colour
        managed = plan.manage and (plan.hdr or plan.primaries != 9)
        if self._uses_table():
            # Scale to the output size in 16-bit 4:4:4, then look the colours up in the
            # table built once from the formulas (see _cms_table): every size shares it.
            small = self._prescaler.reformat(raw, w, h, "yuv444p16le", interpolation="AREA")
            yuv = np.asarray(small.to_ndarray(), dtype=np.uint16)  # yuv444p16le: uint16
            return cmstable.apply_table(yuv, self._cms_table(raw))
        if managed and raw.width * raw.height > w * h:
            # swscale's colour management runs at the input size (a 4K frame: ~160 ms);
            # scaling first to 16-bit 4:4:4, tags kept, makes it ~10 ms in all, and on
            # natural pictures differs by 0.3 levels on average.
            raw = self._prescaler.reformat(raw, w, h, "yuv444p16le", interpolation="AREA")
        if plan.tonemap == "perceptual":
            return self._graph_rgb(raw, w, h)
        kwargs = self._reformat_args()
        reformatter = self._reformatter
        if "dst_color_trc" in kwargs:
            # PyAV rebuilds its scaler when the size changes, and swscale's colour
            # management then rebuilds its tone-mapping tables: one scaler per size.
            reformatter = self._managed.setdefault((w, h), av.video.reformatter.VideoReformatter())
        out = reformatter.reformat(raw, w, h, "rgb24", interpolation="AREA", **kwargs)
        rgb = np.asarray(out.to_ndarray(), dtype=np.uint8)  # rgb24: uint8
        if plan.manage and not plan.hdr and plan.primaries == 9:
            # BT.2020 SDR: swscale's gamut mapping darkened saturated greens by CIEDE2000
            # ~5; the plain matrix in display light keeps every test patch within 1.5.
            rgb = bt2020_to_bt709(rgb)
        return rgb

    def _uses_table(self) -> bool:
        """Colour management through the table: HDR and wide-gamut YUV sources, rolled
        off or clipped (the perceptual intent is FFmpeg's, through a filter graph)."""
        plan = self._colour
        return (
            plan.manage
            and (plan.hdr is not None or plan.primaries != 9)
            and plan.matrix is not None
            and plan.tonemap != "perceptual"
        )

    def _reformat_args(self) -> dict[str, Any]:
        """reformat's colour arguments for this source's plan."""
        plan = self._colour
        kwargs: dict[str, Any] = {}
        if plan.matrix is not None:
            kwargs = {
                "src_colorspace": plan.matrix,
                "src_color_range": 2 if plan.full_range else 1,
                "dst_color_range": 2,
            }
        if plan.manage and (plan.hdr or plan.primaries != 9):
            # FFmpeg 8's sws_scale_frame converts the pixels to these (not only the tags):
            # relative colorimetric, HDR reference white to SDR white. HDR is display
            # light, so it is encoded for an sRGB display (IEC 61966-2-1); other wide-gamut
            # SDR keeps its BT.709-family curve, so only its primaries change.
            trc = 13 if plan.hdr else 1
            kwargs.update(dst_color_trc=trc, dst_color_primaries=1)
        return kwargs

    def _mapping(self, raw: Any) -> cmstable.Mapping:
        """What this source's table maps (see :class:`streamspec.cmstable.Mapping`): the
        plan's matrix, range, transfer and primaries, the frame's bit depth, and for PQ
        the peak its HDR metadata gives."""
        plan = self._colour
        assert plan.matrix is not None
        kr, kb = LUMA_WEIGHTS[plan.matrix]
        bits = max(8, min(16, int(raw.format.components[0].bits)))
        peak, source = _hdr_peak(raw) if plan.hdr == "pq" else (HLG_NOMINAL_PEAK, None)
        if plan.hdr == "pq":
            plan.record["peak"] = {"nits": peak, "from": source}
        return cmstable.Mapping(
            kr=kr,
            kb=kb,
            full_range=plan.full_range,
            bits=bits,
            transfer=plan.record["transfer"],
            primaries=plan.record["primaries"],
            tonemap=plan.tonemap,
            peak=peak,
        )

    def _cms_table(self, raw: Any) -> NDArray[np.uint8]:
        """This source's colour table (see :mod:`streamspec.cmstable`): from the disk
        cache, else built now (about a second)."""
        if self._table is not None:
            return self._table
        mapping = self._mapping(raw)
        name = cmstable.key(mapping)
        table = cmstable.load(name)
        if table is None:
            table = cmstable.build(mapping)
            cmstable.save(name, table)
        self._table = table
        return table

    def _graph_rgb(self, raw: Any, w: int, h: int) -> NDArray[np.uint8]:
        """Perceptual tone mapping: FFmpeg's ``scale`` filter (PyAV's reformat cannot set
        the intent), one graph per input and output size."""
        import fractions

        plan = self._colour
        key = (raw.width, raw.height, raw.format.name, w, h)
        graphs = self._graphs
        if key not in graphs:
            g = av.filter.Graph()
            src = g.add_buffer(
                width=raw.width,
                height=raw.height,
                format=raw.format.name,
                time_base=fractions.Fraction(1, 1000),
            )
            rng = "full" if plan.full_range else "limited"
            scale = g.add(
                "scale",
                f"w={w}:h={h}:flags=area:in_range={rng}:out_range=full:"
                "out_transfer=bt709:out_primaries=bt709:intent=perceptual",
            )
            fmt = g.add("format", "rgb24")
            sink = g.add("buffersink")
            src.link_to(scale)
            scale.link_to(fmt)
            fmt.link_to(sink)
            g.configure()
            graphs[key] = g
        g = graphs[key]
        pts = raw.pts
        raw.pts = 0
        try:
            g.push(raw)
            out = g.pull()
        finally:
            raw.pts = pts
        return out.to_ndarray()

    def close(self) -> None:
        # Closing a broken container must not hide the real error.
        with contextlib.suppress(Exception):
            self.container.close()


def _hdr_peak(raw: Any) -> tuple[float, str | None]:
    """The peak (nits) of an HDR10 frame's content, for the roll-off: MaxCLL from its
    content light level side data, else its mastering display's maximum luminance, else
    1000 nits (what HDR10 is most often mastered for); and where it came from. Values
    outside PEAK_RANGE are taken at its bounds."""
    found: dict[str, bytes] = {}
    with contextlib.suppress(Exception):  # side data PyAV cannot read is no metadata
        side = raw.side_data
        for kind in side:
            name = getattr(kind, "name", str(kind))
            if name in ("CONTENT_LIGHT_LEVEL", "MASTERING_DISPLAY_METADATA"):
                found[name] = bytes(side[kind])
    low, high = PEAK_RANGE
    cll = found.get("CONTENT_LIGHT_LEVEL", b"")
    if len(cll) >= 8:  # AVContentLightMetadata: unsigned MaxCLL, MaxFALL
        max_cll = struct.unpack_from("<I", cll)[0]
        if max_cll > 0:
            return float(min(max(max_cll, low), high)), "MaxCLL"
    md = found.get("MASTERING_DISPLAY_METADATA", b"")
    if len(md) >= 88:  # AVMasteringDisplayMetadata: 8 AVRationals, then max, flags
        num, den = struct.unpack_from("<ii", md, 72)
        has_luminance = struct.unpack_from("<i", md, 84)[0]
        if has_luminance and num > 0 and den > 0:
            return float(min(max(num / den, low), high)), "mastering display"
    return DEFAULT_HDR_PEAK, None


class _LookAhead:
    """The packets of a pass, read ahead on demand as far as the next keyframe.

    ``fast`` mode needs to know when the next keyframe is presented to skip the rest
    of a GOP. Container indexes cannot say: MP4's holds decoding times, and with an
    open GOP a keyframe is presented several frames after its decoding time; MPEG-TS
    and raw streams have none; Matroska's cues may list only a few. The packets
    themselves can: they are read ahead (at most ``MAX_PACKETS`` packets or
    ``MAX_BYTES`` bytes, then the answer is "unknown") and handed out in order.
    """

    MAX_PACKETS = 4096
    MAX_BYTES = 128 << 20

    def __init__(self, packets: Generator[Any, None, None], when: Callable[[Any], float | None]):
        self._packets = packets
        self._when = when
        self._buf: collections.deque[Any] = collections.deque()
        self._bytes = 0
        self._scanned = 0  # packets of the buffer known not to be keyframes
        self._key: float | None = None  # the next keyframe's time, once found
        self._at_end = False

    def __iter__(self) -> _LookAhead:
        return self

    def __next__(self) -> Any:
        if self._buf:
            packet = self._buf.popleft()
            self._bytes -= packet.size
            if self._scanned:
                self._scanned -= 1
            else:  # that was the keyframe found: look for the next one
                self._key = None
            return packet
        self._key = None
        return next(self._packets)

    def close(self) -> None:
        """End the pass: the packets read ahead are dropped."""
        self._buf.clear()
        self._bytes = self._scanned = 0
        self._key = None
        self._packets.close()

    def next_key(self) -> float | None:
        """When the first keyframe after the packet last handed out is presented (s):
        ``inf`` when the stream ends first, None when that is not known (too far ahead,
        or a keyframe without timestamps)."""
        if self._key is not None:
            return self._key
        buf = self._buf
        while True:
            while self._scanned < len(buf):
                packet = buf[self._scanned]
                if packet.is_keyframe and packet.size:
                    t = self._when(packet)
                    if t is not None:
                        self._key = t
                    return t
                self._scanned += 1
            if self._at_end:
                return math.inf
            if len(buf) >= self.MAX_PACKETS or self._bytes >= self.MAX_BYTES:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self._at_end = True
                continue
            buf.append(packet)
            self._bytes += packet.size


class _SkipPlan:
    """What the decoder may skip for each packet in ``fast`` mode.

    The decision is made when a packet goes in; a frame-threaded decoder gives frames
    back several packets later, so a packet is judged against every sample still to
    come, not only the one being waited for. ``NONE`` for packets that may hold a
    sample itself -- presented at a sample time or within ``window`` after it (the
    first frame there is the one ``exact`` mode takes; the frames it is predicted from
    are reference frames, decoded anyway); ``ALL`` for the rest of a GOP when the next
    sample is presented at or after the next keyframe (decoding restarts there, and no
    frame decoded before a keyframe is presented after it); ``NONREF`` otherwise
    (only frames that later frames depend on).
    """

    def __init__(self, packets: _LookAhead, window: float) -> None:
        self.packets = packets
        self.window = window

    def decide(self, t: float | None, next_target: Callable[[float], float | None]) -> _Skip:
        if t is None:
            return "NONE"
        first = next_target(t - self.window - _EPS)
        if first is not None and first <= t + _EPS:
            return "NONE"
        nxt = next_target(-math.inf)
        if nxt is not None and nxt >= t:
            key = self.packets.next_key()
            if key is not None and nxt >= key - _EPS:
                return "ALL"
        return "NONREF"


class _GapCounter:
    """Counts packets missing from a constant-frame-rate stream.

    A damaged container often loses packets without any error: the demuxer just
    resynchronises further on. Packet timestamps (sorted through a small reorder buffer,
    as B-frames arrive out of order) then jump by a whole number of frame durations.

    Only steps between packets read one after the other count: a seek restarts the
    count and drops the buffer (the packets that would fill its holes were never read),
    and the buffer is drained only at the end of the stream, when it is complete. A
    stretch read twice (opening reads ahead, then the first pass seeks back to the
    start) is counted once.

    Gaps only count on a constant-rate grid: at least 90 % of the steps are one frame
    (give or take the time base's rounding) and every other step is a whole number of
    frames. Any step off that grid means a variable frame rate: then nothing is
    reported, as timestamps alone cannot tell a held frame from a lost one.
    """

    DEPTH = 16

    def __init__(self) -> None:
        self.steps: Counter[int] = Counter()
        self.heap: list[int] = []
        self.first: int | None = None  # the stretch counted since the last seek
        self.last: int | None = None
        self.spans: list[tuple[int, int]] = []  # stretches counted before, sorted, disjoint

    def restart(self) -> None:
        """After a seek, timestamps are not continuous."""
        if self.first is not None and self.last is not None and self.last > self.first:
            self._remember(self.first, self.last)
        self.heap.clear()
        self.first = self.last = None

    def _remember(self, lo: int, hi: int) -> None:
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self.spans, (lo, hi)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.spans = merged

    def _counted_before(self, lo: int, hi: int) -> bool:
        i = bisect.bisect_right(self.spans, (lo, math.inf)) - 1
        return i >= 0 and self.spans[i][1] >= hi

    def add(self, pts: int) -> None:
        heapq.heappush(self.heap, pts)
        if len(self.heap) > self.DEPTH:
            self._step(heapq.heappop(self.heap))

    def finish(self) -> None:
        """At the end of the stream: every packet was read, the buffer is complete."""
        while self.heap:
            self._step(heapq.heappop(self.heap))

    def _step(self, pts: int) -> None:
        if self.last is None:
            self.first = self.last = pts
            return
        if pts > self.last and not self._counted_before(self.last, pts):
            self.steps[pts - self.last] += 1
        self.last = max(self.last, pts)

    def missing(self) -> int:
        steps = self.steps
        total = sum(steps.values())
        if total < 10:
            return 0
        mode = max(steps, key=lambda step: (steps[step], -step))  # the commonest step
        # Timestamps rounded to the time base make one frame vary by a tick (29.97 fps in
        # 1/1000 s: 33 and 34 ms); with at least 10 ticks a frame, that is no lost frame.
        slack = max(mode // 50, 1 if mode >= 10 else 0)
        frame = {step: n for step, n in steps.items() if abs(step - mode) <= slack}
        regular = sum(frame.values())
        if regular < 0.9 * total:
            return 0
        unit = sum(step * n for step, n in frame.items()) / regular
        lost = 0
        for step, n in steps.items():
            if step in frame:
                continue
            k = round(step / unit)
            if k < 2 or abs(step - k * unit) > slack + 0.002 * step:
                return 0  # not a whole number of frames: a variable frame rate
            lost += (k - 1) * n
        return lost


# ---------------------------------------------------------------------------------------
# Opening
# ---------------------------------------------------------------------------------------
def _joined(head: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    """``head``, then ``rest``; closing this closes ``rest`` (unlike itertools.chain)."""
    yield from head
    yield from rest


def _not_found(kind: str, name: str) -> str:
    if kind == "webcam":
        return f"webcam {name!r} not found; list devices with 'streamspec devices'"
    return f"{name!r}: no such file"


def _describe_open_error(kind: str, name: str, exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if kind == "webcam":
        if "busy" in text.lower():
            return f"webcam {name!r} is busy (another program is using it)"
        return f"cannot open webcam {name!r} ({text}); list devices with 'streamspec devices'"
    if kind == "lavfi":
        return f"bad lavfi graph {name!r} ({text})"
    return f"cannot open {name!r} ({text})"


def _is_dolby_vision(stream: Any, frame: Any) -> bool:
    """Best effort: a Dolby Vision codec tag (``dvh1``, ``dvhe``, ``dav1``...) or Dolby
    Vision side data on the stream or the first frame."""
    try:
        tag = str(stream.codec_context.codec_tag or "").lower()
    except (AttributeError, ValueError):
        tag = ""
    if tag in ("dvh1", "dvhe", "dav1", "dvav", "dva1"):
        return True
    for holder in (stream, frame):
        with contextlib.suppress(Exception):
            for sd in getattr(holder, "side_data", None) or ():
                name = str(getattr(sd, "type", sd)).upper()
                if "DOVI" in name or "DOLBY" in name:
                    return True
    return False


# Packets read to find where a video really ends (a few GOPs past the last keyframe).
_END_PACKETS = 20_000


def _measured_end(path: str, index: int, claimed: float, origin: float) -> float | None:
    """Where the video ``index`` of the file ``path`` really ends (s, from ``origin``),
    read cheaply: one seek to the keyframe before the end the header claims, then the
    packets after it, none decoded. None when it cannot tell (then the header is
    believed)."""
    try:
        with av.open(path) as c:
            s = c.streams[index]
            if not s.time_base:
                return None
            tb = float(s.time_base)
            c.seek(int((claimed + origin) / tb), stream=s, backward=True, any_frame=False)
            end = None
            for n, packet in enumerate(c.demux(s)):
                if n > _END_PACKETS:
                    return None  # the seek did not land near the end: cannot tell
                if packet.pts is not None:
                    stop = (packet.pts + (packet.duration or 0)) * tb
                    end = stop if end is None else max(end, stop)
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None
    return None if end is None else max(0.0, end - origin)


def _chapters(container: Any) -> list[Chapter]:
    out: list[Chapter] = []
    try:
        raw = container.chapters()
    except (AttributeError, av.error.FFmpegError):
        return out
    for ch in raw:
        tb = float(ch["time_base"])
        title = ch["metadata"].get("title") or f"Chapter {len(out) + 1}"
        out.append(Chapter(ch["start"] * tb, title, ch["end"] * tb))
    return out
