"""Colour management as a table: made once from the formulas, applied to each picture.

A source's conversion from Y'CbCr to sRGB -- matrix and range, transfer curve (PQ, HLG
with its OOTF, or an SDR display curve), primaries to BT.709 in linear light, HDR
highlights rolled off (:func:`streamspec.analysis.colour.rolloff`) -- is computed once, with
NumPy, at every node of a grid of 16-bit Y'CbCr values (129^3 nodes spanning the whole
16-bit range; :func:`build` from a :class:`Mapping`), and :func:`apply_table`
interpolates it (trilinear, Numba) for pictures already scaled to their output size in
16-bit 4:4:4: one lookup per pixel whatever the curve costs.

Tables are kept on disk (:func:`load` / :func:`save`), keyed by the :class:`Mapping`
(every number the table depends on) and the layout's version, so the set-up (about a
second) is paid once per machine and kind of source. Pure: NumPy and Numba only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from streamspec.analysis.colour import (
    HDR_REFERENCE_WHITE,
    hlg_inverse_oetf,
    hlg_ootf,
    pq_eotf,
    primaries_matrix,
    rgb_to_xyz,
    rolloff,
    sdr_decode,
    sdr_encode,
)
from streamspec.core._atomic import atomic_write
from streamspec.core.limits import MAX_CACHED_TABLES

__all__ = [
    "NODES",
    "OFFSET",
    "STEP",
    "Mapping",
    "apply_table",
    "build",
    "cache_dir",
    "convert",
    "grid",
    "key",
    "load",
    "save",
    "to_srgb",
    "warm",
]

NODES = 129  # per axis; node k is the 16-bit value k * 512 (the last, 65536, clamped)
_SHIFT = 9  # 65536 / (NODES - 1) == 1 << _SHIFT
# Of the table's layout and of what makes it; part of the key. 1: sampled from swscale
# (HDR scaled by its peak, not by reference white); 2: built from the formulas here,
# stored with STEP and OFFSET.
_VERSION = 2
MAX_CACHED = MAX_CACHED_TABLES  # the limit and its reason live in limits.py


def grid() -> tuple[NDArray[np.uint16], NDArray[np.uint16], NDArray[np.uint16]]:
    """The Y, Cb and Cr planes (each ``(NODES * NODES, NODES)``, uint16) of the picture
    that samples every node: row ``v * NODES + u``, column ``y``."""
    ax = np.minimum(np.arange(NODES, dtype=np.int64) << _SHIFT, 65535).astype(np.uint16)
    v, u, y = np.meshgrid(ax, ax, ax, indexing="ij")
    shape = (NODES * NODES, NODES)
    return y.reshape(shape), u.reshape(shape), v.reshape(shape)


#: A table value ``t`` (uint8) stands for ``t * STEP - OFFSET`` sRGB levels: -32..286.75,
#: room beyond 0..255 so that the clip happens per pixel, after interpolation (colours on
#: BT.709's edge come out right), in the old table's 6.4 MB (steps of 1.25 levels).
STEP = 1.25
OFFSET = 32.0


@dataclass(frozen=True)
class Mapping:
    """Everything a table depends on (its cache key): how to read the source's 16-bit
    Y'CbCr and how to bring it to sRGB."""

    kr: float  # the Y'CbCr matrix's luma weights of red and blue
    kb: float
    full_range: bool
    bits: int  # the source's bit depth: 16-bit full-range values are ``code << (16 - bits)``
    transfer: str  # FFmpeg's name: smpte2084 (PQ), arib-std-b67 (HLG), or an SDR curve
    primaries: str  # FFmpeg's name (see streamspec.analysis.colour.PRIMARIES)
    tonemap: str  # HDR: "rolloff" (streamspec.analysis.colour.rolloff) or "clip" at reference white
    peak: float = 1000.0  # nits: where PQ's roll-off reaches SDR white

    @property
    def hdr(self) -> bool:
        return self.transfer in ("smpte2084", "arib-std-b67")


