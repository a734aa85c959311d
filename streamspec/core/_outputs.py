"""Outputs: who may write one (a lock per output file), which names may be written (never
an input, never another output of the same run, a free name beside an old one), and
images in the format their extension names (PNG, JPEG, WebP, TIFF: each format's
limits, transparency and sRGB tags), written atomically."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from streamspec.core._atomic import StrPath, atomic_write, check_writable, side_name
from streamspec.core.errors import OutputError
from streamspec.core.limits import MAX_IMAGE_SIDE, MAX_WEBP_SIDE

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "IMAGE_FORMATS",
    "OutputBusyError",
    "check_format_size",
    "check_image_output",
    "check_outputs",
    "image_format",
    "image_writer",
    "output_lock",
    "same_file",
    "save_image",
    "unique_path",
]

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
_MAX_SIDE = {"JPEG": MAX_IMAGE_SIDE, "WEBP": MAX_WEBP_SIDE}


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
    lock = os.path.join(os.path.realpath(folder), f".{side_name(p)}.lock")
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


# -- image formats ----------------------------------------------------------------------
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
