"""Small test videos with known content, encoded by PyAV in the tests themselves.

Tests make their films with :func:`colour_film` (colour bands, the usual test film) or
:func:`make_film` (a picture that flashes as its sound beeps). Both are made once per
session for each set of parameters and copied to where a test asks for them, so
modules asking for the same film share one encode and a test may damage its copy.
:func:`make_video` encodes any painter, for films of a test's own design.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np

Painter = Callable[[int, float], np.ndarray]
Maker = TypeVar("Maker", bound=Callable[..., Path])

# The usual test colours: red, green, blue, yellow, cyan (tests take the first few).
COLOURS = ((220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40), (30, 210, 210))

_made: dict[str, Path] = {}
_folder: list[Path] = []


def _frozen(value: Any) -> Any:
    """``value`` with lists as tuples and dicts as sorted items: a stable key part."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return value


def _session_folder() -> Path:
    if not _folder:
        folder = Path(tempfile.mkdtemp(prefix="streamspec-test-films-"))
        atexit.register(shutil.rmtree, folder, True)
        _folder.append(folder)
    return _folder[0]


def session_cached(encode: Maker) -> Maker:
    """Make ``encode(path, **params)`` encode once per session for each set of
    parameters (and container, from ``path``'s suffix), then copy the file to ``path``."""

    @functools.wraps(encode)
    def make(path: Path, **params: Any) -> Path:
        path = Path(path)
        key = repr((encode.__name__, path.suffix.lower(), _frozen(params)))
        made = _made.get(key)
        if made is None or not made.exists():
            name = hashlib.sha256(key.encode()).hexdigest()[:20] + path.suffix
            made = encode(_session_folder() / name, **params)
            _made[key] = made
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, path)
        return path

    return make  # type: ignore[return-value]


