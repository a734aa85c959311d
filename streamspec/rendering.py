"""Offline rendering: a whole film (or a stretch of it) to a :class:`Spectrum`.

:class:`Renderer` validates every option before any decoding starts, then yields strips
as they are made, so a caller (the CLI, a notebook, a test) can show progress and stop
at any point with :attr:`Renderer.spectrum` holding everything done so far.
:func:`render` is the one-call form.
"""

from __future__ import annotations

import dataclasses
import math
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._io import check_outputs, check_writable, image_format, unique_path
from .errors import InputError
from .limits import MAX_COLOURS, MAX_HEIGHT, MAX_SLOTS, MAX_STRIP_WIDTH, check_image_size
from .sources import (
    SEEK_MODES,
    Crop,
    FrameSource,
    analysis_size,
    detect_crop,
    fit_to_frames,
    frame_step,
    open_source,
    parse_crop,
    sample_frames,
)
from .spectrum import Spectrum, Strip, analyze_frame, json_path_for
from .strip import MODES, ORDERS
from .timefmt import describe_time

__all__ = [
    "DEMO_EVERY",
    "Renderer",
    "check_spectrum_output",
    "default_output",
    "render",
    "source_file",
]

# The demo film is three minutes long: a sample every 0.5 s gives a 360-strip picture.
DEMO_EVERY = 0.5


def _number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    integer: bool = False,
) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        v = int(value) if integer else float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if integer and v != float(value):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if not integer and not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{name} must be greater than 0, got {value!r}")
    if minimum is not None and v < minimum:
        raise InputError(f"{name} must be at least {minimum:g}, got {value!r}")
    if maximum is not None and v > maximum:
        raise InputError(f"{name} must be at most {maximum:,g}, got {value!r}")
    return v


