"""Typed options: the one home of every option's default, limits, help and validation.

Options are frozen dataclasses in four groups -- where frames come from
(:class:`SourceOptions`), when they are taken (:class:`SamplingOptions`), how they are
quantized (:class:`QuantizerOptions`) and how strips are drawn (:class:`LookOptions`) --
joined in :class:`RenderOptions`. Each is validated once, when it is made, with
messages in the library's own words (``height must be at most 16,383``); the command
line derives its flags (type, choices, default, help) from the field metadata here and
maps option names to flag names in its errors.

About 700 lines in one module on purpose: it is the one home of every option, and
splitting it would scatter the definitions the command line and the library read.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from streamspec.core.errors import InputError
from streamspec.core.limits import (
    MAX_AUDIO_TRACK,
    MAX_COLOURS,
    MAX_HEIGHT,
    MAX_IMAGE_COLOURS,
    MAX_MOVIE,
    MAX_MOVIE_FPS,
    MAX_SLOTS,
    MAX_STRIP_WIDTH,
    MAX_VOLUME,
    MAX_WINDOW,
    MAX_ZOOM,
    MIN_MOVIE_FPS,
    MIN_WINDOW,
)
from streamspec.core.timefmt import describe_time, parse_time

# How a strip orders its colours, and how a sample becomes a strip (streamspec.analysis.strip).
ORDERS: tuple[str, ...] = ("hls", "luma", "step", "count", "oklch")
MODES: tuple[str, ...] = ("sorted", "average", "dominant", "slitscan")

__all__ = [
    "SEEK_MODES",
    "TONEMAPS",
    "Crop",
    "LookOptions",
    "OptionError",
    "QuantizerOptions",
    "RenderOptions",
    "SamplingOptions",
    "SourceOptions",
    "VideoOptions",
    "ViewOptions",
    "check_option",
    "default_every",
    "metadata_for",
    "parse_crop",
    "parse_time",
]

SEEK_MODES: tuple[str, ...] = ("exact", "fast", "keyframes")
# --tonemap: what each does is in sources/colourspace.py.
TONEMAPS: tuple[str, ...] = ("auto", "off", "rolloff", "clip", "perceptual")
# The default sampling (see SamplingOptions.default_every): a sample every 2 s for a
# film; a shorter clip gets about DEFAULT_STRIPS samples, never more than one a frame.
DEFAULT_EVERY = 2.0
DEFAULT_STRIPS = 360


class OptionError(InputError):
    """An option has a bad value. ``option`` is its library name (``strip_width``);
    ``problem`` the rest of the sentence, so the CLI can name the flag instead."""

    def __init__(self, option: str, problem: str, related: tuple[str, ...] = ()) -> None:
        super().__init__(f"{option} {problem}")
        self.option = option
        self.problem = problem
        self.related = related  # other option names the problem mentions


# -- values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Crop:
    """A crop rectangle in display pixels (upright, square pixels), like FFmpeg's crop."""

    w: int
    h: int
    x: int
    y: int

    def __str__(self) -> str:
        return f"{self.w}:{self.h}:{self.x}:{self.y}"


def parse_crop(text: str) -> str | Crop | None:
    """``auto``, ``none`` or ``W:H:X:Y`` (FFmpeg's crop syntax) -> "auto", None, Crop."""
    t = text.strip().lower()
    if t == "auto":
        return "auto"
    if t in ("none", "off", "no"):
        return None
    m = re.fullmatch(r"(\d+):(\d+):(\d+):(\d+)", t)
    if not m:
        raise OptionError("crop", f"must be auto, none or W:H:X:Y, got {text!r}")
    w, h, x, y = map(int, m.groups())
    if w == 0 or h == 0:
        raise OptionError("crop", f"{text}: width and height must be positive")
    return Crop(w, h, x, y)


