"""The one sampler: which frame serves each slot of a grid, for ``render`` and ``play``.

A :class:`Sampler` walks a source from a time and says, for every decoded frame, which
slots it serves. ``render`` takes only the sampled frames (:meth:`Sampler.samples`);
the live view shows every frame and analyses the sampled ones
(:meth:`Sampler.walk` with ``display=True``). Both therefore take the same frame for a
slot, and :class:`StripMaker` turns it into the same strip.

How a slot is served depends on the decoding mode the source was opened in:
``exact`` and ``fast`` take the first frame at or after the slot's time (``fast``
lets the decoder skip what no slot needs, through the source's ``next_target``);
``keyframes`` takes the keyframe nearest the slot's time.

Pure: no PyAV, no pygame -- a source is anything with the :class:`FrameSource`
interface.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core.errors import InputError
from streamspec.core.grid import SlotGrid
from streamspec.core.options import OptionError
from streamspec.media.base import (
    SEEK_MODES,
    Frame,
    FrameSource,
    SourceInfo,
    analysis_size,
    frame_step,
)
from streamspec.outputs.spectrum import Strip, analyze_frame

__all__ = [
    "Sample",
    "Sampler",
    "StripMaker",
    "fit_to_frames",
    "sample_frames",
    "sample_times",
]

_EPS = 1e-6


@dataclass
class Sample:
    """One sampled frame: slot index, nominal and real time (s), and RGB pixels.

    ``repeat`` is true when the frame is the same as the previous sample's (keyframes
    mode, or samples closer together than frames), so its analysis can be reused.
    ``rgb`` is converted from ``frame`` at ``size`` when first asked for, if not given.
    """

    index: int
    target: float
    time: float
    rgb: NDArray[np.uint8] | None = field(default=None, repr=False)
    repeat: bool = False
    frame: Frame | None = field(default=None, repr=False, compare=False)
    size: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    def pixels(self) -> NDArray[np.uint8]:
        """The analysis pixels (converted now if they were not)."""
        if self.rgb is None:
            assert self.frame is not None
            self.rgb = self.frame.to_rgb(self.size)
        return self.rgb


class Sampler:
    """Which frame serves each slot of ``grid`` in ``source``, up to ``end``.

    ``size`` is the analysis size (w, h) of a sample (default: about 480x270 with the
    content's aspect).
    """

    def __init__(
        self,
        source: FrameSource,
        grid: SlotGrid,
        *,
        end: float | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.source = source
        self.grid = grid
        self.end = end
        self.size = size or analysis_size(*source.content_size)

    def walk(
        self, start: float | None = None, *, display: bool = False
    ) -> Iterator[tuple[Frame, list[tuple[int, float]]]]:
        """Decode from ``start`` (default: the grid's start) and yield each frame with
        the ``(slot, target time)`` pairs it serves.

        With ``display`` every frame is yielded (most serve no slot) until ``end``;
        otherwise only the frames that serve a slot, until the last slot is served. In
        keyframes mode a frame may be yielded again, for a later slot nearest to it.
        """
        grid, end = self.grid, self.end
        keyframes = self.source.mode == "keyframes"
        begin = grid.start if start is None else start
        targets = grid.times(grid.first_slot_from(begin), end)
        current: tuple[int, float] | None = next(targets, None)

        def next_target(after: float = -math.inf) -> float | None:
            # The first slot time still to serve at or after ``after``: a frame-threaded
            # decoder takes packets well ahead of the frames it gives back, so a packet
            # may hold the sample of a slot after the one being waited for.
            if current is None:
                return None
            if after <= current[1]:
                return current[1]
            first = max(current[0], grid.first_slot_from(after))
            later = next(grid.times(first, end), None)
            return None if later is None else later[1]

        prev: Frame | None = None
        # Shown frames are all wanted: nothing may be skipped for them.
        for frame in self.source.frames(begin, next_target=None if display else next_target):
            if end is not None and frame.time >= end + _EPS and not keyframes:
                # No frame starts between the slots left and the end: the one on screen
                # (held by a variable frame rate) serves them.
                while prev is not None and current is not None:
                    yield prev, [current]
                    current = next(targets, None)
                return
            served: list[tuple[int, float]] = []
            while current is not None and frame.time >= current[1] - _EPS:
                if (
                    keyframes
                    and prev is not None
                    and (current[1] - prev.time <= frame.time - current[1])
                ):
                    # The keyframe before is nearer: it serves this slot.
                    yield prev, [current]
                    current = next(targets, None)
                    continue
                served.append(current)
                current = next(targets, None)
            if served or display:
                yield frame, served
            if current is None and not display:
                return
            prev = frame
        if prev is None:
            return
        # The last frame also serves the slots after it, as far as the stream really
        # went (one frame past the last packet read or, decoding all frames, past the
        # last frame): a truncated file does not get its last frame repeated.
        last_time = self.source.extent if keyframes else prev.time
        limit = last_time + frame_step(self.source.info) - _EPS
        if end is not None:
            limit = min(limit, end)
        while current is not None and current[1] <= limit:
            yield prev, [current]
            current = next(targets, None)

    def samples(self, start: float | None = None) -> Iterator[Sample]:
        """The sampled frames, converted to analysis pixels (once per frame)."""
        last: Frame | None = None
        rgb: NDArray[np.uint8] | None = None
        for frame, served in self.walk(start):
            for slot, target in served:
                repeat = frame is last
                if not repeat:
                    last, rgb = frame, frame.to_rgb(self.size)
                yield Sample(slot, target, frame.time, rgb, repeat, frame, self.size)


class StripMaker:
    """Quantizes samples into strips; a frame serving several slots is analysed once.

    A strip depends only on the frame, ``k``, ``seed`` and its slot, so ``render`` and
    ``play`` make the same strips.
    """

    def __init__(self, k: int, seed: int, space: str = "rgb", *, provisional: bool = False) -> None:
        self.k = k
        self.seed = seed
        self.space = space
        self.provisional = provisional  # a first pass's stand-ins (see Strip.provisional)
        self._frame: Any = None
        self._strip: Strip | None = None

    def make(self, sample: Sample) -> Strip:
        """The strip of ``sample``."""
        if self._strip is not None and sample.frame is not None and sample.frame is self._frame:
            return dataclasses.replace(self._strip, index=sample.index, target=sample.target)
        strip = analyze_frame(
            sample.pixels(),
            index=sample.index,
            target=sample.target,
            time=sample.time,
            k=self.k,
            seed=self.seed,
            space=self.space,
        )
        strip.provisional = self.provisional
        self._frame, self._strip = sample.frame, strip
        return strip


# -- planning and the functional interface ---------------------------------------------------
def fit_to_frames(
    info: SourceInfo,
    start: float,
    end: float | None,
    every: float | None = None,
    count: int | None = None,
) -> tuple[float | None, int | None]:
    """``every`` and ``count`` bounded by the frames that exist: a step of at least one
    frame (:func:`frame_step`), and at most one slot per frame of ``[start, end)``.
    Values that are not valid are returned as they are, for :func:`sample_times` to
    refuse."""
    step = frame_step(info)
    if isinstance(every, numbers.Real) and not isinstance(every, bool) and 0 < every < step:
        every = step
    valid = isinstance(count, numbers.Integral) and not isinstance(count, bool)
    if valid and end is not None and count is not None and count > 1:
        frames = max(1, math.ceil((end - start) / step - 1e-6))
        count = min(int(count), frames)
    return every, count


def sample_times(
    start: float, end: float | None, every: float | None = None, count: int | None = None
) -> Iterator[float]:
    """Nominal sample times: ``start + i * every`` up to ``end`` (endless if None), or
    ``count`` times at the centres of equal slots of ``[start, end)``.

    Raises :class:`InputError` for a step that is not a positive number or a count
    below 1 (checked at once, not when the times are first asked for).
    """
    if count is not None:
        if end is None:
            raise OptionError(
                "strips", "needs a source with a known duration; use every", related=("every",)
            )
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise OptionError("strips", f"must be a whole number of at least 1, got {count!r}")
        return _slot_centres(start, end, int(count))
    if every is None:
        raise OptionError(
            "every",
            "or strips must be given: a time between samples, or how many",
            related=("strips",),
        )
    if isinstance(every, bool) or not isinstance(every, numbers.Real):
        raise OptionError("every", f"must be a number, got {every!r}")
    if not (math.isfinite(every) and every > 0):
        raise OptionError("every", f"must be a finite number greater than 0, got {every!r}")
    return _steps(start, end, float(every))


def _slot_centres(start: float, end: float, count: int) -> Iterator[float]:
    span = (end - start) / count
    for i in range(count):
        yield start + (i + 0.5) * span


def _steps(start: float, end: float | None, every: float) -> Iterator[float]:
    i = 0
    while True:
        t = start + i * every
        if end is not None and t >= end - _EPS:
            return
        yield t
        i += 1


def sample_frames(
    source: FrameSource,
    every: float | None = 2.0,
    count: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    size: tuple[int, int] | None = None,
    mode: str | None = None,
) -> Iterator[Sample]:
    """Yield :class:`Sample` s of ``source`` every ``every`` seconds (or ``count`` evenly)
    from ``start`` to ``end`` (default: the film's end).

    ``size`` is the RGB size (w, h) of a sample (default: about 480x270 with the
    content's aspect). Times come from the frames' timestamps, so VFR files are right.
    The decoding mode is the one the source was opened in; ``mode``, if given, must be
    that one. Steps shorter than a frame, and more samples than frames, are bounded by
    the frames there are (:func:`fit_to_frames`).
    """
    if mode is not None and mode != source.mode:
        if mode not in SEEK_MODES:
            raise InputError(f"unknown seek mode {mode!r}; choose one of {', '.join(SEEK_MODES)}")
        raise InputError(f"the source was opened in {source.mode} mode, not {mode}")
    if end is None:
        end = source.info.duration
    every, count = fit_to_frames(source.info, start, end, every, count)
    sample_times(start, end, every, count)  # checks the values, in one line
    if count is not None:
        assert end is not None
        grid = SlotGrid.spread(start, end, int(count))
    else:
        assert every is not None  # sample_times refused neither every nor count
        grid = SlotGrid.every(start, float(every), end)
    yield from Sampler(source, grid, end=end, size=size).samples()