def _decode(m: Mapping, y: NDArray[np.float64], u: NDArray[np.float64], v: NDArray[np.float64]):
    """16-bit Y'CbCr -> non-linear R'G'B' ``(..., 3)``."""
    if m.full_range:
        scale = float(((1 << m.bits) - 1) << (16 - m.bits))
        yy, cb, cr = y / scale, (u - 32768.0) / scale, (v - 32768.0) / scale
    else:  # 16-bit limited range: black 16 << 8, white 235 << 8, chroma +-112 << 8
        yy, cb, cr = (y - 4096.0) / 56064.0, (u - 32768.0) / 57344.0, (v - 32768.0) / 57344.0
    r = yy + 2 * (1 - m.kr) * cr
    b = yy + 2 * (1 - m.kb) * cb
    g = (yy - m.kr * r - m.kb * b) / (1 - m.kr - m.kb)
    return np.clip(np.stack(np.broadcast_arrays(r, g, b), axis=-1), 0.0, 1.0)


def _encode(lin: NDArray[np.float64], transfer: str) -> NDArray[np.float64]:
    """Linear light -> signal 0..1, extended beyond both ends (below 0 along the curve's
    linear toe, or its mirror image), so that the table interpolates smoothly across the
    gamut's edge and the clip happens per pixel, after interpolation."""
    mag = np.abs(lin)
    inside = sdr_encode(np.minimum(mag, 1.0), transfer)
    # above 1: continue with the slope at 1 (only clipped values live there)
    eps = 1e-4
    slope = (1.0 - float(sdr_encode(1.0 - eps, transfer))) / eps
    enc = np.where(mag > 1.0, 1.0 + (mag - 1.0) * slope, inside)
    return np.sign(lin) * enc


def convert(m: Mapping, y: ArrayLike, u: ArrayLike, v: ArrayLike) -> NDArray[np.float64]:
    """sRGB levels (float, unclipped ``(..., 3)``; clip and round for pixels) of 16-bit
    Y'CbCr values (broadcast together), exactly: what :func:`build` puts at each node.

    Linear light is relative to SDR white (HDR: 1 = 203 nits, BT.2408's reference white;
    HLG through BT.2100's OOTF for a 1000-nit display, where 75 % signal gives 203 nits);
    primaries become BT.709 in linear light (colours outside BT.709 are clipped per
    channel, as the reference does); HDR is then scaled on its brightest channel -- the
    roll-off (:func:`streamspec.analysis.colour.rolloff`) or a clip at reference white -- all three
    channels alike, so hue and saturation are kept and no channel exceeds white. HDR is
    encoded with the sRGB curve (display light for an sRGB display), SDR with the
    inverse of its own display curve.
    """
    f = np.float64
    rgb = _decode(m, np.asarray(y, f), np.asarray(u, f), np.asarray(v, f))
    if m.transfer == "smpte2084":
        lin = pq_eotf(rgb) / HDR_REFERENCE_WHITE
    elif m.transfer == "arib-std-b67":
        luma = rgb_to_xyz(m.primaries)[1]
        lin = hlg_ootf(hlg_inverse_oetf(rgb), luma) / HDR_REFERENCE_WHITE
    else:
        lin = sdr_decode(rgb, m.transfer)
    lin = lin @ primaries_matrix(m.primaries).T
    if m.hdr:
        top = np.maximum(lin.max(axis=-1, keepdims=True), 1e-12)
        mapped = rolloff(top, m.peak) if m.tonemap == "rolloff" else np.minimum(top, 1.0)
        lin = lin * (mapped / top)
    return _encode(lin, "iec61966-2-1" if m.hdr else m.transfer) * 255.0


def to_srgb(levels: NDArray[np.float64]) -> NDArray[np.uint8]:
    """:func:`convert`'s levels as pixels: clipped to 0..255 and rounded."""
    return np.clip(np.floor(levels + 0.5), 0, 255).astype(np.uint8)


def build(m: Mapping) -> NDArray[np.uint8]:
    """The table of ``m``: :func:`convert` at every node, ``[v, u, y]`` -> sRGB levels
    stored as ``(levels + OFFSET) / STEP`` (uint8, C-contiguous), a few planes at a time
    to bound memory."""
    ax = np.minimum(np.arange(NODES, dtype=np.float64) * (1 << _SHIFT), 65535.0)
    table = np.empty((NODES, NODES, NODES, 3), np.uint8)
    step = 8
    for v0 in range(0, NODES, step):
        levels = convert(m, ax[None, None, :], ax[None, :, None], ax[v0 : v0 + step, None, None])
        table[v0 : v0 + step] = np.clip(np.rint((levels + OFFSET) / STEP), 0, 255)
    return table