class Renderer:
    """Render a source to a spectrum, strip by strip.

    Parameters mirror ``streamspec render``: ``every`` seconds between samples or
    ``strips`` samples spread over the film; ``k`` colours per strip; ``height`` of the
    image; strip ``order`` and ``mode``; ``start``/``end`` in seconds; decoding mode
    ``seek`` (exact, fast, keyframes); ``crop`` ("auto", "none", "W:H:X:Y" or a
    :class:`Crop`); ``strip_width`` pixels per sample; ``seed`` for the quantizer.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | FrameSource | None = None,
        *,
        every: float | None = None,
        strips: int | None = None,
        k: int = 50,
        height: int = 400,
        order: str = "hls",
        mode: str = "sorted",
        start: float = 0.0,
        end: float | None = None,
        seek: str = "fast",
        crop: str | Crop | None = "auto",
        strip_width: int = 1,
        seed: int = 0,
        axis: bool = False,
        chapters: str | list[dict[str, Any]] | None = None,
        segments: bool = False,
        min_segment: float | None = None,
        webcam_fps: float | None = None,
        webcam_size: str | None = None,
    ) -> None:
        # Everything is checked before the source is opened: bad options cost nothing.
        if every is not None and strips is not None:
            raise InputError("give --every or --strips, not both")
        self.every = _number("--every", every, positive=True)
        self.count = _number("--strips", strips, minimum=1, maximum=MAX_SLOTS, integer=True)
        self.k = _number("--k", k, minimum=1, maximum=MAX_COLOURS, integer=True)
        self.height = _number("--height", height, minimum=1, maximum=MAX_HEIGHT, integer=True)
        self.strip_width = _number(
            "--strip-width", strip_width, minimum=1, maximum=MAX_STRIP_WIDTH, integer=True
        )
        if self.count is not None:
            check_image_size(self.count, self.strip_width, self.height)
        self.start = _number("--start", start, minimum=0.0) or 0.0
        self.end = _number("--end", end, minimum=0.0)
        self.seed = _number("--seed", seed, minimum=0, maximum=2**63 - 1, integer=True)
        if self.end is not None and self.end <= self.start:
            raise InputError(
                f"--start ({describe_time(self.start)}) must be before --end "
                f"({describe_time(self.end)})"
            )
        if order not in ORDERS:
            raise InputError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if seek not in SEEK_MODES:
            raise InputError(f"unknown seek mode {seek!r}; choose one of {', '.join(SEEK_MODES)}")
        self.order, self.mode, self.seek, self.axis = order, mode, seek, bool(axis)
        self.chapters = _chapters_option(chapters)
        self.segments = bool(segments)
        self.min_segment = _number("--min-segment", min_segment, positive=True)
        self._crop_spec = parse_crop(crop) if isinstance(crop, str) else crop

        self.size: tuple[int, int] | None = None
        self.source = open_source(source, mode=seek, webcam_fps=webcam_fps, webcam_size=webcam_size)
        try:
            self._plan()
        except BaseException:
            self.source.close()
            raise

    def _plan(self) -> None:
        info = self.source.info
        if self.every is None and self.count is None:
            self.every = 2.0 if info.kind != "demo" else DEMO_EVERY
        duration = info.duration
        if duration is not None and self.start >= duration:
            raise InputError(
                f"--start ({describe_time(self.start)}) is after the end of "
                f"the film ({describe_time(duration)})"
            )
        end = self.end if self.end is not None else duration
        if end is not None and duration is not None:
            end = min(end, duration)
        if self.count is not None and end is None:
            what = "a live source has none" if info.live else f"{info.name!r} does not tell"
            raise InputError(f"--strips needs a known duration, and {what}; use --every")
        self.stop = end
        notes = self._fit_to_frames(end)
        if self.count is not None:
            assert end is not None
            step, offset, total = (end - self.start) / self.count, 0.5, self.count
        else:
            step, offset = float(self.every), 0.0
            total = None if end is None else max(1, math.ceil((end - self.start) / step - 1e-9))
        self.total: int | None = total
        if total is not None:
            check_image_size(total, self.strip_width, self.height)
        self.spectrum = Spectrum(
            settings={
                "k": self.k,
                "every": self.every,
                "strips": self.count,
                "height": self.height,
                "order": self.order,
                "mode": self.mode,
                "strip_width": self.strip_width,
                "start": self.start,
                "end": end,
                "step": step,
                "offset": offset,
                "seek": self.seek,
                "crop": None,
                "seed": self.seed,
                "axis": self.axis,
                "chapters": "auto" if self.chapters == "auto" else bool(self.chapters) or None,
                "segments": "auto" if self.segments else None,
                "min_segment": self.min_segment,
            },
            source=info.as_dict(),
            slots=total,
            chapters=(
                list(self.chapters)
                if isinstance(self.chapters, list)
                else [c.__dict__ for c in info.chapters]
            ),
        )
        self.spectrum.warnings.extend(notes)
        if self.chapters == "auto" and not info.chapters:
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
        if every != self.every:
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
        spec = self._crop_spec
        crop = detect_crop(self.source, self.start, self.stop) if spec == "auto" else spec
        if isinstance(crop, Crop):
            W, H = self.source.info.width, self.source.info.height
            if crop.x + crop.w > W or crop.y + crop.h > H:
                raise InputError(f"--crop {crop} does not fit in the {W}x{H} picture")
        self.source.crop = crop
        self.spectrum.settings["crop"] = str(crop) if crop else None
        self.spectrum.settings["crop_mode"] = "auto" if spec == "auto" else "manual"
        self.size = analysis_size(*self.source.content_size)
        self.spectrum.settings["analysis_size"] = list(self.size)

    def __iter__(self) -> Iterator[Strip]:
        """Decode, sample and quantize; yields each strip once it is in the spectrum.

        Decoding runs in a thread of its own, a few samples ahead, while this thread
        quantizes (the kernels release the GIL), so the two overlap on two cores.
        """
        self.prepare()
        samples = _Prefetch(
            lambda: sample_frames(
                self.source, self.every, self.count, self.start, self.stop, self.size, self.seek
            )
        )
        strip: Strip | None = None
        try:
            for sample in samples:
                if sample.repeat and strip is not None:
                    # The same frame as the previous sample (keyframes mode): same colours.
                    strip = dataclasses.replace(strip, index=sample.index, target=sample.target)
                else:
                    strip = analyze_frame(
                        sample.rgb,
                        index=sample.index,
                        target=sample.target,
                        time=sample.time,
                        k=self.k,
                        seed=self.seed,
                    )
                self.spectrum.add(strip)
                self.spectrum.skipped_frames = self.source.errors
                yield strip
        finally:
            samples.close()
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
            spec.slots = done
        if spec.skipped_frames:
            spec.warnings.append(f"{spec.skipped_frames} damaged packets or frames were skipped")
        if done == 0:
            raise InputError(f"{self.source.info.name!r}: no frames could be sampled")
        if self.segments:
            from .segments import segment_spectrum

            segment_spectrum(spec, min_seconds=self.min_segment)

    def run(self) -> Spectrum:
        """Render everything and return the spectrum."""
        try:
            for _ in self:
                pass
        finally:
            self.close()
        return self.spectrum

    def close(self) -> None:
        self.source.close()


def _chapters_option(value: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
    """``None``, ``"auto"`` (the container's chapters), a chapters file, or a list."""
    if value is None or isinstance(value, list):
        return value
    if value == "auto":
        return "auto"
    from .annotate import read_chapters

    return read_chapters(value)


def default_output(spec: str | os.PathLike[str] | FrameSource | None) -> Path:
    """``NAME-spectrum.png`` in the current directory, never overwriting an earlier one
    (``demo``, ``webcam`` or ``lavfi`` for those sources, the file's stem otherwise)."""
    if spec is None or str(spec) in ("demo", "demo:"):
        stem = "demo"
    elif isinstance(spec, FrameSource):
        stem = "live" if spec.info.live else "spectrum"
    elif str(spec).startswith(("webcam:", "lavfi:")):
        stem = str(spec).split(":", 1)[0]
    else:
        stem = Path(str(spec)).stem or "spectrum"
    return unique_path(Path(f"{stem}-spectrum.png"))


def source_file(spec: str | os.PathLike[str] | FrameSource | None) -> Path | None:
    """The file a source spec reads, or ``None`` (the demo film, a webcam, lavfi, a URL)."""
    if isinstance(spec, FrameSource):
        info = spec.info
        return Path(info.name.removeprefix("file://")) if info.kind == "file" else None
    if spec is None or str(spec) in ("demo", "demo:"):
        return None
    text = os.fspath(spec)
    if text.startswith(("webcam:", "lavfi:")):
        return None
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) and not text.startswith("file://"):
        return None
    return Path(text.removeprefix("file://"))


