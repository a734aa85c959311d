"""Still-image colour quantization (a palette PNG: the image compressed to K colours).

Every pixel is replaced by the nearest of K colours found with :class:`ColourKMeans`,
and the result is written as a palette PNG (or JPEG, WebP, TIFF by the extension).
Memory stays close to the image itself: pixels are never copied to floating point,
labels are one byte each for K <= 256 and the palette PNG is built directly on the
label buffer.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from streamspec.analysis import _kernels as K
from streamspec.analysis.kmeans import ColourKMeans
from streamspec.core._deprecated import warn_renamed
from streamspec.core._io import (
    check_format_size,
    check_image_output,
    check_outputs,
    input_file,
    save_image,
)
from streamspec.core.errors import InputError
from streamspec.core.limits import MAX_IMAGE_COLOURS, MAX_QUANTIZE_PIXELS

__all__ = [
    "QuantizeResult",
    "load_rgb",
    "png_size",
    "quantize_array",
    "quantize_file",
    "quantized_image",
]

_PILLOW_LIMIT = threading.Lock()


@contextlib.contextmanager
def _pixel_limit(limit: int) -> Iterator[None]:
    """Pillow's decompression-bomb check at ``limit`` pixels for the images opened inside
    (it has no per-call setting, only a module global), then as it was: importing
    streamspec never changes how Pillow treats anyone else's images. Above ``limit`` its
    warning becomes an error; the lock keeps two of our opens from interleaving."""
    with _PILLOW_LIMIT, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


@dataclass
class QuantizeResult:
    """What :func:`quantize_file` did, with the numbers the CLI prints."""

    colours: int
    mse: float
    input_bytes: int
    output_bytes: int
    width: int
    height: int
    output: Path
    compare: Path | None = None
    requested: int | None = None  # the K asked for (colours is what the image has)

    @property
    def colors(self) -> int:
        """Deprecated name of :attr:`colours`."""
        warn_renamed("QuantizeResult.colors", "QuantizeResult.colours")
        return self.colours

    @property
    def psnr(self) -> float:
        """Peak signal-to-noise ratio in dB (inf for a lossless result)."""
        return math.inf if self.mse == 0 else 10.0 * math.log10(255.0**2 / self.mse)

    @property
    def ratio(self) -> float:
        """Input bytes / output bytes."""
        return self.input_bytes / self.output_bytes if self.output_bytes else math.inf

    def _fewer(self) -> list[str]:
        if self.requested is None or self.colours >= self.requested:
            return []
        return [
            f"note         the image has only {self.colours} distinct colours, fewer than the "
            f"{self.requested} asked for: every colour is kept exactly"
        ]

    def summary(self) -> str:
        """The lines ``streamspec quantize`` prints."""
        psnr = "inf" if math.isinf(self.psnr) else f"{self.psnr:.2f}"
        lines = [
            f"image        {self.width}x{self.height}",
            f"colours      {self.colours}",
            *self._fewer(),
            f"MSE          {self.mse:.3f}",
            f"PSNR         {psnr} dB",
            f"input bytes  {self.input_bytes}",
            f"output bytes {self.output_bytes}",
            f"ratio        {self.ratio:.2f}x",
            f"wrote        {self.output}",
        ]
        if self.compare is not None:
            lines.append(f"compare      {self.compare}")
        return "\n".join(lines)


def _to_8bit(arr: NDArray) -> NDArray[np.uint8]:
    """Scale a 16/32-bit or float grey image to 8 bits (Pillow's convert would clip)."""
    if arr.dtype.kind == "f":
        hi = 1.0 if float(np.nanmax(arr)) <= 1.0 else 255.0
        return np.clip(np.rint(np.nan_to_num(arr) * (255.0 / hi)), 0, 255).astype(np.uint8)
    hi = 65535 if int(arr.max()) > 255 else 255
    return ((arr.astype(np.uint32) * 255 + hi // 2) // hi).astype(np.uint8)


def load_rgb(path: str | os.PathLike[str]) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None]:
    """Read an image as upright ``(H, W, 3)`` uint8 RGB plus its alpha (or ``None``).

    Handles EXIF orientation, palette/grey/CMYK/16-bit images. Raises :class:`InputError`
    with a one-line message for a missing, unreadable, non-image or truncated file.
    """
    p = input_file(path, "an image")
    try:
        with _pixel_limit(MAX_QUANTIZE_PIXELS):
            img: Image.Image = Image.open(p)
            img.load()
    except UnidentifiedImageError:
        raise InputError(f"{str(p)!r} is not an image Pillow can read") from None
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise InputError(f"{str(p)!r} cannot be decoded ({exc})") from None
    if img.width == 0 or img.height == 0:
        raise InputError(f"{str(p)!r} has no pixels")
    img = ImageOps.exif_transpose(img)

    mode = img.mode
    alpha: NDArray[np.uint8] | None = None
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        grey = _to_8bit(np.asarray(img))
        img.close()
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2)), None
    if (mode == "P" and "transparency" in img.info) or mode in ("PA", "LA", "RGBa", "La"):
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode == "RGBA":
        rgba = np.asarray(img)
        a = rgba[:, :, 3]
        if a.min() < 255:
            alpha = np.ascontiguousarray(a)
        rgb = np.ascontiguousarray(rgba[:, :, :3])
        del rgba
    else:
        rgb = np.asarray(img if mode == "RGB" else img.convert("RGB"))
    img.close()
    return np.ascontiguousarray(rgb), alpha


