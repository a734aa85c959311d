"""The media layer: frame sources (files, streams, webcams, lavfi graphs and the built-in
demo film), and everything else done with PyAV -- the only package that imports it.

:func:`open_source` turns a spec into a :class:`FrameSource`, its decoding mode fixed
as it opens. Pure (no PyAV): the interface and its data (:mod:`.base`), the demo film
(:mod:`.demo`), crop detection (:mod:`.crop`), the colour plan (:mod:`.colourspace`),
fast mode's skip plan (:mod:`.skipplan`) and the count of frames lost to damage
(:mod:`.damage`). With PyAV, imported when first needed: the PyAV source's demuxing and
decoding (:mod:`.pyav`), container probing (:mod:`.probe`), colour conversion
(:mod:`.convert`), device listing (:mod:`.devices`), the film's sound (:mod:`.audio`)
and H.264/AAC encoding (:mod:`.encode`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from streamspec.core._io import input_file
from streamspec.core.errors import InputError
from streamspec.core.options import SourceOptions
from streamspec.media.base import (
    ANALYSIS_PIXELS,
    SEEK_MODES,
    Chapter,
    Crop,
    Frame,
    FrameSource,
    SourceInfo,
    analysis_size,
    frame_step,
)
from streamspec.media.crop import detect_crop
from streamspec.media.demo import DemoSource

__all__ = [
    "ANALYSIS_PIXELS",
    "SEEK_MODES",
    "Chapter",
    "Crop",
    "DemoSource",
    "Frame",
    "FrameSource",
    "SourceInfo",
    "analysis_size",
    "detect_crop",
    "frame_step",
    "list_devices",
    "open_source",
    "parse_crop",
]


def open_source(
    spec: str | os.PathLike[str] | FrameSource | None = None,
    options: SourceOptions | None = None,
    *,
    mode: str | None = None,
    webcam_fps: float | None = None,
    webcam_size: str | None = None,
    threads: int | None = None,
) -> FrameSource:
    """Open a frame source.

    ``spec`` is a file path or URL; ``webcam:N`` (``/dev/videoN`` with v4l2 on Linux,
    AVFoundation device N on macOS, a DirectShow device name on Windows);
    ``lavfi:GRAPH`` (an FFmpeg filter graph such as ``testsrc2=size=640x360:rate=30``,
    endless like a camera); ``demo`` or ``None`` for the built-in demo film; or an
    already-open :class:`FrameSource`. ``options`` (or the keywords, which override it)
    give the decoding mode (``seek``: exact -- the default here --, fast or keyframes;
    webcams and lavfi graphs are always read exactly) and the webcam's rate and size. Raises
    :class:`~streamspec.core.errors.InputError` with a one-line message when the source
    cannot be used. ``threads`` caps a file's or URL's decoder threads.
    """
    given = {"seek": mode, "webcam_fps": webcam_fps, "webcam_size": webcam_size}
    # Without options a source decodes every frame (render's default is fast).
    opts = (options or SourceOptions(seek="exact")).replace(**{k: v for k, v in given.items() if v})
    if isinstance(spec, FrameSource):
        return spec
    if spec is None or str(spec) in ("demo", "demo:"):
        return DemoSource(opts.seek)
    from streamspec.media.pyav import AVSource  # PyAV only now

    text = os.fspath(spec)
    if text.startswith("webcam:"):
        from streamspec.media.devices import webcam_input

        dev = text.split(":", 1)[1] or "0"
        url, fmt, av_options = webcam_input(dev, opts.webcam_fps, opts.webcam_size)
        return AVSource(
            url, kind="webcam", name=f"webcam:{dev}", format=fmt, options=av_options, mode="exact"
        )
    if text.startswith("lavfi:"):
        graph = text.split(":", 1)[1]
        if not graph:
            raise InputError("lavfi: needs a filter graph, e.g. lavfi:testsrc2=size=640x360")
        return AVSource(graph, kind="lavfi", name=text, format="lavfi", mode="exact")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) and not text.startswith("file://"):
        return AVSource(
            text, kind="url", name=text, mode=opts.seek, tonemap=opts.tonemap, threads=threads
        )
    path = input_file(text.removeprefix("file://"), "a video", allow_empty=False, seekable=True)
    return AVSource(
        str(path), kind="file", name=text, mode=opts.seek, tonemap=opts.tonemap, threads=threads
    )


def list_devices() -> list[tuple[str, str]]:
    """Video capture devices as ``(spec, description)`` pairs for ``webcam:`` specs."""
    from streamspec.media.devices import list_devices as listing

    return listing()


def parse_crop(text: str) -> str | Crop | None:
    """``auto``, ``none`` or ``W:H:X:Y`` (FFmpeg's crop syntax) -> "auto", None, Crop."""
    from streamspec.core.options import parse_crop as parse

    return parse(text)



def __getattr__(name: str) -> Any:
    if name == "AVSource":
        from streamspec.media.pyav import AVSource

        return AVSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
