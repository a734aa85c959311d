"""Small filesystem helpers: atomic writes, bounded reads, output locks, image formats,
early output checks, and names made safe to print."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import socket
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from .errors import InputError, OutputError

if TYPE_CHECKING:
    from PIL import Image

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

StrPath: TypeAlias = "str | os.PathLike[str]"

# Output image formats by extension (Pillow's format names).
IMAGE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
_SUPPORTED = ".png, .jpg/.jpeg, .webp or .tif/.tiff"
# The largest side each format can hold (libjpeg, libwebp); PNG and TIFF have room.
_MAX_SIDE = {"JPEG": 65500, "WEBP": 16383}


# -- names a terminal shows ------------------------------------------------------------
# Bidirectional overrides and isolates reorder what follows them on screen.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI


def shown(text: object) -> str:
    """``text`` safe to print on a terminal or in a log: control characters (C0, DEL,
    C1, newlines), line separators and bidirectional overrides become ``\\x1b``-style
    escapes, so a file name can neither move the cursor, retitle or clear the terminal
    nor start a line of its own. Ordinary text (any script) is left as it is."""
    s = str(text)
    if not any(map(_unsafe, s)):
        return s
    return "".join(repr(ch)[1:-1] if _unsafe(ch) else ch for ch in s)


def quoted(text: object) -> str:
    """``text`` in quotes for a message, escaped as :func:`shown` does (repr-like)."""
    return repr(str(text))  # repr escapes every character that is not printable


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


def _base(path: Path) -> str:
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
    base = _base(p)
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
    return tempfile.mkstemp(prefix=f".{_base(p)}.{os.getpid()}-{_HOST}.", suffix=suffix, dir=folder)


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


# -- locks ------------------------------------------------------------------------------------
class OutputBusyError(OutputError):
    """Another process is writing the same output."""


_HELD: dict[str, tuple[int, int]] = {}  # lock file -> (fd, depth), this process's
_THREADS: dict[str, threading.RLock] = {}  # lock file -> its holder among our threads
_GUARD = threading.Lock()


@contextlib.contextmanager
def output_lock(
    path: str | os.PathLike[str], *, advice: str = "choose another name with -o"
) -> Iterator[None]:
    """Hold ``path`` for writing: a second process that asks for it (another
    ``render -o`` the same file, another batch into the same folder) is refused with
    one line (:class:`OutputBusyError`) instead of mixing its writes with this one's.

    An ``fcntl.flock`` on ``.NAME.lock`` beside ``path``, removed when released; the
    same thread may take it again (nested), another thread of this process waits for
    it. The kernel drops the lock if the process dies, so a killed writer never blocks
    the next one.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    lock = os.path.join(os.path.realpath(folder), f".{_base(p)}.lock")
    with _GUARD:
        mine = _THREADS.setdefault(lock, threading.RLock())
    # This process's threads take turns; other processes are refused.
    with mine, _locked(lock, p, advice):
        yield


@contextlib.contextmanager
def _locked(lock: str, p: Path, advice: str) -> Iterator[None]:
    import fcntl

    held = _HELD.get(lock)
    if held is not None:
        _HELD[lock] = (held[0], held[1] + 1)
        try:
            yield
        finally:
            fd, depth = _HELD[lock]
            _HELD[lock] = (fd, depth - 1)
        return
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            who = ""
            with contextlib.suppress(OSError, ValueError):
                pid = int(os.pread(fd, 32, 0).decode().strip() or "x")
                who = f" (process {pid})"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputBusyError(
                    f"{str(p)!r} is being written by another streamspec{who}; wait for it "
                    f"to end or {advice}"
                ) from None
            raise OutputError(f"cannot lock {str(p)!r}: {exc.strerror or exc}") from None
        # The holder before us may have removed the file as we opened it: lock the
        # file that is there now, or try again.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[lock] = (fd, 1)
    try:
        yield
    finally:
        _HELD.pop(lock, None)
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still held: no one can lock the removed file and win
        os.close(fd)


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


def same_file(a: StrPath, b: StrPath) -> bool:
    """Whether ``a`` and ``b`` name the same file.

    When both exist, :func:`os.path.samefile` decides (so hard links, symlinks and other
    spellings are caught); otherwise the normalised real paths are compared.
    """
    with contextlib.suppress(OSError):
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_outputs(
    inputs: Iterable[tuple[str, StrPath | None]],
    outputs: Iterable[tuple[str, StrPath | None, str]],
    *,
    distinct: bool = True,
) -> None:
    """Refuse, with one line, any output that is an input (or, with ``distinct``,
    another output).

    ``inputs`` are ``(what, path)`` pairs such as ``("the input video", "film.mp4")``;
    ``outputs`` are ``(label, path, option)`` triples such as ``("output", "out.png",
    "-o")`` -- the option is the one to change, named in the message. ``None`` paths are
    skipped. Call it before any work starts: an output must never replace an input.
    """
    ins = [(what, p) for what, p in inputs if p is not None]
    outs = [(label, p, option) for label, p, option in outputs if p is not None]
    for label, out, option in outs:
        for what, src in ins:
            if same_file(out, src):
                # Name the input too when it is spelt differently (a link, ./, ...).
                also = "" if os.fspath(src) == os.fspath(out) else f" {os.fspath(src)!r}"
                raise OutputError(
                    f"{label} {os.fspath(out)!r} is {what}{also}; choose another name with {option}"
                )
    if not distinct:
        return
    for i, (label, out, option) in enumerate(outs):
        for other_label, other, _ in outs[:i]:
            if same_file(out, other):
                raise OutputError(
                    f"{label} {os.fspath(out)!r} is the same file as the {other_label}; "
                    f"choose another name with {option}"
                )