def check_spectrum_output(
    source: str | os.PathLike[str] | FrameSource | None,
    output: str | os.PathLike[str],
    *,
    chapters: str | os.PathLike[str] | list[dict[str, Any]] | None = None,
) -> Path:
    """Check, before any decoding, that a spectrum can be saved to ``output``.

    Refuses (one-line :class:`~streamspec.errors.OutputError`) an image or ``.json``
    sidecar that would replace the video or a chapters file, an extension that is not
    an image format streamspec writes, and an unwritable place. Returns ``output``.
    """
    out = check_writable(output)  # first: a directory has no sidecar name
    chapters_file = None
    if isinstance(chapters, (str, os.PathLike)) and os.fspath(chapters) not in ("auto", "none"):
        chapters_file = chapters
    check_outputs(
        [("the input video", source_file(source)), ("the chapters file", chapters_file)],
        [("output", out, "-o"), ("output data", json_path_for(out), "-o")],
        distinct=False,  # they differ unless out is a .json, which image_format refuses
    )
    image_format(out)
    check_writable(json_path_for(out))
    return out


class _Prefetch:
    """Run an iterator in a daemon thread, a few items ahead of the consumer.

    Exceptions in the thread are re-raised in the consumer; :meth:`close` stops the
    thread at its next item (the consumer may stop early or be interrupted).
    """

    _DONE = object()

    def __init__(self, make: Callable[[], Iterator[Any]], depth: int = 3) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(make,), daemon=True, name="streamspec-decode"
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, make: Callable[[], Iterator[Any]]) -> None:
        try:
            for item in make():
                if not self._put(item):
                    return
            self._put(self._DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failure(exc))

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return
                continue
            if item is self._DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (briefly: a dead webcam must not hang us)."""
        self._stop.set()
        self._thread.join(timeout)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def render(source: str | os.PathLike[str] | FrameSource | None = None, **options: Any) -> Spectrum:
    """Render ``source`` (a path, URL, ``webcam:N``, ``lavfi:GRAPH``; None = the demo
    film) to a :class:`Spectrum`. Options are those of :class:`Renderer`.

    >>> spec = render("film.mp4", every=2.0)   # doctest: +SKIP
    >>> spec.save("film.png")                   # doctest: +SKIP
    """
    return Renderer(source, **options).run()