def solid(colours: Sequence[Sequence[int]], seconds_each: float, size=(64, 48)) -> Painter:
    """A painter showing each colour for ``seconds_each`` seconds."""
    w, h = size
    cols = np.array(colours, np.uint8)

    def paint(i: int, t: float) -> np.ndarray:
        c = cols[min(int(t // seconds_each), len(cols) - 1)]
        return np.broadcast_to(c, (h, w, 3)).copy()

    return paint


def make_video(
    path: Path,
    paint: Painter,
    *,
    seconds: float,
    fps: int = 25,
    size: tuple[int, int] = (64, 48),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    bframes: int | None = None,
    rotation: int | None = None,
    pts: Sequence[int] | None = None,
    chapters: Sequence[tuple[float, float, str]] | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode ``paint(i, t) -> (h, w, 3) uint8 RGB`` frames into ``path``.

    ``pts`` gives explicit timestamps in 1/1000 s (variable frame rate).
    """
    w, h = size
    n = round(seconds * fps) if pts is None else len(pts)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = pix_fmt
        opts = dict(options or {})
        if codec == "libx264":
            opts.setdefault("preset", "ultrafast")
            opts.setdefault("crf", "12")
            if bframes is not None:
                opts["bframes"] = str(bframes)
        if gop is not None:
            stream.codec_context.gop_size = gop
        stream.options = opts
        if pts is not None:
            stream.time_base = Fraction(1, 1000)
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if chapters:
            out.set_chapters(
                [
                    {
                        "id": i + 1,
                        "start": int(s * 1000),
                        "end": int(e * 1000),
                        "time_base": Fraction(1, 1000),
                        "metadata": {"title": title},
                    }
                    for i, (s, e, title) in enumerate(chapters)
                ]
            )
        for i in range(n):
            t = i / fps if pts is None else pts[i] / 1000
            rgb = np.ascontiguousarray(paint(i, t))
            if pix_fmt == "pal8":
                frame = _pal8_frame(rgb)
            else:
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame = frame.reformat(format=pix_fmt) if pix_fmt != "rgb24" else frame
            frame.pts = i if pts is None else pts[i]
            if pts is None:
                frame.time_base = Fraction(1, fps)
            else:
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _pal8_frame(rgb: np.ndarray) -> av.VideoFrame:
    """A palettized frame (swscale cannot make one from RGB)."""
    colours, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    assert len(colours) <= 256
    palette = np.zeros((256, 4), np.uint8)
    palette[:, 0] = 255  # ARGB
    palette[: len(colours), 1:] = colours
    image = index.reshape(rgb.shape[:2]).astype(np.uint8)
    return av.VideoFrame.from_ndarray((image, palette), format="pal8")


def noisy(
    colours: Sequence[Sequence[int]],
    seconds_each: float,
    size=(64, 48),
    amount: int = 12,
    seed: int = 0,
) -> Painter:
    """Like :func:`solid` but with per-frame noise, so files have real size and content."""
    base = solid(colours, seconds_each, size)
    rng = np.random.default_rng(seed)
    bank = rng.integers(-amount, amount + 1, (8, size[1], size[0], 3)).astype(np.int16)

    def paint(i: int, t: float) -> np.ndarray:
        return (base(i, t).astype(np.int16) + bank[i % 8]).clip(0, 255).astype(np.uint8)

    return paint


def mean_colour(strip) -> np.ndarray:
    """Count-weighted mean colour of a strip's palette."""
    w = strip.counts / strip.counts.sum()
    return (strip.palette.astype(np.float64) * w[:, None]).sum(axis=0)


def beeps(seconds: float, rate: int = 48_000, channels: int = 2, seed: int = 1) -> np.ndarray:
    """A known sound: short tone bursts of different pitches at irregular times, plus a
    little noise, as (channels, samples) float32 -- easy to find again by correlation."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    sound = 0.02 * rng.standard_normal(n)
    at = 0.1
    while at < seconds:
        length = rng.uniform(0.05, 0.2)
        pitch = rng.uniform(300, 1500)
        burst = (t >= at) & (t < at + length)
        sound[burst] += 0.4 * np.sin(2 * np.pi * pitch * (t[burst] - at))
        at += length + rng.uniform(0.1, 0.4)
    out = np.stack([sound * (0.5 + 0.5 * c / max(channels - 1, 1)) for c in range(channels)])
    return out.astype(np.float32)


def with_sound(
    video: Path,
    path: Path,
    sound: np.ndarray,
    rate: int = 48_000,
    *,
    offset: float = 0.0,
) -> Path:
    """Copy ``video``'s picture into ``path`` and add ``sound`` ((channels, samples)
    float32) as an AAC track starting ``offset`` seconds after the picture."""
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[sound.shape[0]]
    with av.open(str(video)) as src, av.open(str(path), "w") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream("aac", rate=rate)
        aout.layout = layout
        aout.bit_rate = 192_000
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        size = aout.codec_context.frame_size or 1024
        start = round(offset * rate)
        for i in range(0, sound.shape[1], size):
            chunk = np.ascontiguousarray(sound[:, i : i + size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start + i
            frame.time_base = Fraction(1, rate)
            out.mux(aout.encode(frame))
        out.mux(aout.encode(None))
    return path


@session_cached
def make_film(
    path: Path,
    *,
    seconds: float,
    fps: int = 25,
    size: tuple[int, int] = (64, 48),
    every: float = 2.0,
    first: float = 0.0,
    flash: float = 0.12,
    beep: float = 0.1,
    tone: float = 1000.0,
    rate: int = 48000,
    layout: str | None = "stereo",
    codec: str = "aac",
) -> Path:
    """A film whose picture flashes white and whose sound beeps (a ``tone`` Hz sine
    at 0.5) every ``every`` s from ``first``, together: H.264 + AAC (``layout=None``: no sound).
    """
    w, h = size
    n_video = round(seconds * fps)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "18"}
        aus = None
        if layout is not None:
            aus = out.add_stream(codec, rate=rate, layout=layout)
            aus.bit_rate = 64000 * aus.codec_context.channels if codec == "aac" else None
        block = 1024
        n_audio = round(seconds * rate)
        a_done = 0
        for i in range(n_video + 1):
            t_end = min(i / fps, seconds)
            # Audio up to this picture's time, in encoder-sized blocks.
            while aus is not None and a_done < n_audio and a_done / rate <= t_end:
                k = np.arange(a_done, min(a_done + block, n_audio))
                tt = k / rate
                on = ((tt - first) % every < beep) & (tt >= first)
                mono = (0.5 * np.sin(2 * np.pi * tone * tt) * on).astype(np.float32)
                ch = aus.codec_context.channels
                frame = av.AudioFrame.from_ndarray(
                    np.repeat(mono[None, :], ch, axis=0), format="fltp", layout=layout
                )
                frame.sample_rate = rate
                frame.pts = a_done
                frame.time_base = Fraction(1, rate)
                for packet in aus.encode(frame):
                    out.mux(packet)
                a_done += len(k)
            if i == n_video:
                break
            t = i / fps
            v = 255 if t >= first and (t - first) % every < flash - 1e-9 else 16
            rgb = np.full((h, w, 3), v, np.uint8)
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            vf.pts = i
            vf.time_base = Fraction(1, fps)
            for packet in vs.encode(vf):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            for packet in aus.encode():
                out.mux(packet)
    return path


@session_cached
def colour_film(
    path: Path,
    *,
    seconds: float,
    colours: Sequence[Sequence[int]] = COLOURS,
    each: float = 1.0,
    size: tuple[int, int] = (64, 48),
    noise: int = 12,
    seed: int = 0,
    fps: int = 25,
    **encoding: Any,
) -> Path:
    """The usual test film: ``colours`` in turn, ``each`` seconds apiece (the last to
    the end), with per-frame noise of +-``noise`` levels (0: flat colour) from ``seed``
    so files have real size and content. ``encoding``: :func:`make_video`'s options
    (``gop``, ``bframes``, ``codec``, ``pix_fmt``, ``rotation``, ``pts``, ``chapters``,
    ``options``). Container from ``path``'s suffix."""
    paint = (
        noisy(colours, each, size, amount=noise, seed=seed) if noise else solid(colours, each, size)
    )
    return make_video(path, paint, seconds=seconds, fps=fps, size=size, **encoding)
