"""Bounded reads: an input checked to be something to read, read up to a limit counted
as it is read (pipes and devices too), JSON parsed with one-line errors, and a film
file's content fingerprint.

The filesystem helpers that grew beside them live in their own modules and are
importable from here as well: atomic writes and temp files (:mod:`._atomic`), output
locks, collision checks and image formats (:mod:`._outputs`), names made safe to
print (:mod:`._text`).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from streamspec.core._atomic import (
    StrPath,
    atomic_write,
    check_writable,
    clean_stale,
    commit,
    make_temp,
    write_aside,
)
from streamspec.core._outputs import (
    IMAGE_FORMATS,
    OutputBusyError,
    check_format_size,
    check_image_output,
    check_outputs,
    image_format,
    image_writer,
    output_lock,
    same_file,
    save_image,
    unique_path,
)
from streamspec.core._text import quoted, shown
from streamspec.core.errors import InputError

__all__ = [
    "IMAGE_FORMATS",
    "OutputBusyError",
    "atomic_write",
    "check_format_size",
    "check_image_output",
    "check_outputs",
    "check_writable",
    "clean_stale",
    "commit",
    "file_fingerprint",
    "image_format",
    "image_writer",
    "input_file",
    "load_json",
    "make_temp",
    "output_lock",
    "parse_json",
    "quoted",
    "read_limited",
    "same_file",
    "save_image",
    "shown",
    "unique_path",
    "write_aside",
]


# -- inputs -----------------------------------------------------------------------------
def input_file(
    path: str | os.PathLike[str],
    what: str,
    *,
    label: str = "",
    allow_empty: bool = True,
    seekable: bool = False,
) -> Path:
    """``path`` as a Path if it names something to read, else a one-line
    :class:`InputError` ("no such file", "is a directory, not WHAT", "is empty").

    Pipes and devices (``/dev/stdin``, ``<(...)``) are accepted and read with a bound
    (:func:`read_limited`) unless ``seekable``: a video is read by seeking, which a pipe
    cannot do, so that is said instead of "is empty". ``label`` prefixes the name in
    messages (e.g. ``"chapters file "``).
    """
    p = Path(path)
    name = f"{label}{str(path)!r}"
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{name} is a directory, not {what}")
    if not stat.S_ISREG(st.st_mode):
        if seekable:
            kind = (
                "a pipe" if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode) else "a device"
            )
            raise InputError(
                f"{name} is {kind}, not a file: {what} is read by seeking, which {kind} "
                "cannot do; save it to a file first"
            )
        return p
    if not allow_empty and st.st_size == 0:
        raise InputError(f"{name} is empty")
    return p


# A film file's fingerprint reads this much from each end.
FINGERPRINT_BYTES = 1 << 20


def file_fingerprint(path: StrPath) -> str | None:
    """A regular file's content fingerprint: 32 hex digits of BLAKE2b over its size and
    its first and last MiB (two reads, whatever its size), or None for anything else
    (a FIFO, a device, an unreadable file). The same file anywhere -- moved, renamed,
    copied to another machine -- has the same one; files differing in size, header
    (an MP4's index, a Matroska's segment UID) or ending have different ones."""
    import hashlib
    import stat

    try:
        # Non-blocking: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            digest = hashlib.blake2b(st.st_size.to_bytes(8, "little"), digest_size=16)
            digest.update(fh.read(FINGERPRINT_BYTES))
            if st.st_size > FINGERPRINT_BYTES:
                fh.seek(max(FINGERPRINT_BYTES, st.st_size - FINGERPRINT_BYTES))
                digest.update(fh.read(FINGERPRINT_BYTES))
    except OSError:
        return None
    return digest.hexdigest()


def read_limited(
    path: str | os.PathLike[str], limit: int, what: str, *, label: str = "", text: bool = True
) -> bytes:
    """The bytes of ``path`` (a file, a pipe or a device), refusing, in one line, more
    than ``limit`` bytes -- counted as they are read, not trusted from ``st_size``
    (which is 0 for pipes and devices). With ``text``, a NUL byte (a binary file,
    ``/dev/zero``) is refused as soon as it is read."""
    p = input_file(path, what, label=label)
    name = f"{label}{str(path)!r}"
    chunks: list[bytes] = []
    got = 0
    try:
        with open(p, "rb") as fh:
            while got <= limit:
                chunk = fh.read(min(1 << 20, limit + 1 - got))
                if not chunk:
                    break
                if text and b"\0" in chunk:
                    raise InputError(f"{name} is binary, not {what}")
                chunks.append(chunk)
                got += len(chunk)
    except OSError as exc:
        raise InputError(f"{name}: cannot read it ({exc.strerror or exc})") from None
    if got > limit:
        raise InputError(f"{name} is larger than {_size(limit)}; {what} is read up to that size")
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def load_json(path: str | os.PathLike[str], limit: int, what: str, *, label: str = "") -> Any:
    """JSON data of ``path``, read by :func:`read_limited`; one-line :class:`InputError`
    for a file that is not JSON, nested too deeply to read, or too large."""
    return parse_json(read_limited(path, limit, what, label=label), path, what, label=label)


def parse_json(raw: bytes, path: str | os.PathLike[str], what: str, *, label: str = "") -> Any:
    """JSON data of the bytes ``raw`` read from ``path`` (named in the one-line
    :class:`InputError` for bytes that are not JSON or are nested too deeply)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"{label}{str(path)!r} is not {what}") from None
    except RecursionError:
        raise InputError(f"{label}{str(path)!r} is nested too deeply to be {what}") from None
