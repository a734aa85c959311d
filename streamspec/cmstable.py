"""FFmpeg's colour management, sampled once into a table and applied to each picture.

swscale's colour management (FFmpeg 8) builds its gamut-mapping tables for every new
scaler -- ~3 CPU-seconds (4-6 s on this 2-core machine), once per source and output
size. :mod:`.sources.pyav` instead runs it once on a grid of Y'CbCr values
(:func:`grid`, 129^3 nodes spanning the whole 16-bit range) and keeps the sRGB it gives
back: a table that :func:`apply_table` interpolates (trilinear, Numba) for pictures
already scaled to their output size in 16-bit 4:4:4. Measured on 4K HDR10 frames
against swscale's own output: 0.16 levels apart on average, 99 % of values within 1
(the rest near the gamut's edge, where the mapping bends between nodes).

Tables are kept on disk (:func:`load` / :func:`save`), keyed by everything the mapping
depends on (the FFmpeg version, the source's colour tags and HDR metadata, the target),
so the set-up is paid once per machine, not once per render. Pure: NumPy and Numba only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["NODES", "apply_table", "cache_dir", "grid", "key", "load", "save", "warm"]

NODES = 129  # per axis; node k is the 16-bit value k * 512 (the last, 65536, clamped)
_SHIFT = 9  # 65536 / (NODES - 1) == 1 << _SHIFT
_VERSION = 1  # of the table's layout; part of the key
# At most this many tables (6.4 MB each) stay on disk; the oldest go first.
MAX_CACHED = 8


def grid() -> tuple[NDArray[np.uint16], NDArray[np.uint16], NDArray[np.uint16]]:
    """The Y, Cb and Cr planes (each ``(NODES * NODES, NODES)``, uint16) of the picture
    that samples every node: row ``v * NODES + u``, column ``y``."""
    ax = np.minimum(np.arange(NODES, dtype=np.int64) << _SHIFT, 65535).astype(np.uint16)
    v, u, y = np.meshgrid(ax, ax, ax, indexing="ij")
    shape = (NODES * NODES, NODES)
    return y.reshape(shape), u.reshape(shape), v.reshape(shape)


def table_from_rgb(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The table from the converted grid picture (``(NODES * NODES, NODES, 3)`` sRGB):
    ``[v, u, y]`` -> sRGB, C-contiguous."""
    return np.ascontiguousarray(rgb.reshape(NODES, NODES, NODES, 3))


@njit(cache=True, nogil=True)
def _apply(yuv, table, out):  # pragma: no cover - compiled; see tests/test_cmstable.py
    h, w = yuv.shape[0], yuv.shape[1]
    mask = (1 << _SHIFT) - 1
    scale = np.float32(1.0 / (1 << _SHIFT))
    for r in range(h):
        for c in range(w):
            y = yuv[r, c, 0]
            u = yuv[r, c, 1]
            v = yuv[r, c, 2]
            yi = y >> _SHIFT
            ui = u >> _SHIFT
            vi = v >> _SHIFT
            fy = np.float32(y & mask) * scale
            fu = np.float32(u & mask) * scale
            fv = np.float32(v & mask) * scale
            for k in range(3):
                c000 = np.float32(table[vi, ui, yi, k])
                c001 = np.float32(table[vi, ui, yi + 1, k])
                c010 = np.float32(table[vi, ui + 1, yi, k])
                c011 = np.float32(table[vi, ui + 1, yi + 1, k])
                c100 = np.float32(table[vi + 1, ui, yi, k])
                c101 = np.float32(table[vi + 1, ui, yi + 1, k])
                c110 = np.float32(table[vi + 1, ui + 1, yi, k])
                c111 = np.float32(table[vi + 1, ui + 1, yi + 1, k])
                c00 = c000 + (c001 - c000) * fy
                c01 = c010 + (c011 - c010) * fy
                c10 = c100 + (c101 - c100) * fy
                c11 = c110 + (c111 - c110) * fy
                c0 = c00 + (c01 - c00) * fu
                c1 = c10 + (c11 - c10) * fu
                out[r, c, k] = np.uint8(c0 + (c1 - c0) * fv + np.float32(0.5))


def apply_table(yuv: NDArray[np.uint16], table: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """sRGB for a ``(H, W, 3)`` uint16 Y'CbCr picture (the 16-bit 4:4:4 values, in the
    source's own range), interpolated in ``table`` (see :func:`table_from_rgb`)."""
    yuv = np.ascontiguousarray(yuv, dtype=np.uint16)
    out = np.empty(yuv.shape, np.uint8)
    _apply(yuv, table, out)
    return out


def warm() -> None:
    """Load the kernel (Numba's start-up, ~1-2 s the first time in a process): a source
    runs this in a thread when it opens, so that it overlaps with decoding instead of
    stalling the first picture's conversion."""
    apply_table(np.zeros((1, 1, 3), np.uint16), np.zeros((2, 2, 2, 3), np.uint8))


def key(**parts: Any) -> str:
    """A file name for the table of a mapping described by ``parts`` (bytes, numbers,
    strings)."""
    h = hashlib.sha256(f"v{_VERSION} n{NODES}".encode())
    for name in sorted(parts):
        value = parts[name]
        h.update(name.encode() + b"=")
        h.update(value if isinstance(value, bytes) else repr(value).encode())
        h.update(b";")
    return f"cms-{h.hexdigest()[:32]}.npy"


def cache_dir() -> Path | None:
    """Where tables are kept: ``$STREAMSPEC_CACHE`` (``off``: nowhere), else
    ``$XDG_CACHE_HOME/streamspec`` or ``~/.cache/streamspec``."""
    env = os.environ.get("STREAMSPEC_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none", "0") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "streamspec"


def load(name: str) -> NDArray[np.uint8] | None:
    """The cached table ``name``, or None (absent, unreadable or not a table)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        table = np.load(folder / name, allow_pickle=False)
        os.utime(folder / name)  # recently used: evicted last
    except (OSError, ValueError):
        return None
    if table.dtype != np.uint8 or table.shape != (NODES, NODES, NODES, 3):
        return None
    return np.ascontiguousarray(table)


def save(name: str, table: NDArray[np.uint8]) -> None:
    """Keep ``table`` (atomically: temp file and rename); the oldest tables beyond
    :data:`MAX_CACHED` are removed. A cache that cannot be written is no error."""
    folder = cache_dir()
    if folder is None:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.part"
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, table, allow_pickle=False)
            os.replace(tmp, folder / name)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        tables = sorted(folder.glob("cms-*.npy"), key=lambda p: p.stat().st_mtime)
        for old in tables[:-MAX_CACHED]:
            old.unlink()
