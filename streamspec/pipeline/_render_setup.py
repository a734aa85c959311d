"""What a render is set up from before any decoding: the chapters option, the source as
a spectrum records it, the note saying what the default sampling chose, the file a
source reads, the default output name, and the check that a spectrum can be saved where
asked (never over an input or its own data).

:class:`~streamspec.pipeline.rendering.Renderer` uses these; the command line and the live view
call the public ones through :mod:`streamspec.pipeline.rendering`, which re-exports them.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from streamspec.core._io import check_outputs, check_writable, image_format, unique_path
from streamspec.core.errors import InputError
from streamspec.core.timefmt import describe_time
from streamspec.media import FrameSource, frame_step
from streamspec.outputs.annotate import read_chapters
from streamspec.outputs.spectrum import json_path_for

__all__ = [
    "chapters_option",
    "check_spectrum_output",
    "default_output",
    "sampling_note",
    "source_file",
    "source_record",
    "usable_chapters",
]


def sampling_note(every: float | None, slots: int | None, span: float | None, info: Any) -> str:
    """One line saying what the default sampling chose, and how to choose otherwise."""
    assert every is not None
    frame = frame_step(info)
    per_frame = info.fps is not None and math.isclose(every, frame)
    step = f"{every:.3g} s"
    if slots is None:
        return f"sampling every {step}; --every to choose"
    strips = f"{slots:,} strip{'s' if slots != 1 else ''}"
    what = f"{strips}, one per frame" if per_frame else strips
    length = (
        f"{span:.3g}-s clip" if span is not None and span < 60 else (f"{describe_time(span)} film")
    )
    return f"sampling every {step} ({what}) for a {length}; --every or --strips to choose"


def usable_chapters(chapters: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    """A container's own chapters that a spectrum file can hold (the rules its readers
    check); the others are left out with a note."""
    from streamspec.core._schema import SchemaError, check_chapters
    from streamspec.core.limits import MAX_CHAPTERS

    good = []
    for c in chapters[:MAX_CHAPTERS]:
        try:
            check_chapters([c])
        except SchemaError:
            continue
        good.append(c)
    if len(good) < len(chapters):
        notes.append(
            f"{len(chapters) - len(good):,} of the video's {len(chapters):,} chapters left out "
            "(impossible times, or too many)"
        )
    return good


def chapters_option(value: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
    """``None``, ``"auto"`` (the container's chapters), a chapters file, or a list
    (checked by the rules a spectrum's data is read with)."""
    if isinstance(value, list):
        from streamspec.core._schema import SchemaError, check_chapters

        try:
            check_chapters(value)
        except SchemaError as exc:
            raise InputError(f"the chapters given: {exc}") from None
        return value
    if value is None:
        return value
    if value == "auto":
        return "auto"
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


def source_record(info: Any) -> dict[str, Any]:
    """The source as the spectrum records it; a file with its content fingerprint (what
    a corpus keys the film by, wherever the file is found)."""
    record: dict[str, Any] = info.as_dict()
    if info.kind == "file":
        from streamspec.core._io import file_fingerprint

        record["fingerprint"] = file_fingerprint(info.name.removeprefix("file://"))
    return record


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
    also: Iterable[tuple[str, str | os.PathLike[str] | None, str]] = (),
) -> Path:
    """Check, before any decoding, that a spectrum can be saved to ``output``.

    Refuses (one-line :class:`~streamspec.core.errors.OutputError`) an image, ``.json``
    sidecar or other output (``also``: ``(label, path, option)``, e.g. a page) that
    would replace any input -- the video, a chapters file -- or another output, an
    extension that is not an image format streamspec writes, and an unwritable place.
    Returns ``output``.
    """
    out = check_writable(output)  # first: a directory has no sidecar name
    chapters_file = None
    if isinstance(chapters, (str, os.PathLike)) and os.fspath(chapters) not in ("auto", "none"):
        chapters_file = chapters
    outputs = [("output", out, "-o"), ("output data", json_path_for(out), "-o"), *also]
    check_outputs(
        [("the input video", source_file(source)), ("the chapters file", chapters_file)],
        outputs,
        distinct=False,
    )
    image_format(out)  # before the outputs are compared: a .json image is its own data
    check_outputs([], outputs)
    check_writable(json_path_for(out))
    return out
