"""Small filesystem helpers: atomic writes and early output checks."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import InputError, OutputError

__all__ = ["atomic_write", "check_writable", "input_file", "unique_path"]


def input_file(
    path: str | os.PathLike[str], what: str, *, label: str = "", allow_empty: bool = True
) -> Path:
    """``path`` as a Path if it is an existing regular file, else a one-line
    :class:`InputError` ("no such file", "is a directory, not WHAT", "is empty").

    ``label`` prefixes the name in messages (e.g. ``"chapters file "``).
    """
    p = Path(path)
    name = f"{label}{str(path)!r}"
    if not p.exists():
        raise InputError(f"{name}: no such file")
    if p.is_dir():
        raise InputError(f"{name} is a directory, not {what}")
    if not allow_empty and p.stat().st_size == 0:
        raise InputError(f"{name} is empty")
    return p


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, with a clear message, if ``path`` cannot be written.

    Checks that the parent directory exists, is a directory and is writable, and that
    ``path`` itself is not a directory. Nothing is created.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output {str(p)!r} is a directory; give a file name")
    if not parent.exists():
        raise OutputError(f"output directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise OutputError(f"output directory {str(parent)!r} is not a directory")
    # Try it: permission bits say nothing for root or read-only mounts.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        reason = exc.strerror or "not writable"
        raise OutputError(f"output directory {str(parent)!r} is not writable ({reason})") from None
    os.close(fd)
    os.unlink(probe)
    return p


@contextlib.contextmanager
def _temp_beside(path: Path, mode: str) -> Iterator[tuple[IO, str]]:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh, tmp
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file through ``write(fh)`` into a temp file beside it, then rename.

    Readers see either the old file or the complete new one, never a half-written file,
    whatever happens during the write (an exception, Ctrl-C, a full disk).
    """
    p = check_writable(path)
    try:
        with _temp_beside(p, "wb") as (fh, tmp):
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from exc
    return p


def unique_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if it does not exist, else ``stem-2.ext``, ``stem-3.ext``, ... that does not."""
    p = Path(path)
    if not p.exists():
        return p
    n = 2
    while True:
        q = p.with_name(f"{p.stem}-{n}{p.suffix}")
        if not q.exists():
            return q
        n += 1
