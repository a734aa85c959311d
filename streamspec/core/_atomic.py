"""Atomic writes: a file is written into a temp file beside its target, flushed, then
renamed over it, so readers see the old file or the whole new one, never half of one.

Also the temp files' names (whose process, on which machine, so a killed writer's are
cleaned up by the next write beside them) and the early check that a place is writable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TypeAlias

from streamspec.core.errors import OutputError

__all__ = [
    "StrPath",
    "atomic_write",
    "check_writable",
    "clean_stale",
    "commit",
    "make_temp",
    "side_name",
    "write_aside",
]

StrPath: TypeAlias = "str | os.PathLike[str]"


# -- temp files beside an output ----------------------------------------------------------
# A temp file is named ".NAME.PID-HOST.RANDOM.part": the writer's process id and a tag of
# its machine say whose it is, so one left by a killed process is removed by the next
# write beside it (only a process of the same machine that is gone).
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
_TEMP = re.compile(r"^\.(?P<base>.+)\.(?P<pid>\d+)-(?P<host>[0-9a-f]{6})\.[^.]+\.(?:part|probe)$")


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def side_name(path: Path) -> str:
    """``path``'s name, shortened (with a hash of the whole name) so that the temp and
    lock names made of it fit the file system's name limit."""
    name = path.name
    room = _name_max(path.parent if str(path.parent) else Path(".")) - 40
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= room:
        return name
    digest = hashlib.sha1(raw).hexdigest()[:12]
    head = raw[: max(0, room - 13)].decode("utf-8", "ignore")
    return f"{head}~{digest}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process, alive
        return True
    return True


def clean_stale(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temp files a killed streamspec process of this machine left beside
    ``path`` (those of live processes are kept). Returns what was removed."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    base = side_name(p)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or m["base"] != base or m["host"] != _HOST or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def make_temp(path: str | os.PathLike[str], suffix: str = ".part") -> tuple[int, str]:
    """A new temp file beside ``path`` (``mkstemp``'s ``(fd, name)``), named as this
    process's, after removing those that killed processes left there."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    clean_stale(p)
    return tempfile.mkstemp(
        prefix=f".{side_name(p)}.{os.getpid()}-{_HOST}.", suffix=suffix, dir=folder
    )


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
    name_max = _name_max(parent)
    if len(p.name.encode("utf-8", "surrogateescape")) > name_max:
        raise OutputError(
            f"output {str(p)!r}: the name is longer than the {name_max} bytes a file name "
            "can have here"
        )
    # Try it: permission bits say nothing for root or read-only mounts.
    try:
        fd, probe = make_temp(p, ".probe")
    except OSError as exc:
        reason = exc.strerror or "not writable"
        raise OutputError(f"output directory {str(parent)!r} is not writable ({reason})") from None
    os.close(fd)
    os.unlink(probe)
    return p


# -- writing ----------------------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a crash after it keeps them)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_aside(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> str:
    """Write a file through ``write(fh)`` into a temp file beside ``path``, flushed to
    disk, with the usual permissions; returns the temp file's name (see :func:`commit`).
    Nothing of ``path`` changes; on any error the temp file is removed."""
    p = Path(path)
    tmp = ""
    try:
        fd, tmp = make_temp(p)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except BaseException as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from exc
        raise
    return tmp


def commit(pairs: Iterable[tuple[str, str | os.PathLike[str]]]) -> None:
    """Rename each temp file of :func:`write_aside` over its target, in the order given,
    then make the renames durable. A rename cannot fail half-way: each target is the
    old file or the new one."""
    folders: set[Path] = set()
    pending = list(pairs)
    try:
        while pending:
            tmp, target = pending[0]
            os.replace(tmp, target)
            pending.pop(0)
            t = Path(target)
            folders.add(t.parent if str(t.parent) else Path("."))
    except OSError as exc:
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise OutputError(
            f"cannot write {os.fspath(pending[0][1])!r}: {exc.strerror or exc}"
        ) from exc
    for folder in folders:
        _fsync_dir(folder)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file through ``write(fh)`` into a temp file beside it, then rename.

    Readers see either the old file or the complete new one, never a half-written file,
    whatever happens during the write (an exception, Ctrl-C, a full disk).
    """
    p = check_writable(path)
    commit([(write_aside(p, write), p)])
    return p