# -- declaring options ----------------------------------------------------------------------
def option(
    default: Any,
    help: str,
    *,
    kind: type | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    choices: tuple[str, ...] | None = None,
    flag: str | None = None,
    short: str | None = None,
    metavar: str | None = None,
    parse: Callable[[str], Any] | None = None,
    cli: bool = True,
    aliases: tuple[str, ...] = (),
    per_command: Mapping[str, Mapping[str, Any]] | None = None,
    const: str | None = None,
) -> Any:
    """A dataclass field carrying what validation and the command line need.

    ``kind`` is int, float, str or bool (None: anything, checked by the class);
    ``parse`` turns command-line text into the value (default: ``kind``). ``aliases``
    are old flag names, still taken (with a warning) but not shown. ``per_command``
    holds the deliberate differences of one command (``{"quantize": {"default": 16,
    "maximum": 65536, "help": ...}}``): part of this one definition, never a second
    one. ``const`` is the value of the bare flag (``--segments`` = ``--segments auto``).
    """
    meta = {
        "help": help,
        "kind": kind,
        "minimum": minimum,
        "maximum": maximum,
        "positive": positive,
        "choices": choices,
        "flag": flag,
        "short": short,
        "metavar": metavar,
        "parse": parse,
        "cli": cli,
        "aliases": aliases,
        "per_command": dict(per_command or {}),
        "const": const,
    }
    return field(default=default, metadata=meta)


def metadata_for(group: type, name: str, command: str | None = None) -> dict[str, Any]:
    """An option's metadata as ``command`` sees it (its ``per_command`` entries applied),
    with ``default`` added."""
    f = next(f for f in dataclasses.fields(group) if f.name == name)
    meta = {**f.metadata, "default": f.default}
    meta.update(f.metadata["per_command"].get(command, {}))
    return meta


def check_option(group: type, name: str, value: Any, command: str | None = None) -> Any:
    """``value`` validated as option ``name`` of ``group`` in ``command`` (for a command
    that takes an option without its whole group); raises :class:`OptionError`."""
    return _check(name, value, metadata_for(group, name, command))


