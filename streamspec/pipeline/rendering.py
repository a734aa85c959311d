"""Offline rendering: a whole film (or a stretch of it) to a :class:`Spectrum`.

:class:`Renderer` validates every option before any decoding starts, then yields strips
as they are made, so a caller (the CLI, a notebook, a test) can show progress and stop
at any point with :attr:`Renderer.spectrum` holding everything done so far.
:func:`render` is the one-call form.

Data flows one way: source -> :class:`~streamspec.pipeline.sampling.Sampler` (which frame serves
each slot of the grid) -> :class:`~streamspec.pipeline.sampling.StripMaker` (quantizer) ->
strip -> :class:`Spectrum` -> the files it is saved to.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from streamspec.analysis.segments import segment_spectrum
from streamspec.core._threads import Prefetch
from streamspec.core.errors import InputError
from streamspec.core.grid import SlotGrid
from streamspec.core.limits import check_image_size
from streamspec.core.options import Crop, OptionError, RenderOptions
from streamspec.core.timefmt import describe_time
from streamspec.media import FrameSource, analysis_size, detect_crop, frame_step, open_source
from streamspec.outputs.spectrum import Spectrum, Strip
from streamspec.pipeline import _signals
from streamspec.pipeline._render_setup import (
    chapters_option,
    check_spectrum_output,
    default_output,
    sampling_note,
    source_file,
    source_record,
    usable_chapters,
)
from streamspec.pipeline._signals import mark_partial
from streamspec.pipeline.sampling import Sampler, StripMaker, fit_to_frames

__all__ = [
    "Renderer",
    "check_spectrum_output",
    "default_output",
    "render",
    "source_file",
]


class Renderer:
    """Render a source to a spectrum, strip by strip.

    ``options`` (a :class:`~streamspec.core.options.RenderOptions`) say everything; keywords
    (``every=2, k=50, height=400, seek="exact", ...``, the names of ``streamspec
    render``'s options) override single options. Every option is checked before the
    source is opened, and the plan (the slot grid, the crop) before anything is
    decoded. Iterating yields the strips as they are made; :attr:`spectrum` holds
    everything done so far.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | FrameSource | None = None,
        options: RenderOptions | None = None,
        *,
        threads: int | None = None,
        **overrides: Any,
    ) -> None:
        if overrides:
            options = (options or RenderOptions()).override(**overrides)
        self.options = opts = options or RenderOptions()
        self.chapters = chapters_option(opts.look.chapters)
        if opts.sampling.strips is not None:
            check_image_size(opts.sampling.strips, opts.look.strip_width, opts.look.height)
        self.size: tuple[int, int] | None = None
        self.interrupted = False
        self.provisional = False  # strips are a first pass's stand-ins (render --preview)
        self._spec = source  # to open the film again for a preview pass
        # A range of slots [first, stop) of the grid (None: all), for parallel rendering.
        self.slot_range: tuple[int, int] | None = None
        # threads: a cap on the decoder's (one of several renders sharing the machine).
        self.source = open_source(source, opts.source, threads=threads)
        try:
            self._plan()
        except BaseException:
            self.source.close()
            raise

    # Read-only views of the options, by the names the CLI and the tests use.
    @property
    def k(self) -> int:
        return self.options.quantizer.k

    @property
    def seed(self) -> int:
        return self.options.quantizer.seed

    @property
    def height(self) -> int:
        return self.options.look.height

    @property
    def strip_width(self) -> int:
        return self.options.look.strip_width

    @property
    def start(self) -> float:
        return self.options.sampling.start

    @property
    def seek(self) -> str:
        return self.source.mode

    @property
    def total(self) -> int | None:
        """The number of strips planned (None for an open-ended source)."""
        if self.slot_range is not None:
            return self.slot_range[1] - self.slot_range[0]
        return self.grid.slots

    def only_slots(self, first: int, stop: int) -> None:
        """Render only slots ``first`` to ``stop - 1`` of the grid: one time range of
        the film, for rendering ranges in parallel. The grid stays the film's, so each
        slot gets the strip a whole render gives it (the same frame in ``exact`` mode,
        the same seed), and the ranges merge by slot. Colour segments need the whole
        film: they are left to whoever merges."""
        slots = self.grid.slots
        if slots is None or not 0 <= first < stop <= slots:
            raise InputError(f"slot range {first}..{stop} is not within the {slots} slots")
        self.slot_range = (first, stop)

    def _plan(self) -> None:
        """The slot grid: when each sample is taken, bounded by the frames there are."""
        opts, info = self.options, self.source.info
        sampling = opts.sampling
        duration = info.duration
        if duration is not None and sampling.start >= duration:
            raise OptionError(
                "start",
                f"({describe_time(sampling.start)}) is after the end of "
                f"the film ({describe_time(duration)})",
            )
        end = sampling.end if sampling.end is not None else duration
        if end is not None and duration is not None:
            end = min(end, duration)
        if sampling.strips is not None and end is None:
            what = "a live source has none" if info.live else f"{info.name!r} does not tell"
            raise OptionError(
                "strips", f"needs a known duration, and {what}; use every", related=("every",)
            )
        self.stop = end
        span = None if end is None else end - sampling.start
        self.every: float | None = (
            None if sampling.strips is not None else sampling.step_for(span, frame_step(info))
        )
        self.count: int | None = sampling.strips
        notes = self._fit_to_frames(end)
        if self.count is not None:
            assert end is not None
            self.grid = SlotGrid.spread(sampling.start, end, self.count)
        else:
            assert self.every is not None
            self.grid = SlotGrid.every(sampling.start, self.every, end)
        if self.grid.slots is not None:
            check_image_size(self.grid.slots, self.strip_width, self.height)
        # What the default chose, for the CLI to say (None when the user chose).
        self.sampling_note: str | None = None
        if sampling.every is None and sampling.strips is None:
            self.sampling_note = sampling_note(self.every, self.grid.slots, span, info)
        look = opts.look
        chapters = self.chapters
        self.spectrum = Spectrum(
            settings={
                "k": self.k,
                "every": self.every,
                "strips": self.count,
                "height": look.height,
                "order": look.order,
                "mode": look.mode,
                "strip_width": look.strip_width,
                "start": self.grid.start,
                "end": end,
                "step": self.grid.step,
                "offset": self.grid.offset,
                "seek": self.seek,
                "crop": None,
                "seed": self.seed,
                "space": opts.quantizer.space,
                "axis": look.axis,
                "chapters": "auto" if chapters == "auto" else bool(chapters) or None,
                "segments": "auto" if look.segments else None,
                "min_segment": look.min_segment,
            },
            source=source_record(info),
            slots=self.grid.slots,
            chapters=(
                list(chapters)
                if isinstance(chapters, list)
                else usable_chapters([c.__dict__ for c in info.chapters], notes)
            ),
        )
        self.spectrum.warnings.extend(info.warnings)  # assumed colour tags ...
        self.spectrum.warnings.extend(notes)
        if chapters == "auto" and not info.chapters:
            self.spectrum.warnings.append("the video has no chapters of its own (--chapters auto)")

    def _fit_to_frames(self, end: float | None) -> list[str]:
        """Never more samples than frames: ``--every`` shorter than a frame samples every
        frame, ``--strips`` beyond the frame count gives one strip per frame. Returns
        the warnings saying so."""
        info = self.source.info
        every, count = fit_to_frames(info, self.start, end, self.every, self.count)
        step = frame_step(info)
        known = info.fps is not None and math.isclose(step * info.fps, 1.0)  # a usable rate
        frame = f"a frame ({step:g} s at {info.fps:g} fps)" if known else "1 ms"
        notes = []
        if every != self.every and self.every is not None:
            what = "every frame" if known else "every 1 ms (the frame rate is unknown)"
            notes.append(f"--every {self.every:g} is shorter than {frame}: sampling {what}")
            self.every = every
        if count != self.count and count is not None and end is not None:
            span = end - self.start
            length = f"{span:.3g} s" if span < 60 else describe_time(span)
            frames = f"{count} frame{'s' if count != 1 else ''}"
            notes.append(
                f"--strips {self.count} is more than the {frames} in {length}: one strip per frame"
            )
            self.count = count
        return notes

    # -- running --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Settle the crop (detecting bars for ``crop="auto"``) and the analysis size."""
        if self.size is not None:
            return
        spec = self.options.source.crop
        crop = detect_crop(self.source, self.start, self.stop) if spec == "auto" else spec
        if isinstance(crop, Crop):
            W, H = self.source.info.width, self.source.info.height
            if crop.x + crop.w > W or crop.y + crop.h > H:
                raise OptionError("crop", f"{crop} does not fit in the {W}x{H} picture")
        self.source.crop = crop
        self.spectrum.settings["crop"] = str(crop) if crop else None
        self.spectrum.settings["crop_mode"] = "auto" if spec == "auto" else "manual"
        self.size = analysis_size(*self.source.content_size)
        self.spectrum.settings["analysis_size"] = list(self.size)

    def sampler(self) -> Sampler:
        """The sampler of this render's grid (the crop settled first)."""
        self.prepare()
        grid = self.grid
        if self.slot_range is not None:  # the same grid, ending at the range's end
            grid = dataclasses.replace(grid, slots=self.slot_range[1])
        return Sampler(self.source, grid, end=self.stop, size=self.size)

    def strip_maker(self) -> StripMaker:
        """What turns this render's samples into strips (``play`` uses it too)."""
        return StripMaker(
            self.k, self.seed, self.options.quantizer.space, provisional=self.provisional
        )

    def preview_renderer(self) -> Renderer | None:
        """The quick first pass of ``render --preview``: the film opened again in the
        ``keyframes`` mode, with this render's grid, crop and analysis size, making
        provisional strips. None when there is no point (this render decodes keyframes
        only already, or a live source) or no way (a :class:`FrameSource` object cannot
        be opened twice)."""
        info = self.source.info
        if self.seek == "keyframes" or info.live or isinstance(self._spec, FrameSource):
            return None
        self.prepare()  # crop detection once, for both passes
        first = Renderer(self._spec, self.options.override(seek="keyframes", crop=None))
        try:
            first.grid, first.slot_range = self.grid, self.slot_range
            first.source.crop = self.source.crop
            first.size = self.size
            first.provisional = True
            first.spectrum.slots = self.spectrum.slots
            for key in ("start", "step", "offset", "crop", "crop_mode", "analysis_size"):
                first.spectrum.settings[key] = self.spectrum.settings[key]
        except BaseException:
            first.close()
            raise
        return first

    def run_with_preview(
        self,
        on_preview: Callable[[Spectrum], object],
        on_strip: Callable[[Strip], object] | None = None,
        on_provisional: Callable[[Strip], object] | None = None,
    ) -> Spectrum:
        """Two passes: keyframes first (provisional strips, handed whole to
        ``on_preview`` -- e.g. to save it), then this render's own, whose spectrum is
        returned: the same as :meth:`run` gives.

        Ctrl-C during the first pass returns its provisional strips so far; during the
        second, the exact strips done with the first pass's provisional ones in the
        other slots (a complete picture, ``partial``, :attr:`interrupted` set). Without
        a first pass (see :meth:`preview_renderer`) this is :meth:`run`.
        """
        try:
            first = self.preview_renderer()
        except BaseException:
            self.close()
            raise
        if first is None:
            return self.run(on_strip)
        with _signals.handling():
            try:
                draft = first.run(on_provisional)
            except KeyboardInterrupt:  # stopped before the first strip
                self.interrupted = True
                self.close()
                raise
            if first.interrupted or _signals.requested():
                self.interrupted = True
                self.close()
                return draft
            draft.partial = True  # provisional strips: not yet the spectrum asked for
            on_preview(draft)
            if _signals.requested():  # while the draft was saved: the draft stands
                self.interrupted = True
                self.close()
                return draft
            try:
                final = self.run(on_strip)
            except KeyboardInterrupt:  # before the first exact strip: the draft stands
                self.interrupted = True
                return draft
        if self.interrupted:
            for strip in draft.strips:
                final.add(strip)  # only where there is no exact strip
        return final

    def __iter__(self) -> Iterator[Strip]:
        """Decode, sample and quantize; yields each strip once it is in the spectrum.

        Decoding runs in a thread of its own, a few samples ahead, while this thread
        quantizes (the kernels release the GIL), so the two overlap on two cores.
        """
        sampler, maker = self.sampler(), self.strip_maker()
        begin = None if self.slot_range is None else self.grid.time(self.slot_range[0])
        # A stop request ends the wait for the next sample (the safe point: between strips).
        samples = Prefetch(lambda: sampler.samples(begin), stop=_signals.requested)
        try:
            for sample in samples:
                if _signals.requested():
                    break
                strip = maker.make(sample)
                self.spectrum.add(strip)
                self.spectrum.skipped_frames = self.source.errors
                yield strip
        finally:
            samples.close()
        if _signals.requested():  # stopped: what is done stands, nothing is concluded
            self.interrupted = True
            return
        self._finish()

    def _finish(self) -> None:
        spec = self.spectrum
        spec.skipped_frames = self.source.errors
        done = len(spec)
        if self.total is not None and done < self.total:
            reached = describe_time(self.source.extent)
            spec.warnings.append(
                f"the video ends early at {reached} (truncated or damaged?): "
                f"rendered {done} of {self.total} strips"
            )
            first = 0 if self.slot_range is None else self.slot_range[0]
            spec.slots = first + done
        if spec.skipped_frames:
            spec.warnings.append(f"{spec.skipped_frames} damaged packets or frames were skipped")
        if done == 0:
            raise InputError(f"{self.source.info.name!r}: no frames could be sampled")
        if self.options.look.segments and self.slot_range is None:
            segment_spectrum(spec, min_seconds=self.options.look.min_segment)

    def run(self, on_strip: Callable[[Strip], object] | None = None) -> Spectrum:
        """Render everything and return the spectrum (``on_strip`` is called with each
        strip as it is made, e.g. for a progress bar).

        Ctrl-C or SIGTERM (a stop request, see :mod:`streamspec.pipeline._signals`; in the main
        thread the handler is in place while this runs) stops the render at the next
        strip and returns what is done as a partial spectrum (``spectrum.partial``,
        :attr:`interrupted`), ready to save: nothing done is lost. With not even one
        strip made it raises :class:`~streamspec.pipeline._signals.Interrupted` (a
        KeyboardInterrupt). A KeyboardInterrupt raised by ``on_strip`` stops it the
        same way.
        """
        with _signals.handling():
            try:
                for strip in self:
                    if on_strip is not None:
                        on_strip(strip)
            except KeyboardInterrupt:  # raised by on_strip: the caller's own stop
                self.interrupted = True
            finally:
                self.close()
        if self.interrupted:
            if len(self.spectrum) == 0:
                raise _signals.Interrupted()
            mark_partial(self.spectrum, self.source.errors)
        return self.spectrum

    def close(self) -> None:
        self.source.close()


def render(
    source: str | os.PathLike[str] | FrameSource | None = None,
    options: RenderOptions | None = None,
    **overrides: Any,
) -> Spectrum:
    """Render ``source`` (a path, URL, ``webcam:N``, ``lavfi:GRAPH``; None = the demo
    film) to a :class:`Spectrum`. Options are those of :class:`Renderer`; Ctrl-C returns
    the partial spectrum (see :meth:`Renderer.run`).

    >>> spec = render("film.mp4", every=2.0)   # doctest: +SKIP
    >>> spec.save("film.png")                   # doctest: +SKIP
    """
    return Renderer(source, options, **overrides).run()