@njit(cache=True, nogil=True)
def _apply(yuv, flat, nu, ny, step, offset, out):  # pragma: no cover - compiled; tested
    # against a NumPy reference in tests/test_cmstable.py.
    # ``flat`` is the table [v, u, y, 3] flattened: the corners of a cell are fixed
    # offsets from its first, computed once per pixel for all three channels.
    h, w = yuv.shape[0], yuv.shape[1]
    mask = (1 << _SHIFT) - 1
    scale = np.float32(1.0 / (1 << _SHIFT))
    unit = np.float32(step)
    bias = np.float32(0.5 - offset)
    sy = 3
    su = ny * 3
    sv = nu * ny * 3
    for r in range(h):
        for c in range(w):
            y = yuv[r, c, 0]
            u = yuv[r, c, 1]
            v = yuv[r, c, 2]
            base = (v >> _SHIFT) * sv + (u >> _SHIFT) * su + (y >> _SHIFT) * sy
            fy = np.float32(y & mask) * scale
            fu = np.float32(u & mask) * scale
            fv = np.float32(v & mask) * scale
            for k in range(3):
                b = base + k
                c000 = np.float32(flat[b])
                c001 = np.float32(flat[b + sy])
                c010 = np.float32(flat[b + su])
                c011 = np.float32(flat[b + su + sy])
                c100 = np.float32(flat[b + sv])
                c101 = np.float32(flat[b + sv + sy])
                c110 = np.float32(flat[b + sv + su])
                c111 = np.float32(flat[b + sv + su + sy])
                c00 = c000 + (c001 - c000) * fy
                c01 = c010 + (c011 - c010) * fy
                c10 = c100 + (c101 - c100) * fy
                c11 = c110 + (c111 - c110) * fy
                c0 = c00 + (c01 - c00) * fu
                c1 = c10 + (c11 - c10) * fu
                x = (c0 + (c1 - c0) * fv) * unit + bias
                out[r, c, k] = np.uint8(min(max(x, np.float32(0.0)), np.float32(255.0)))


def apply_table(yuv: NDArray[np.uint16], table: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """sRGB for a ``(H, W, 3)`` uint16 Y'CbCr picture (the 16-bit 4:4:4 values, in the
    source's own range), interpolated in ``table`` (see :func:`build`) and clipped."""
    yuv = np.ascontiguousarray(yuv, dtype=np.uint16)
    table = np.ascontiguousarray(table)
    out = np.empty(yuv.shape, np.uint8)
    _apply(yuv, table.reshape(-1), table.shape[1], table.shape[2], STEP, OFFSET, out)
    return out


def warm() -> None:
    """Load the kernel (Numba's start-up, ~1-2 s the first time in a process): a source
    runs this in a thread when it opens, so that it overlaps with decoding instead of
    stalling the first picture's conversion."""
    apply_table(np.zeros((1, 1, 3), np.uint16), np.zeros((2, 2, 2, 3), np.uint8))


def key(mapping: Mapping | None = None, **parts: Any) -> str:
    """A file name for the table of ``mapping`` (and any other ``parts``: bytes, numbers,
    strings)."""
    if mapping is not None:
        parts = {**dataclasses.asdict(mapping), **parts}
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
    """Keep ``table`` (atomically: a temp file of this writer's own, then a rename, so
    processes and threads sharing the folder never see half a table); the oldest tables
    beyond :data:`MAX_CACHED` are removed. A cache that cannot be written is no error."""
    folder = cache_dir()
    if folder is None:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / name, lambda fh: np.save(fh, table, allow_pickle=False))
        _evict(folder)


def _evict(folder: Path) -> None:
    """Remove the least recently used tables beyond :data:`MAX_CACHED` (another process
    may remove them first: a table gone is fine)."""
    tables = []
    for path in folder.glob("cms-*.npy"):
        with contextlib.suppress(OSError):
            tables.append((path.stat().st_mtime, path.name, path))
    for *_, old in sorted(tables)[:-MAX_CACHED]:
        with contextlib.suppress(OSError):
            old.unlink()
