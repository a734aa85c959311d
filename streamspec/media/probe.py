"""What a container says before its pictures are decoded: whether it is a picture, cover
art, where its video really ends, its chapters, its running time, and the one-line
messages for an input that cannot be opened.
"""

from __future__ import annotations

import os
from typing import Any

import av
import av.error

from streamspec.media.base import Chapter

__all__ = [
    "chapters",
    "container_duration",
    "describe_open_error",
    "is_cover_art",
    "is_image_format",
    "measured_end",
    "not_found",
]


def is_image_format(name: str) -> bool:
    """A demuxer FFmpeg picks for a picture file: image2, or one of the image pipes
    (png_pipe, jpeg_pipe, webp_pipe ...); an animated GIF or PNG has a demuxer of its own
    and is a video."""
    return name == "image2" or (name.endswith("_pipe") and name != "gif_pipe")


def is_cover_art(stream: Any) -> bool:
    """An attached picture (cover art), not a video."""
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):  # PyAV without Stream.disposition
        return False


def not_found(kind: str, name: str) -> str:
    if kind == "webcam":
        return f"webcam {name!r} not found; list devices with 'streamspec devices'"
    return f"{name!r}: no such file"


def describe_open_error(kind: str, name: str, exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if kind == "webcam":
        if "busy" in text.lower():
            return f"webcam {name!r} is busy (another program is using it)"
        return f"cannot open webcam {name!r} ({text}); list devices with 'streamspec devices'"
    if kind == "lavfi":
        return f"bad lavfi graph {name!r} ({text})"
    return f"cannot open {name!r} ({text})"


# Packets read to find where a video really ends (a few GOPs past the last keyframe).
_END_PACKETS = 20_000


def measured_end(path: str, index: int, claimed: float, origin: float) -> float | None:
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


def chapters(container: Any) -> list[Chapter]:
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


def container_duration(path: str | os.PathLike[str], timeout: float = 2.0) -> float | None:
    """The running time (s) a local file's container header gives, or None when it
    gives none or the file cannot be opened (the caller's own open says why)."""
    try:
        with av.open(os.fspath(path), timeout=timeout) as container:
            if container.duration:
                return float(container.duration / av.time_base)
    except (av.error.FFmpegError, OSError, ValueError):
        pass
    return None