def _check(name: str, value: Any, meta: Mapping[str, Any]) -> Any:
    """Validate one value against its field's metadata; returns it normalised."""
    kind = meta["kind"]
    if value is None or kind is None:
        return value
    if kind is bool:
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise OptionError(name, f"must be true or false, got {value!r}")
        return bool(value)
    if kind is str:
        if not isinstance(value, str):
            raise OptionError(name, f"must be a string, got {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            raise OptionError(name, f"must be one of {', '.join(meta['choices'])}, got {value!r}")
        return value
    if isinstance(value, bool):
        raise OptionError(name, f"must be a number, got {value!r}")
    try:
        v = int(value) if kind is int else float(value)
    except (TypeError, ValueError, OverflowError):
        raise OptionError(name, f"must be a number, got {value!r}") from None
    if kind is int and v != value:
        raise OptionError(name, f"must be a whole number, got {value!r}")
    if kind is float and not math.isfinite(v):
        raise OptionError(name, f"must be finite, got {value!r}")
    if meta["positive"] and v <= 0:
        raise OptionError(name, f"must be greater than 0, got {value!r}")
    lo, hi = meta["minimum"], meta["maximum"]
    if lo is not None and v < lo:
        raise OptionError(name, f"must be at least {lo:,g}, got {value!r}")
    if hi is not None and v > hi:
        raise OptionError(name, f"must be at most {hi:,g}, got {value!r}")
    return v


OptionsT = TypeVar("OptionsT", bound="_Options")


class _Options:
    """Shared by the option groups: validation from field metadata, and copying."""

    if TYPE_CHECKING:  # every group is a dataclass: what dataclasses.fields() and replace() need
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _check(f.name, getattr(self, f.name), f.metadata)
            object.__setattr__(self, f.name, value)
        self._validate()

    def _validate(self) -> None:
        """Checks across fields (subclasses)."""

    def replace(self: OptionsT, **changes: Any) -> OptionsT:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def pick(cls: type[OptionsT], values: Mapping[str, Any]) -> OptionsT:
        """An instance from the entries of ``values`` that are this group's fields and
        not None (defaults for the rest)."""
        names = cls.names()
        return cls(**{k: v for k, v in values.items() if k in names and v is not None})


# -- the groups -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceOptions(_Options):
    """Where frames come from and how they are decoded (fixed when the source opens)."""

    seek: str = option(
        "fast",
        "decoding: exact frames, fast (skip non-reference frames between samples; "
        "default) or keyframes only",
        kind=str,
        choices=SEEK_MODES,
    )
    crop: Any = option(
        "auto",
        "crop black bars (auto), nothing (none), or a given rectangle W:H:X:Y",
        metavar="auto|none|W:H:X:Y",
        parse=str,
    )
    tonemap: str = option(
        "auto",
        "colour management: auto (HDR10/HLG: rolloff; wide-gamut SDR brought into "
        "BT.709; other SDR untouched), off (matrix and range only), rolloff (HDR "
        "reference white 203 nits -> SDR white, highlights roll off, hue kept), clip "
        "(reference white -> SDR white, brighter clips) or perceptual (FFmpeg's "
        "perceptual intent: darker, less saturated)",
        kind=str,
        choices=TONEMAPS,
    )
    webcam_fps: float | None = option(
        None, "webcam frame rate", kind=float, positive=True, maximum=1000, metavar="FPS"
    )
    webcam_size: str | None = option(
        None, "webcam frame size, e.g. 1280x720", kind=str, metavar="WxH"
    )

    def _validate(self) -> None:
        if isinstance(self.crop, str):
            object.__setattr__(self, "crop", parse_crop(self.crop))
        elif self.crop is not None and not isinstance(self.crop, Crop):
            raise OptionError("crop", f"must be auto, none, W:H:X:Y or a Crop, got {self.crop!r}")
        if self.webcam_size is not None and not re.fullmatch(r"\d+x\d+", self.webcam_size):
            raise OptionError(
                "webcam_size", f"must be WxH, e.g. 1280x720, got {self.webcam_size!r}"
            )


@dataclass(frozen=True)
class SamplingOptions(_Options):
    """When samples are taken: every N seconds, or N spread over the film; a stretch."""

    every: float | None = option(
        None,
        "seconds between samples (default: 2 for a film of 12 minutes or more; a shorter "
        "clip gets 360 samples, at most one per frame)",
        kind=float,
        positive=True,
        metavar="SECONDS",
    )
    strips: int | None = option(
        None,
        "spread N samples over the film",
        kind=int,
        minimum=1,
        maximum=MAX_SLOTS,
        metavar="N",
    )
    start: float = option(
        0.0,
        "start at TIME (seconds, MM:SS or HH:MM:SS)",
        kind=float,
        minimum=0.0,
        metavar="TIME",
        parse=parse_time,
    )
    end: float | None = option(
        None, "stop at TIME", kind=float, minimum=0.0, metavar="TIME", parse=parse_time
    )

    def _validate(self) -> None:
        if self.every is not None and self.strips is not None:
            raise OptionError("every", "and strips cannot both be given", related=("strips",))
        if self.end is not None and self.end <= self.start:
            raise OptionError(
                "start",
                f"({describe_time(self.start)}) must be before end ({describe_time(self.end)})",
                related=("end",),
            )

    def step_for(self, span: float | None, frame: float) -> float:
        """Seconds between samples: ``every`` if given, else :func:`default_every`."""
        if self.every is not None:
            return self.every
        return default_every(span, frame)


def default_every(span: float | None, frame: float) -> float:
    """The default step for ``span`` seconds of film whose frames are ``frame`` s apart.

    ``min(2 s, span / 360)``, rounded down to two significant digits, and never less
    than one frame: a film of 12 minutes or more gets a sample every 2 s; a shorter
    clip about 360 samples (the 3-minute demo film one every 0.5 s), a clip of 360
    frames or fewer one per frame. A source of unknown length (a webcam): 2 s.
    """
    if span is None or not math.isfinite(span) or span <= 0:
        return DEFAULT_EVERY
    step = span / DEFAULT_STRIPS
    if step >= DEFAULT_EVERY:
        return DEFAULT_EVERY
    digits = 10.0 ** (math.floor(math.log10(step)) - 1)
    step = math.floor(step / digits * (1 + 1e-9)) * digits  # 0.5 stays 0.5
    step = float(f"{step:.2g}")  # no 0.30000000000000004 in the data
    return max(step, frame)


# default_every in words, for where films of many lengths share it (batch).
DEFAULT_SAMPLING_TEXT = (
    f"sampling every {DEFAULT_EVERY:g} s for films of {DEFAULT_EVERY * DEFAULT_STRIPS / 60:g} "
    f"minutes or more, {DEFAULT_STRIPS} samples (at most one per frame) for shorter ones"
)


@dataclass(frozen=True)
class QuantizerOptions(_Options):
    """How each frame is reduced to its colours."""

    k: int = option(
        50,
        "colours per strip (50)",
        kind=int,
        minimum=1,
        maximum=MAX_COLOURS,
        short="-k",
        flag="--colours",
        metavar="K",
        aliases=("--k", "--colors"),  # the names of 0.1: render's and quantize's
        per_command={
            "quantize": {
                "default": 16,
                "maximum": MAX_IMAGE_COLOURS,
                "help": f"number of colours, 1..{MAX_IMAGE_COLOURS:,} (16)",
            }
        },
    )
    seed: int = option(
        0, "random seed of the quantizer (0)", kind=int, minimum=0, maximum=2**63 - 1
    )
    space: str = option(
        "rgb",
        "colour space the quantizer clusters in: rgb (default) or oklab (perceptual)",
        kind=str,
        choices=("rgb", "oklab"),
    )


@dataclass(frozen=True)
class LookOptions(_Options):
    """How strips are drawn: the image can be redrawn in any look from the JSON."""

    height: int = option(
        400,
        "image height in pixels (400)",
        kind=int,
        minimum=1,
        maximum=MAX_HEIGHT,
        per_command={"compare": {"default": 100, "help": "band height per film in px (100)"}},
    )
    order: str = option(
        "hls",
        "colour order in a strip (hls: hue, lightness, saturation)",
        kind=str,
        choices=ORDERS,
    )
    mode: str = option(
        "sorted", "strip mode (sorted: the hue-sorted palette)", kind=str, choices=MODES
    )
    strip_width: int = option(
        1, "pixels per sample (1)", kind=int, minimum=1, maximum=MAX_STRIP_WIDTH, metavar="PX"
    )
    axis: bool = option(False, "draw a time axis under the spectrum", kind=bool)
    chapters: Any = option(
        None,
        "draw chapter brackets: a file of 'HH:MM:SS Title' lines (or CSV start,title), "
        "auto (or the bare flag) for the video's own chapters, or none",
        metavar="FILE|auto|none",
        parse=str,
        const="auto",
        per_command={
            "compare": {
                "help": "draw each film's own chapters: auto (or the bare flag) or none",
                "metavar": "auto|none",
                "values": ("auto", "none"),
            }
        },
    )
    segments: bool = option(
        False,
        "auto (or the bare flag): find where the palette changes and draw those colour segments",
        kind=bool,
        choices=("auto", "none"),
        parse=lambda text: text == "auto",
        const="auto",
    )
    min_segment: float | None = option(
        None,
        "shortest automatic segment (default: 2%% of the film)",
        kind=float,
        positive=True,
        metavar="SECONDS",
    )

    def _validate(self) -> None:
        if self.chapters == "none":
            object.__setattr__(self, "chapters", None)
        elif self.chapters is not None and not isinstance(self.chapters, (str, list)):
            raise OptionError(
                "chapters", f"must be a file, auto, none or a list, got {self.chapters!r}"
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LookOptions:
        """The look a saved spectrum's settings describe (defaults for what is missing)."""
        values = {k: settings.get(k) for k in cls.names()}
        values["segments"] = settings.get("segments") == "auto"
        values["chapters"] = None  # the chapters themselves live in the spectrum
        return cls.pick(values)


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` -> (w, h)."""
    m = re.fullmatch(r"(\d+)[xX](\d+)", str(text).strip())
    if not m:
        raise ValueError(f"expected WxH, e.g. 1280x720, got {text!r}")
    return int(m.group(1)), int(m.group(2))




@dataclass(frozen=True)
class ViewOptions(_Options):
    """The live window: where the spectrum goes, its size, its zoom."""

    layout: str = option(
        "below",
        "spectrum below the video (default) or to its right",
        kind=str,
        choices=("below", "right"),
    )
    size: Any = option((1280, 720), "window size (1280x720)", metavar="WxH", parse=parse_size)
    zoom: Any = option(
        "fit",
        "the spectrum's zoom: fit (the whole film across the window; default) or pixels "
        "per strip, 1 to 32 (a live source: 3)",
        metavar="fit|PX",
        parse=str,
    )
    exit_at_end: bool = option(False, "close the window when the video ends", kind=bool)
    record: str | None = option(
        None,
        "record the session as it is watched (seeks and pauses included) to FILE.mp4",
        kind=str,
        metavar="FILE.mp4",
    )
    audio: bool = option(True, "play the film's sound (--no-audio: silent)", kind=bool)
    audio_track: int | None = option(
        None,
        "which audio track to play: 1 is the first (the default)",
        kind=int,
        minimum=1,
        maximum=MAX_AUDIO_TRACK,
        metavar="N",
    )
    volume: int = option(
        100,
        f"sound volume in percent, 0-{MAX_VOLUME} (100)",
        kind=int,
        minimum=0,
        maximum=MAX_VOLUME,
        metavar="PCT",
    )
    checkpoint: float = option(
        30.0,
        "save the spectrum so far every SECONDS while playing, so a crash loses at most "
        "that much (30; 0: never)",
        kind=float,
        minimum=0,
        maximum=86400,
        metavar="SECONDS",
    )
    preview: bool = option(
        True,
        "for a file, fill the whole spectrum at once with provisional strips from a quick "
        "keyframes pass (drawn dimmed and hatched), replaced as playback reaches them "
        "(default on)",
        kind=bool,
    )
    fill: bool = option(
        False,
        "after the keyframes pass, make the exact strips of the rest of the film in the "
        "background, as render --seek exact would",
        kind=bool,
    )

    def _validate(self) -> None:
        zoom = self.zoom
        if zoom != "fit":
            try:
                zoom = float(zoom)
            except (TypeError, ValueError):
                raise OptionError("zoom", f"must be fit or a number, got {self.zoom!r}") from None
            if isinstance(self.zoom, bool) or not math.isfinite(zoom):
                raise OptionError("zoom", f"must be fit or a number, got {self.zoom!r}")
            if zoom < 1:
                raise OptionError("zoom", f"must be at least 1 (or fit), got {self.zoom!r}")
            if zoom > MAX_ZOOM:
                raise OptionError("zoom", f"must be at most {MAX_ZOOM} (or fit), got {self.zoom!r}")
            object.__setattr__(self, "zoom", zoom)
        size = self.size
        if isinstance(size, str):
            try:
                size = parse_size(size)
            except ValueError as exc:
                raise OptionError("size", f"must be WxH, e.g. 1280x720, got {self.size!r}") from exc
        try:
            w, h = (int(v) for v in size)
        except (TypeError, ValueError):
            raise OptionError("size", f"must be WxH, e.g. 1280x720, got {self.size!r}") from None
        if not (MIN_WINDOW[0] <= w <= MAX_WINDOW and MIN_WINDOW[1] <= h <= MAX_WINDOW):
            raise OptionError(
                "size",
                f"must be WxH from {MIN_WINDOW[0]}x{MIN_WINDOW[1]} to {MAX_WINDOW}x{MAX_WINDOW}, "
                f"got {w}x{h}",
            )
        object.__setattr__(self, "size", (w, h))


X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")


@dataclass(frozen=True)
class VideoOptions(_Options):
    """``streamspec video``: the movie of the spectrum building beside the film."""

    layout: str = option(
        "below",
        "spectrum below the film (default) or to its right",
        kind=str,
        choices=("below", "right"),
    )
    size: Any = option(
        (1280, 720),
        "the movie's size (1280x720; odd sides are rounded down to even)",
        metavar="WxH",
        parse=parse_size,
    )
    zoom: Any = option(
        "fit",
        "the spectrum's zoom: fit (the whole range across the panel; default) or pixels "
        "per strip, 1 to 32, following the playhead (never less than fit)",
        metavar="fit|PX",
        parse=str,
    )
    fps: float | None = option(
        None,
        "frames per second of the movie (default: the film's)",
        kind=float,
        positive=True,
        minimum=MIN_MOVIE_FPS,
        maximum=MAX_MOVIE_FPS,
    )
    crf: int = option(
        20, "x264 quality: 0 lossless .. 51 worst (20)", kind=int, minimum=0, maximum=51
    )
    preset: str = option(
        "superfast",
        "x264 speed preset (superfast; veryfast: smaller files, slower)",
        kind=str,
        choices=X264_PRESETS,
    )

    def _validate(self) -> None:
        zoom = "fit" if self.zoom is None else self.zoom  # None: 0.1's name for fit
        if zoom != "fit":
            try:
                zoom = int(zoom)
            except (TypeError, ValueError):
                raise OptionError(
                    "zoom", f"must be fit or a whole number, got {self.zoom!r}"
                ) from None
            if isinstance(self.zoom, bool) or not 1 <= zoom <= MAX_ZOOM or zoom != float(self.zoom):
                raise OptionError(
                    "zoom", f"must be fit or a whole number from 1 to {MAX_ZOOM}, got {self.zoom!r}"
                )
        object.__setattr__(self, "zoom", zoom)
        size = self.size
        try:
            w, h = parse_size(size) if isinstance(size, str) else (int(v) for v in size)
        except (TypeError, ValueError):
            raise OptionError("size", f"must be WxH, e.g. 1280x720, got {self.size!r}") from None
        if not (MIN_WINDOW[0] <= w <= MAX_MOVIE[0] and MIN_WINDOW[1] <= h <= MAX_MOVIE[1]):
            raise OptionError(
                "size",
                f"must be WxH from {MIN_WINDOW[0]}x{MIN_WINDOW[1]} to "
                f"{MAX_MOVIE[0]}x{MAX_MOVIE[1]}, got {w}x{h}",
            )
        object.__setattr__(self, "size", (w - w % 2, h - h % 2))


@dataclass(frozen=True)
class RenderOptions:
    """Everything ``render`` takes, in its groups."""

    source: SourceOptions = field(default_factory=SourceOptions)
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    quantizer: QuantizerOptions = field(default_factory=QuantizerOptions)
    look: LookOptions = field(default_factory=LookOptions)

    GROUPS: ClassVar[tuple[type[_Options], ...]] = (
        SourceOptions,
        SamplingOptions,
        QuantizerOptions,
        LookOptions,
    )

    @classmethod
    def from_kwargs(cls, **values: Any) -> RenderOptions:
        """Options from flat keyword arguments (``every=2, k=50, height=400, ...``);
        an unknown name is an error naming it."""
        known = {n for g in cls.GROUPS for n in g.names()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionError(unknown[0], "is not an option of render")
        return cls(
            SourceOptions.pick(values),
            SamplingOptions.pick(values),
            QuantizerOptions.pick(values),
            LookOptions.pick(values),
        )

    def override(self, **values: Any) -> RenderOptions:
        """A copy with single options changed by name (``every=2, crop=None, ...``); the
        values are taken as given, None included. An unknown name is an error."""
        known = {n for g in self.GROUPS for n in g.names()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionError(unknown[0], "is not an option of render")

        def changed(group: OptionsT) -> OptionsT:
            return group.replace(**{k: v for k, v in values.items() if k in group.names()})

        return RenderOptions(
            changed(self.source),
            changed(self.sampling),
            changed(self.quantizer),
            changed(self.look),
        )

    def flat(self) -> dict[str, Any]:
        """All options in one dict, by name."""
        out: dict[str, Any] = {}
        for group in (self.source, self.sampling, self.quantizer, self.look):
            out.update({f.name: getattr(group, f.name) for f in dataclasses.fields(group)})
        return out
