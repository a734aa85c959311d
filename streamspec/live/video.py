"""``streamspec video``: render offline what ``play`` shows -- the film with its spectrum
building beside it, the playhead, axis and status line -- as an H.264/AAC movie.

Three threads share the work: decoding, scaling (FFmpeg, to the picture's size in the
layout) and quantizing in one (:class:`~streamspec.core._threads.Prefetch`), drawing with the
live view's :class:`~streamspec.live.painter.Painter` in the caller's, and encoding in the
:class:`~streamspec.live.recorder.Recorder`'s. Strips come from the same
:class:`~streamspec.pipeline.sampling.Sampler` and
:class:`~streamspec.pipeline.sampling.StripMaker` as
``render``'s, and show when the movie reaches their sample's frame, as in ``play``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from streamspec.core._io import check_outputs
from streamspec.core._threads import Prefetch
from streamspec.core.errors import InputError
from streamspec.core.options import MAX_MOVIE_FPS, MIN_MOVIE_FPS, RenderOptions, VideoOptions
from streamspec.core.timefmt import describe_time
from streamspec.live.model import LiveModel
from streamspec.live.recorder import Recorder, check_movie_output, surface_pixels
from streamspec.media import Frame, FrameSource
from streamspec.media.audio import film_sound
from streamspec.outputs.spectrum import Strip
from streamspec.pipeline import _signals
from streamspec.pipeline.rendering import Renderer, source_file
from streamspec.pipeline.sampling import Sample, Sampler, StripMaker

__all__ = ["VideoResult", "make_video"]

_EPS = 1e-6
# The longest the last picture is held past its own time when the film ends early (s).
_HOLD = 1.0


@dataclass
class VideoResult:
    """What was written: the path (None if nothing), frames, seconds, and whether the
    render was interrupted (the movie then holds what was done)."""

    path: Path | None
    frames: int
    seconds: float
    strips: int
    interrupted: bool
    size: tuple[int, int]
    fps: float
    audio: bool


class _VideoModel(LiveModel):
    """The live model with a status line for a movie (no decode rates: it is offline)."""

    name = ""

    def hud_text(self) -> str:
        total = f"/{self.slots}" if self.slots is not None else ""
        return "   ".join(
            [
                f"{describe_time(self.playhead)} / {describe_time(self.duration)}",
                f"{len(self.visible)}{total} samples",
                self.name,
            ]
        )


@dataclass
class _Shown:
    """One picture of the film, for ``repeat`` frames of the movie (0: none), with the
    strips sampled from it."""

    time: float
    rgb: NDArray[np.uint8] | None
    repeat: int
    strips: list[Strip]


def make_video(
    source: str | os.PathLike[str] | FrameSource,
    output: str | os.PathLike[str],
    options: RenderOptions | None = None,
    video: VideoOptions | None = None,
    *,
    on_frame: Callable[[int, int], object] | None = None,
    on_note: Callable[[str], object] | None = None,
) -> VideoResult:
    """Render ``source``'s spectrum building beside it into the movie ``output``.

    ``options`` are ``render``'s (sampling, quantizer, look; decoding is always exact),
    ``video`` the movie's (layout, size, zoom, fps, x264 quality). ``on_frame(done,
    total)`` is called after each movie frame. Ctrl-C or SIGTERM stop it and keep a
    playable movie of what is done (``interrupted``); nothing is left if no frame was
    made. ``on_note`` is told what the default sampling chose, if it was used. Raises
    :class:`~streamspec.core.errors.InputError` / ``OutputError`` before any work for a
    source, option or output that cannot be used.
    """
    video = video or VideoOptions()
    out = check_movie_output(output)
    options = (options or RenderOptions()).override(seek="exact")
    chapters = options.look.chapters
    chapters_file = (
        chapters
        if isinstance(chapters, (str, os.PathLike)) and str(chapters) not in ("auto", "none")
        else None
    )
    check_outputs(
        [("the input video", source_file(source)), ("the chapters file", chapters_file)],
        [("output", out, "-o")],
    )
    if _signals.requested():  # asked while starting (the imports): nothing begun
        raise _signals.Interrupted()
    renderer = Renderer(source, options)
    src = renderer.source
    try:
        if _signals.requested():
            raise _signals.Interrupted()
        info = src.info
        if info.live or renderer.stop is None or renderer.grid.slots is None:
            raise InputError(
                f"{info.name!r}: a movie needs a film of known length, not a live source"
            )
        if on_note is not None and renderer.sampling_note:
            on_note(renderer.sampling_note)
        sampler, maker = renderer.sampler(), renderer.strip_maker()
        own = info.fps if info.fps and MIN_MOVIE_FPS <= info.fps <= MAX_MOVIE_FPS else None
        fps = Fraction(video.fps or own or 25.0).limit_denominator(1001)
        start, stop = renderer.grid.start, renderer.stop
        total = max(1, math.ceil((stop - start) * fps - _EPS))
        w, h = video.size
        model = _VideoModel(
            renderer.spectrum,
            duration=stop,
            aspect=info.width / info.height,
            layout=video.layout,
            pixels_per_strip=video.zoom,  # fit: the whole range across the panel
        )
        model.name = _short(info.name)
        layout = model.resize(w, h)
        # The sound comes from the same file or URL, opened again.
        where = source_file(source) or (info.name if info.kind == "url" else None)
        spec, feed = film_sound(where, start, stop)
        recorder = Recorder(
            out, (w, h), fps, audio=spec, audio_feed=feed, preset=video.preset, crf=video.crf
        )
    except BaseException:
        src.close()
        raise
    frames = _pictures(sampler, maker, (layout.video.w, layout.video.h), start, stop, fps, total)
    try:
        with _signals.handling():
            _draw_all(model, frames, recorder, total, on_frame)
            interrupted = _signals.requested()
            # The movie is finished whole (encoders flushed, index written), or not at
            # all: a signal now only gets a line saying so.
            with _signals.saving():
                frames.close()
                try:
                    path = recorder.close()
                finally:
                    src.close()
                    if feed is not None:
                        feed.close()
    except BaseException:
        frames.close()
        recorder.abort()
        src.close()
        raise
    if path is None and not interrupted:
        raise InputError(f"{info.name!r}: no frames could be decoded; nothing written")
    return VideoResult(
        path,
        recorder.frames,
        float(recorder.frames / fps),
        len(model.visible),
        interrupted,
        (w, h),
        float(fps),
        spec is not None,
    )


def _short(name: str, n: int = 60) -> str:
    base = os.path.basename(name.rstrip("/")) or name
    return base if len(base) <= n else base[: n - 1] + "…"


def _pictures(
    sampler: Sampler,
    maker: StripMaker,
    size: tuple[int, int],
    start: float,
    stop: float,
    fps: Fraction,
    total: int,
) -> Prefetch:
    """The film's pictures, scaled by FFmpeg, each with the movie frames it fills and
    the strips sampled from it; made in a thread of its own."""

    def covered(until: float) -> int:
        """Movie frames before time ``until``."""
        return min(total, max(0, math.ceil((until - start) * fps - _EPS)))

    def make() -> Iterator[_Shown]:
        done = 0
        held: tuple[Frame, list[Strip]] | None = None

        def emit(until: float) -> _Shown:
            nonlocal done
            assert held is not None
            frame, strips = held
            n = covered(until) - done if until < math.inf else total - done
            done += max(n, 0)
            rgb = frame.to_rgb(size, cropped=False) if n > 0 else None
            return _Shown(frame.time, rgb, max(n, 0), strips)

        for frame, served in sampler.walk(start, display=True):
            strips = [
                maker.make(Sample(slot, target, frame.time, frame=frame, size=sampler.size))
                for slot, target in served
            ]
            if held is not None and frame is held[0]:  # held frame serving the last slots
                held[1].extend(strips)
                continue
            if held is not None:
                yield emit(frame.time)
            held = (frame, strips)
            if frame.time >= stop - _EPS:
                break
        if held is not None:
            # The last picture holds to the end -- of what was decoded: a film whose
            # header claims more than it has ends here, not hours of one frame later.
            last = held[0].time
            yield emit(math.inf if last >= stop - _HOLD else last + _HOLD)

    return Prefetch(make, depth=4, stop=_signals.requested)


def _draw_all(
    model: LiveModel,
    pictures: Prefetch,
    recorder: Recorder,
    total: int,
    on_frame: Callable[[int, int], object] | None,
) -> None:
    """Draw each picture with the live view's painter and hand it to the encoder."""
    from streamspec.live._pygame import pygame
    from streamspec.live.painter import Painter
    from streamspec.live.pipeline import DisplayFrame

    w, h = recorder.size
    painter = Painter(model)
    surface = pygame.Surface((w, h), depth=32)  # BGRA in memory: swscale converts it exactly
    done = 0
    for shown in pictures:
        if _signals.requested():  # the safe point: between two pictures
            return
        for strip in shown.strips:
            model.add_strip(strip)
        if shown.repeat == 0 or shown.rgb is None:
            continue
        model.frame_shown(shown.time)
        painter.draw(surface, DisplayFrame(0, shown.time, shown.rgb, ()))
        pixels, fmt = surface_pixels(surface)
        recorder.add_frame(pixels, shown.repeat, fmt)
        done += shown.repeat
        if on_frame is not None:
            on_frame(done, total)
