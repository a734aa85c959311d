"""The per-frame signature for shot detection, and how far apart two signatures are.

Pure computation (NumPy and small Numba kernels): the caller decodes and hands over each
frame's planes (or a small RGB picture); :mod:`streamspec.analysis.shots` compares the results.

The signature (:func:`signature_from_planes`, :func:`signature_from_rgb`) reads a grid of
at most ``GRID_COLS x GRID_ROWS`` points straight out of the Y, U and V planes -- no
conversion of the frame to RGB, no copy of it -- and keeps

- a joint Y x U x V histogram (8 x 5 x 5 bins; chroma bins narrow near neutral grey,
  where natural pictures live), which barely moves when content shifts (pans) or a
  small area changes (a title card's text);
- luma mean and standard deviation (flat black or white frames: fades);
- a fine-scale edge strength (luma steps between neighbouring pixels of the full plane);
- mean U and V, and a 4 x 4 grid of luma means (the picture's layout).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = [
    "GRID_COLS",
    "GRID_ROWS",
    "SIGNATURE_SIZE",
    "distance",
    "flat_colour",
    "hist_distance",
    "planes_from_yuv420p",
    "signature_from_planes",
    "signature_from_rgb",
]

GRID_COLS = 64
GRID_ROWS = 36

Y_BINS = 8
C_BINS = 5
HIST = Y_BINS * C_BINS * C_BINS
# Bin centres (8-bit values); chroma bins are narrow near neutral (128), where natural
# pictures live, and wide for vivid colour.
Y_CENTRES = np.array([16.0 + 32.0 * i for i in range(Y_BINS)])
C_CENTRES = np.array([72.0, 108.0, 128.0, 148.0, 184.0])
LAYOUT = 4  # layout grid is LAYOUT x LAYOUT luma means

# Signature layout: histogram, then the statistics, then the layout grid.
I_MEAN = HIST
I_SD = HIST + 1
I_EDGE = HIST + 2
I_U = HIST + 3
I_V = HIST + 4
I_LAYOUT = HIST + 5
SIGNATURE_SIZE = I_LAYOUT + LAYOUT * LAYOUT

# A flat frame (the end of a fade): luma SD below this (0-255 full-range units), mean
# below FLAT_BLACK or above FLAT_WHITE.
FLAT_SD = 8.0
FLAT_BLACK = 40.0
FLAT_WHITE = 215.0


@njit(cache=True, nogil=True)
def _soft_bin(x, centres):
    """The bin below ``x`` among ``centres`` (ascending) and ``x``'s share of the next
    one: a value between two centres splits itself between them linearly."""
    n = centres.shape[0]
    if x <= centres[0]:
        return 0, 0.0
    if x >= centres[n - 1]:
        return n - 2, 1.0
    b = 0
    while x >= centres[b + 1]:
        b += 1
    return b, (x - centres[b]) / (centres[b + 1] - centres[b])


@njit(cache=True, nogil=True)
def signature_kernel(Y, U, V, ys, xs, cys, cxs, y_lo, y_gain, c_gain, out):
    """The signature of one frame from its planes, into ``out`` (float32, SIGNATURE_SIZE).

    ``Y`` (H, W), ``U`` and ``V`` (CH, CW) uint8 C-contiguous planes (rows may be padded);
    the grid point (i, j) reads luma at ``Y[ys[i], xs[j]]`` and chroma at
    ``U/V[cys[i], cxs[j]]``; its edge strength is ``|Y[y, x+1] - Y[y, x]| + |Y[y+1, x] -
    Y[y, x]|`` (``ys``/``xs`` leave room for the neighbours). Luma is mapped to full range
    as ``(Y - y_lo) * y_gain`` and chroma as ``(C - 128) * c_gain + 128``.
    """
    rows = ys.shape[0]
    cols = xs.shape[0]
    H = Y.shape[0]
    W = Y.shape[1]
    for k in range(out.shape[0]):
        out[k] = 0.0
    s = 0.0
    ss = 0.0
    edge = 0.0
    su = 0.0
    sv = 0.0
    cell_n = np.zeros(16, np.float64)
    for i in range(rows):
        y0 = ys[i]
        y1 = min(y0 + 1, H - 1)
        gy = (i * 4) // rows
        for j in range(cols):
            x0 = xs[j]
            x1 = min(x0 + 1, W - 1)
            raw = np.float64(Y[y0, x0])
            e = abs(np.float64(Y[y0, x1]) - raw) + abs(np.float64(Y[y1, x0]) - raw)
            y = (raw - y_lo) * y_gain
            y = min(max(y, 0.0), 255.0)
            u = (np.float64(U[cys[i], cxs[j]]) - 128.0) * c_gain + 128.0
            v = (np.float64(V[cys[i], cxs[j]]) - 128.0) * c_gain + 128.0
            # Every pixel shares itself between the two nearest bin centres on each
            # axis: a fade or a light change moves the histogram smoothly, not in jumps.
            yb, yw = _soft_bin(y, Y_CENTRES)
            ub, uw = _soft_bin(u, C_CENTRES)
            vb, vw = _soft_bin(v, C_CENTRES)
            for dy in range(2):
                wy = yw if dy else 1.0 - yw
                if wy == 0.0:
                    continue
                for du in range(2):
                    wu = uw if du else 1.0 - uw
                    if wu == 0.0:
                        continue
                    base = ((yb + dy) * C_BINS + ub + du) * C_BINS + vb
                    out[base] += wy * wu * (1.0 - vw)
                    out[base + 1] += wy * wu * vw
            s += y
            ss += y * y
            edge += e * y_gain
            su += u
            sv += v
            cell = gy * 4 + (j * 4) // cols
            out[I_LAYOUT + cell] += y
            cell_n[cell] += 1.0
    n = np.float64(rows * cols)
    for k in range(HIST):
        out[k] = out[k] / n
    mean = s / n
    out[I_MEAN] = mean
    out[I_SD] = math.sqrt(max(ss / n - mean * mean, 0.0))
    out[I_EDGE] = edge / n
    out[I_U] = su / n
    out[I_V] = sv / n
    for c in range(16):
        if cell_n[c] > 0:
            out[I_LAYOUT + c] = out[I_LAYOUT + c] / cell_n[c]
        else:
            out[I_LAYOUT + c] = mean


def _grid(n: int, size: int) -> NDArray[np.intp]:
    """``n`` sample positions spread over ``size`` (point centres of equal cells)."""
    return np.minimum((np.arange(n) * 2 + 1) * size // (2 * n), size - 1).astype(np.intp)


def signature_from_planes(
    y: NDArray[np.uint8],
    u: NDArray[np.uint8],
    v: NDArray[np.uint8],
    *,
    width: int | None = None,
    full_range: bool = False,
    grid: tuple[int, int] = (GRID_COLS, GRID_ROWS),
) -> NDArray[np.float32]:
    """A frame's signature from its 8-bit Y, U and V planes (any chroma subsampling).

    ``y``, ``u`` and ``v`` are 2-D uint8 arrays as a decoder keeps them: for PyAV,
    ``np.frombuffer(frame.planes[i], np.uint8).reshape(plane.height, plane.line_size)``,
    which copies nothing. ``width`` is the picture's width when rows are padded (the
    chroma width follows from the planes' ratio). ``full_range`` says the planes use
    0-255 (JPEG range) rather than video range (16-235).
    """
    if y.ndim != 2 or u.ndim != 2 or v.ndim != 2 or u.shape != v.shape:
        raise ValueError("signature_from_planes needs three 2-D planes, U and V the same shape")
    H = y.shape[0]
    W = y.shape[1] if width is None else int(width)
    if not (1 <= W <= y.shape[1]) or H < 1 or u.shape[0] < 1:
        raise ValueError(f"empty or inconsistent planes: Y {y.shape}, U {u.shape}, width {W}")
    # Chroma size from the subsampling: 4:2:0 and 4:2:2 halve the width, 4:2:0 the height.
    sub_x = max(1, round(y.shape[1] / u.shape[1]))
    sub_y = max(1, round(H / u.shape[0]))
    CW = min(u.shape[1], -(-W // sub_x))
    CH = u.shape[0]
    cols = max(1, min(grid[0], CW))
    rows = max(1, min(grid[1], CH))
    cxs = _grid(cols, CW)
    cys = _grid(rows, CH)
    # Luma at the chroma sample's first pixel, one short of the edge so it has neighbours.
    xs = np.minimum(cxs * sub_x, max(W - 2, 0)).astype(np.intp)
    ys = np.minimum(cys * sub_y, max(H - 2, 0)).astype(np.intp)
    Y = y
    if not y.flags.c_contiguous:
        # A strided view (a crop, a slice of a packed frame): copy only the rows read.
        rows = np.unique(np.concatenate([ys, np.minimum(ys + 1, H - 1)]))
        Y = np.ascontiguousarray(y[rows])
        ys = np.searchsorted(rows, ys).astype(np.intp)
    U, V = u, v
    if not (u.flags.c_contiguous and v.flags.c_contiguous):
        crows = np.unique(cys)
        U = np.ascontiguousarray(u[crows])
        V = np.ascontiguousarray(v[crows])
        cys = np.searchsorted(crows, cys).astype(np.intp)
    out = np.empty(SIGNATURE_SIZE, np.float32)
    if full_range:
        signature_kernel(Y, U, V, ys, xs, cys, cxs, 0.0, 1.0, 1.0, out)
    else:
        signature_kernel(Y, U, V, ys, xs, cys, cxs, 16.0, 255.0 / 219.0, 255.0 / 224.0, out)
    return out


def planes_from_yuv420p(
    packed: NDArray[np.uint8],
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Y, U and V views of a packed 4:2:0 picture of shape (H * 3 / 2, W) -- what PyAV's
    ``frame.to_ndarray()`` gives for yuv420p (even sizes) -- without copying."""
    if packed.ndim != 2:
        raise ValueError(f"not a packed 4:2:0 picture: {packed.shape}")
    h3, w = packed.shape
    h = h3 * 2 // 3
    if h % 2 or w % 2 or h * 3 // 2 != h3 or h == 0:
        raise ValueError(f"not a packed 4:2:0 picture of even size: {packed.shape}")
    flat = packed.reshape(-1)  # chroma rows need not start on a row of the array
    n, c = h * w, (h // 2) * (w // 2)
    u = flat[n : n + c].reshape(h // 2, w // 2)
    v = flat[n + c : n + 2 * c].reshape(h // 2, w // 2)
    return packed[:h], u, v


def signature_from_rgb(
    rgb: NDArray[np.uint8], *, grid: tuple[int, int] = (GRID_COLS, GRID_ROWS)
) -> NDArray[np.float32]:
    """A frame's signature from an (H, W, 3) uint8 sRGB picture (any size; a thumbnail
    is enough), for sources that give RGB: BT.709 Y'CbCr, full range."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"signature_from_rgb needs an (H, W, 3) picture, not {rgb.shape}")
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    yy = 0.2126 * r + 0.7152 * g + 0.0722 * b
    cb = (b - yy) / 1.8556 + 128.0
    cr = (r - yy) / 1.5748 + 128.0
    planes = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (yy, cb, cr)]
    return signature_from_planes(*planes, full_range=True, grid=grid)


def hist_distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Half the L1 distance of two signatures' histograms: 0 same colours, 1 disjoint."""
    return 0.5 * float(np.abs(a[:HIST] - b[:HIST]).sum())


def distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """How different two frames are, 0 (same) to about 1.

    Mostly the histogram distance, which ignores where colours are (pans, moving
    subjects); plus a smaller part of the layout and edge change, which tells apart two
    shots of one place whose colours are alike. Both parts are 0-1.
    """
    h = 0.5 * float(np.abs(a[:HIST] - b[:HIST]).sum())
    lay = float(np.abs(a[I_LAYOUT:] - b[I_LAYOUT:]).mean()) / 64.0
    e0, e1 = float(a[I_EDGE]), float(b[I_EDGE])
    edge = abs(e0 - e1) / max(e0, e1, 4.0)
    return h + 0.25 * min(lay, 1.0) + 0.1 * edge


def flat_colour(sig: NDArray[np.float32]) -> str | None:
    """``"black"`` or ``"white"`` when the frame is flat (a fade's end), else None."""
    if sig[I_SD] > FLAT_SD:
        return None
    if sig[I_MEAN] <= FLAT_BLACK:
        return "black"
    if sig[I_MEAN] >= FLAT_WHITE:
        return "white"
    return None