def image_format(path: StrPath) -> str:
    """Pillow's format name for an output image named ``path``, by its extension.

    Raises a one-line :class:`OutputError` naming the supported extensions otherwise.
    """
    suffix = Path(path).suffix.lower()
    fmt = IMAGE_FORMATS.get(suffix)
    if fmt is None:
        what = f": cannot write {suffix} images" if suffix else " has no extension"
        raise OutputError(f"output {os.fspath(path)!r}{what}; name it {_SUPPORTED}")
    return fmt


def check_image_output(path: StrPath) -> tuple[Path, str]:
    """:func:`check_writable`, then :func:`image_format`: the path and its format."""
    p = check_writable(path)
    return p, image_format(p)


def check_format_size(size: tuple[int, int], path: StrPath) -> None:
    """Refuse, with one line, an image too large for the format ``path`` names."""
    fmt = image_format(path)
    limit = _MAX_SIDE.get(fmt)
    if limit is not None and max(size) > limit:
        raise OutputError(
            f"output {os.fspath(path)!r}: a {size[0]}x{size[1]} image is too large for a "
            f"{Path(path).suffix.lower()} file (at most {limit} pixels a side); use .png or .tif"
        )


def _for_format(img: Image.Image, fmt: str) -> Image.Image:
    """``img`` in a mode ``fmt`` can hold, without losing its transparency silently."""
    from PIL import Image

    if fmt == "PNG":
        return img
    if img.mode == "P" and img.has_transparency_data:
        # Only PNG keeps a palette's transparent entry; the others get real alpha.
        img = img.convert("RGBA")
    if fmt != "JPEG" or img.mode in ("RGB", "L", "CMYK"):
        return img
    # JPEG has no alpha: transparent pixels (a partial spectrum's empty slots, a
    # quantized image's transparent areas) are laid over black.
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba).convert(
            "RGB"
        )
    return img.convert("RGB")


def _with_srgb_chunk(pnginfo: Any) -> Any:
    """A copy of ``pnginfo`` (or a new one) with PNG's ``sRGB`` chunk (perceptual
    intent): the pixels are sRGB, and colour-managed viewers should show them as such."""
    from PIL import PngImagePlugin

    out = PngImagePlugin.PngInfo()
    if pnginfo is not None:
        out.chunks = list(pnginfo.chunks)
    if not any(chunk[0] in (b"sRGB", b"iCCP") for chunk in out.chunks):
        out.add(b"sRGB", b"\x00")
    return out


@functools.cache
def _srgb_profile() -> bytes | None:
    """An sRGB ICC profile (Pillow's LittleCMS), for formats without an sRGB chunk; None
    when Pillow was built without it."""
    try:
        from PIL import ImageCms

        return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    except (ImportError, OSError):  # pragma: no cover - Pillow without LittleCMS
        return None


def image_writer(
    img: Image.Image,
    path: StrPath,
    *,
    pnginfo: Any = None,
    software: str | None = None,
    description: str | None = None,
    compress_level: int | None = None,
) -> Callable[[IO[bytes]], object]:
    """A function that writes ``img`` to a file object in the format ``path``'s
    extension names (see :func:`save_image` for the options); checks the format and
    the size first."""
    from PIL import Image

    fmt = image_format(path)
    check_format_size(img.size, path)
    out = _for_format(img, fmt)
    kw: dict[str, Any] = {}
    if fmt == "PNG":
        kw["pnginfo"] = _with_srgb_chunk(pnginfo)
        if compress_level is not None:
            kw["compress_level"] = compress_level
    else:
        exif = Image.Exif()
        if software:
            exif[0x0131] = software  # Software
        if description:
            exif[0x010E] = description  # ImageDescription
        if len(exif):
            kw["exif"] = exif
        profile = _srgb_profile()
        if profile:  # the pixels are sRGB: say so, so viewers do not reinterpret them
            kw["icc_profile"] = profile
        if fmt == "JPEG":
            kw.update(quality=95, subsampling=0)
        elif fmt == "WEBP":
            kw["lossless"] = True  # exact colours, as in the PNG
        elif fmt == "TIFF":
            kw["compression"] = "tiff_deflate"
    return lambda fh: out.save(fh, format=fmt, **kw)


def save_image(
    img: Image.Image,
    path: StrPath,
    *,
    pnginfo: Any = None,
    software: str | None = None,
    description: str | None = None,
    compress_level: int | None = None,
) -> Path:
    """Write ``img`` atomically in the format ``path``'s extension names.

    PNG keeps ``pnginfo`` (text chunks) and ``compress_level``. JPEG (quality 95, no
    chroma subsampling: strips have sharp colour edges), lossless WebP and TIFF carry
    ``software`` and ``description`` as EXIF tags instead (non-ASCII becomes ``?``).
    JPEG has no alpha: transparent pixels are laid over black.
    """
    write = image_writer(
        img,
        path,
        pnginfo=pnginfo,
        software=software,
        description=description,
        compress_level=compress_level,
    )
    return atomic_write(path, write)
