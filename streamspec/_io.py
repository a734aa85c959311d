"""Small filesystem helpers: atomic writes, image formats and early output checks."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from .errors import InputError, OutputError

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "IMAGE_FORMATS",
    "atomic_write",
    "check_format_size",
    "check_image_output",
    "check_outputs",
    "check_writable",
    "file_fingerprint",
    "image_format",
    "input_file",
    "same_file",
    "save_image",
    "unique_path",
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


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
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
    return atomic_write(path, lambda fh: out.save(fh, format=fmt, **kw))