def quantize_array(
    rgb: NDArray[np.uint8],
    k: int,
    *,
    mask: NDArray[np.bool_] | None = None,
    random_state: int | None = 0,
) -> tuple[NDArray[np.uint8], NDArray[np.unsignedinteger], float]:
    """Quantize an ``(H, W, 3)`` image to ``k`` colours.

    Returns ``(palette (k', 3) uint8, labels (H, W), mse)`` where ``k' <= k`` (an image
    with fewer distinct colours keeps exactly those). With ``mask``, only the pixels where
    it is true are fitted and counted in the MSE (e.g. the visible ones of an RGBA image).
    """
    pixels = rgb.reshape(-1, 3)
    fit_on = pixels if mask is None else pixels[mask.reshape(-1)]
    if fit_on.shape[0] == 0:
        fit_on = pixels
    km = ColourKMeans(k, random_state=random_state).fit(fit_on)
    palette = km.palette_
    labels = km.labels_ if mask is None else km.predict(pixels)
    if mask is None:
        mse = K.sum_sq_error(pixels, palette, labels) / pixels.shape[0]
    else:
        sel = mask.reshape(-1)
        mse = K.sum_sq_error(pixels[sel], palette, labels[sel]) / max(int(sel.sum()), 1)
    return palette, labels.reshape(rgb.shape[:2]), float(mse)


def quantized_image(
    palette: NDArray[np.uint8],
    labels: NDArray[np.unsignedinteger],
    alpha: NDArray[np.uint8] | None = None,
) -> Image.Image:
    """The image to save: mode P for up to 256 colours (binary alpha as a transparent
    palette entry), else RGB or RGBA."""
    h, w = labels.shape
    binary_alpha = alpha is not None and bool(np.all((alpha == 0) | (alpha == 255)))
    if len(palette) <= 256 and (alpha is None or (binary_alpha and len(palette) < 256)):
        if alpha is not None:
            # One extra, fully transparent palette entry keeps binary alpha in mode P.
            labels = np.where(alpha == 0, len(palette), labels).astype(np.uint8)
        img = Image.frombuffer("P", (w, h), np.ascontiguousarray(labels), "raw", "P", 0, 1)
        pal = palette.reshape(-1).tolist()
        if alpha is not None:
            pal += [0, 0, 0]
            img.info["transparency"] = len(palette)
        img.putpalette(pal)
        return img
    out = np.empty((h * w, 3), np.uint8)
    K.gather_rgb(palette, labels.reshape(-1), out)
    rgb = out.reshape(h, w, 3)
    if alpha is None:
        return Image.fromarray(rgb, "RGB")
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def quantize_file(
    path: str | os.PathLike[str],
    k: int,
    output: str | os.PathLike[str],
    *,
    compare: str | os.PathLike[str] | None = None,
    random_state: int | None = 0,
) -> QuantizeResult:
    """Quantize an image file to ``k`` colours and save it (atomically).

    The output's extension picks the format: ``.png`` (a palette PNG for ``k <= 256``,
    RGB above; alpha is kept), ``.jpg``/``.jpeg`` (no alpha: transparent areas become
    black), ``.webp`` (lossless) or ``.tif``/``.tiff``. ``compare`` also writes the
    original and the result side by side, in its own extension's format. Neither output
    may be the input or each other: :class:`~streamspec.core.errors.OutputError` before any
    work.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InputError(f"k must be an integer, got {k!r}")
    if not 1 <= k <= MAX_IMAGE_COLOURS:
        raise InputError(f"k must be between 1 and {MAX_IMAGE_COLOURS}, got {k}")
    check_outputs(
        [("the input image", path)],
        [("output", output, "-o"), ("--compare image", compare, "--compare")],
    )
    out_path, _ = check_image_output(output)
    cmp_path = check_image_output(compare)[0] if compare is not None else None
    rgb, alpha = load_rgb(path)
    check_format_size((rgb.shape[1], rgb.shape[0]), out_path)
    if cmp_path is not None:
        check_format_size((2 * rgb.shape[1], rgb.shape[0]), cmp_path)
    mask = None if alpha is None else alpha > 0
    palette, labels, mse = quantize_array(rgb, k, mask=mask, random_state=random_state)
    img = quantized_image(palette, labels, alpha)
    save_image(img, out_path)
    if cmp_path is not None:
        side = Image.new("RGBA" if alpha is not None else "RGB", (2 * rgb.shape[1], rgb.shape[0]))
        orig = Image.fromarray(rgb, "RGB")
        if alpha is not None:
            orig = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
        side.paste(orig, (0, 0))
        side.paste(img.convert(side.mode), (rgb.shape[1], 0))
        save_image(side, cmp_path)
    return QuantizeResult(
        colours=len(palette),
        mse=mse,
        input_bytes=os.path.getsize(path),
        output_bytes=os.path.getsize(out_path),
        width=rgb.shape[1],
        height=rgb.shape[0],
        output=out_path,
        compare=cmp_path,
        requested=k,
    )


def png_size(img: Image.Image) -> int:
    """Size of ``img`` as a PNG in bytes, without writing a file."""
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.tell()
