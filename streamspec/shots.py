"""Shot detection: hard cuts, dissolves and fades from a tiny signature per frame.

Pure computation (NumPy and small Numba kernels): the caller decodes, hands over each
frame's planes (or a small RGB picture) and pushes one signature per frame.

The signature (:func:`signature_from_planes`, :func:`signature_from_rgb`) reads a grid of
at most ``GRID_COLS x GRID_ROWS`` points straight out of the Y, U and V planes -- no
conversion of the frame to RGB, no copy of it -- and keeps

- a joint Y x U x V histogram (8 x 5 x 5 bins; chroma bins narrow near neutral grey,
  where natural pictures live), which barely moves when content shifts (pans) or a
  small area changes (a title card's text);
- luma mean and standard deviation (flat black or white frames: fades);
- a fine-scale edge strength (luma steps between neighbouring pixels of the full plane);
- mean U and V, and a 4 x 4 grid of luma means (the picture's layout).

:class:`ShotDetector` compares every frame with the *anchor* (the running signature of
the current shot). Frames that leave the anchor but come back within a few frames are
flashes or strobe; content that leaves and settles on something new is a transition:
a ``cut`` when the change happens between two frames, otherwise a gradual one, which
is a ``fade`` when it passes through a flat black or white picture and a ``dissolve``
when it does not. The threshold adapts to each film: it is the running median of
recent frame-to-frame differences plus a multiple of their median absolute deviation.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from .limits import MAX_SHOT_LOOKBACK_FRAMES, MAX_SHOTS

__all__ = [
    "GRID_COLS",
    "GRID_ROWS",
    "SIGNATURE_SIZE",
    "Shot",
    "ShotDetector",
    "detect_shots",
    "distance",
    "planes_from_yuv420p",
    "signature_from_planes",
    "signature_from_rgb",
]

# Sampling grid (points); 64 x 36 is a 16:9 thumbnail, enough for a 200-bin histogram.
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

KINDS = ("start", "cut", "dissolve", "fade")
# Every frame this far from every frame across the boundary is a cut even when the
# frames around it are cuts too (a film that is all cuts); quick fades (0.4 s) stay below ~0.7.
SURE_CUT = 0.75
# Detail back to this share of the line between a change's ends, between two sags: the
# change was two dissolves with a shot between them.
RECOVERED = 0.95
# A gradual change is a dissolve only when detail or contrast sags below this share of
# the straight line between its ends (two unrelated pictures at 50/50: about 0.71).
DIP = 0.85


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


@dataclass
class Shot:
    """One shot: ``start``/``end`` in seconds, ``frame`` the index of its first frame and
    ``kind`` the transition that opens it (``start`` for a film's first shot, ``cut``,
    ``dissolve`` or ``fade``). Gradual transitions also give their span
    (``transition_start``/``transition_end``, s) and fades their colour (``via``) and
    which sides are gradual (``fade``: ``in``, ``out`` or ``out-in``); ``fade_out`` is
    set on a film's last shot when it fades out to black or white."""

    index: int
    frame: int
    start: float
    end: float
    kind: str
    via: str | None = None
    fade: str | None = None
    transition_start: float | None = None
    transition_end: float | None = None
    fade_out: str | None = None

    @property
    def duration(self) -> float:
        """The shot's length in seconds."""
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        """The shot as a JSON object (optional fields only when set)."""
        d: dict[str, Any] = {
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "frame": self.frame,
            "kind": self.kind,
        }
        for key in ("via", "fade", "transition_start", "transition_end", "fade_out"):
            value = getattr(self, key)
            if value is not None:
                d[key] = round(value, 6) if isinstance(value, float) else value
        return d


@dataclass
class _Boundary:
    """A decided transition (stage 1): frames ``s`` (first changed) to ``e`` (first
    settled), the cut frame for cuts, and whether the content after it is flat."""

    kind: str  # "cut", "gradual" (a dissolve, or half a fade) or "fade" (out and in)
    s: int
    e: int
    ts: float
    te: float
    frame: int
    time: float
    flat: str | None
    frame_s: int = 0  # frame indices of s and e
    frame_e: int = 0
    via: str | None = None  # a complete fade ("fade"): its flat colour
    apart: bool = False  # never merged with the gradual boundary before it


@dataclass
class _Segment:
    """A stretch between two decided boundaries (stage 2's unit, before shots)."""

    frame: int
    start: float
    opened_by: _Boundary | None
    flat: str | None
    extra: dict[str, Any] = field(default_factory=dict)


class ShotDetector:
    """Streaming shot detection: push one signature per decoded frame, in order.

    ``push`` returns the shots finished so far (each once), ``finish`` the rest. The
    delay between a frame and the decision about it is bounded: ``lookahead`` frames
    for cuts and flashes, and at most ``max_transition`` seconds for gradual
    transitions; memory is bounded by the same window.

    ``min_shot`` (s): a transition less than this after the previous one is ignored.
    ``sensitivity`` scales the thresholds (higher finds more, and more false cuts).
    """

    def __init__(
        self,
        fps: float = 25.0,
        *,
        min_shot: float = 0.0,
        sensitivity: float = 1.0,
        max_transition: float = 5.0,
        max_shots: int = MAX_SHOTS,
    ) -> None:
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, not {fps}")
        if not (min_shot >= 0 and math.isfinite(min_shot)):
            raise ValueError(f"min_shot must be 0 or more seconds, not {min_shot}")
        if not (0.1 <= sensitivity <= 10):
            raise ValueError(f"sensitivity must be within 0.1-10, not {sensitivity}")
        self.fps = float(fps)
        self.min_shot = float(min_shot)
        self.sensitivity = float(sensitivity)
        self.max_shots = min(int(max_shots), MAX_SHOTS)
        # Look-ahead: flashes and strobe last at most ~0.2 s; settling is judged over
        # the next ~0.3 s.
        self.flash = max(3, min(12, round(0.2 * fps)))
        self.settle = max(3, min(12, round(0.3 * fps)))
        self.lookahead = max(self.flash, self.settle)
        self.max_transition = max(2, min(round(max_transition * fps), MAX_SHOT_LOOKBACK_FRAMES))
        keep = self.max_transition + self.lookahead + 2
        self._frames: deque[tuple[int, float, NDArray[np.float32]]] = deque(maxlen=keep)
        self._diffs: deque[float] = deque(maxlen=max(8, min(round(2 * fps), 240)))
        self._pos = 0  # position (count of frames) of the next frame to judge
        self._base = 0  # position of self._frames[0]
        self._anchor: NDArray[np.float32] | None = None
        self._old: NDArray[np.float32] | None = None
        self._changing_from: int | None = None
        self._last_index: int | None = None
        self._last_time = 0.0
        self._first: tuple[int, float] | None = None
        self._segments: list[_Segment] = []
        self._count = 0  # shots returned so far
        self.truncated = False  # True when max_shots was reached (later cuts ignored)
        self._finished = False

    # -- thresholds --------------------------------------------------------------------
    def _low(self) -> float:
        """Below this, two frames show the same content (adapts to the film)."""
        if len(self._diffs) >= 5:
            d = np.fromiter(self._diffs, np.float64)
            med = float(np.median(d))
            mad = float(np.median(np.abs(d - med))) * 1.4826
            low = med + 6.0 * max(mad, 0.004)
        else:
            low = 0.12
        return min(max(low / self.sensitivity, 0.08), 0.35)

    def _cut(self, low: float) -> float:
        """At least this much change makes a new shot."""
        return max(0.22 / self.sensitivity, 1.6 * low)

    # -- frames ------------------------------------------------------------------------
    def _sig(self, pos: int) -> NDArray[np.float32]:
        return self._frames[pos - self._base][2]

    def _meta(self, pos: int) -> tuple[int, float]:
        idx, t, _ = self._frames[pos - self._base]
        return idx, t

    def push(self, frame_index: int, time: float, signature: NDArray[np.float32]) -> list[Shot]:
        """Add the next frame; return the shots finished by it (often none)."""
        if self._finished:
            raise RuntimeError("push after finish")
        sig = np.asarray(signature, np.float32)
        if sig.shape != (SIGNATURE_SIZE,):
            raise ValueError(f"a signature has {SIGNATURE_SIZE} values, not {sig.shape}")
        frame_index = int(frame_index)
        time = float(time)
        if self._last_index is not None and frame_index <= self._last_index:
            raise ValueError(f"frame {frame_index} pushed after frame {self._last_index}")
        if not math.isfinite(time):
            raise ValueError(f"frame {frame_index} has no finite time")
        time = max(time, self._last_time) if self._last_index is not None else time
        if len(self._frames) == self._frames.maxlen:
            self._base += 1
        self._frames.append((frame_index, time, sig))
        self._last_index, self._last_time = frame_index, time
        if self._first is None:
            self._first = (frame_index, time)
            self._anchor = sig.copy()
            self._segments.append(_Segment(frame_index, time, None, flat_colour(sig)))
            self._pos = 1
        end = self._base + len(self._frames)
        while self._pos + self.lookahead < end:
            self._judge(self._pos, end)
            self._pos += 1
        return self._emit(final=False)

    def finish(self) -> list[Shot]:
        """No more frames: decide the last ones and return every shot not yet returned."""
        if self._finished:
            return []
        self._finished = True
        if self._first is None:
            return []
        end = self._base + len(self._frames)
        while self._pos < end:
            self._judge(self._pos, end)
            self._pos += 1
        if self._changing_from is not None:
            self._conclude(end - 1)
        return self._emit(final=True)

    # -- stage 1: anchor, flashes, settling --------------------------------------------
    def _judge(self, p: int, end: int) -> None:
        low = self._low()
        sig = self._sig(p)
        assert self._anchor is not None
        if self._changing_from is None:
            c = distance(self._anchor, sig)
            if c < low:
                self._diffs.append(distance(self._sig(p - 1), sig))
                self._anchor += 0.2 * (sig - self._anchor)
                return
            cut = self._cut(low)
            if c >= cut and self._cut_score(p, end) >= cut:
                # One step to new content that stays: a cut, decided now (the new shot
                # may keep moving, e.g. a fast pan, and never look settled).
                idx, t = self._meta(p)
                self._new_shot(_Boundary("cut", p, p, t, t, idx, t, flat_colour(sig), idx, idx), p)
                return
            # A flash or strobe: within a few frames the content comes back to what it
            # was before (the anchor, or the frame before the jump).
            back = max(low, 0.25 * c)
            before = self._sig(p - 1)
            for q in range(p + 1, min(p + 1 + self.flash, end)):
                other = self._sig(q)
                if min(distance(self._anchor, other), distance(before, other)) < back:
                    return
            self._changing_from = p
            self._old = self._anchor.copy()
            self._try_settle(p, end, low)
            return
        self._try_settle(p, end, low)

    def _try_settle(self, p: int, end: int, low: float) -> None:
        s = self._changing_from
        assert s is not None and self._old is not None
        sig = self._sig(p)
        ahead = range(p + 1, min(p + 1 + self.settle, end))
        near = sum(distance(sig, self._sig(q)) < low for q in ahead)
        settled = near * 2 >= len(ahead)
        if p - s >= self.max_transition or settled:
            self._conclude(p)

    def _conclude(self, p: int) -> None:
        """The change that began at ``_changing_from`` has settled at ``p`` (or run out
        of time): decide what it was."""
        s = self._changing_from
        assert s is not None and self._old is not None
        low = self._low()
        sig = self._sig(p)
        change = distance(self._old, sig)
        self._changing_from = None
        if change < self._cut(low):
            # The content came back (a long flash) or moved a little: same shot.
            self._anchor = sig.copy() if change >= low else self._old
            return
        # The single largest frame-to-frame step inside the change.
        first = max(s, self._base + 1)
        end = self._base + len(self._frames)
        steps = [self._cut_score(q, end) for q in range(first, p + 1)]
        k = int(np.argmax(steps)) if steps else 0
        top = steps[k] if steps else 0.0
        cut_at = first + k
        ts = self._meta(s)[1]
        te = self._meta(p)[1]
        fs, fe = self._meta(s)[0], self._meta(p)[0]
        if top >= self._cut(low):
            idx, t = self._meta(cut_at)
            self._new_shot(
                _Boundary("cut", cut_at, cut_at, t, t, idx, t, flat_colour(sig), idx, idx), p
            )
            return
        # A complete fade inside the change: it passes through a flat frame.
        through = None
        for q in range(max(s, self._base), p):
            through = flat_colour(self._sig(q))
            if through is not None:
                break
        flat = flat_colour(sig) or flat_colour(self._old)
        if flat is None and through is None and not self._dips(s, p):
            # Steady change with no blend in it (a pan across new colours, a light
            # change): the same shot.
            self._anchor = sig.copy()
            return
        # The change began one frame before the first frame that left the anchor.
        ts = self._meta(s - 1)[1] if s - 1 >= self._base else ts
        kind = "fade" if flat is None and through is not None else "gradual"
        m = self._recovers(s, p) if kind == "gradual" and flat is None else None
        if m is not None:
            # Two dissolves with a moving shot between them that never looked settled.
            idx, t = self._meta((s + m + 1) // 2)
            tm = self._meta(m)
            b1 = _Boundary("gradual", s, m, ts, tm[1], idx, t, None, fs, tm[0])
            self._add_boundary(b1)
            idx, t = self._meta((m + p + 1) // 2)
            b = _Boundary("gradual", m, p, tm[1], te, idx, t, flat_colour(sig), tm[0], fe,
                          apart=True)
        else:
            idx, t = self._meta((s + p + 1) // 2)
            b = _Boundary(kind, s, p, ts, te, idx, t, flat_colour(sig), fs, fe, through)
        self._new_shot(b, p)

    def _recovers(self, s: int, p: int) -> int | None:
        """The frame between two separate sags of detail inside frames ``s``-``p`` where
        it comes back to full strength, if there is one: two blends in a row."""
        lo = max(s - 1, self._base)
        if p - lo < 6:
            return None
        for i in (I_EDGE, I_SD):
            v = np.array([self._sig(q)[i] for q in range(lo, p + 1)], np.float64)
            r = v / np.maximum(np.linspace(v[0], v[-1], len(v)), 1.0)
            low = np.flatnonzero(r < DIP)
            if len(low) < 2:
                continue
            first, last = int(low[0]), int(low[-1])
            k = first + int(np.argmax(r[first : last + 1]))
            m = lo + k
            if (
                r[k] >= RECOVERED
                and min(m - s, p - m) >= self.settle
                and min(distance(self._sig(lo), self._sig(m)),
                        distance(self._sig(m), self._sig(p))) >= self._cut(self._low())
            ):
                return m  # each side a blend of its own, long enough, between two pictures
        return None

    def _step(self, q: int) -> float:
        """The difference between frame ``q`` and the one before (0 at the edges)."""
        if q - 1 < self._base or q >= self._base + len(self._frames):
            return 0.0
        return distance(self._sig(q - 1), self._sig(q))

    def _cross(self, q: int, end: int, floor: float | None = None) -> float:
        """How far every frame of the few before ``q`` is from every frame of the few
        from ``q`` on (the smallest such distance): large only at a cut. A flash, a
        strobe or a gradual change always leaves a pair alike across ``q``."""
        floor = self._cut(self._low()) if floor is None else floor
        if q - 1 < self._base or self._step(q) < floor:
            return 0.0  # the pair (q - 1, q) is one of them: the rest cannot be more
        lo = max(q - self.flash, self._base)
        hi = min(q + self.flash, end)
        if self._transient(q, hi):
            return 0.0
        best = math.inf
        for a in range(lo, q):
            sa = self._sig(a)
            for b in range(q, hi):
                best = min(best, distance(sa, self._sig(b)))
        return 0.0 if best == math.inf else best

    def _transient(self, q: int, hi: int) -> bool:
        """Whether ``q`` starts a transient (a flash, a strobe's beat): a frame after it,
        before ``hi``, is nearer the frame before ``q`` than ``q`` is."""
        before, here = self._sig(q - 1), self._sig(q)
        jump = distance(before, here)
        for r in range(q + 1, hi):
            other = self._sig(r)
            if distance(before, other) < 0.5 * jump and distance(here, other) > 0.5 * jump:
                return True
        return False

    def _cut_score(self, q: int, end: int) -> float:
        """``_cross(q)`` where it stands out (twice that of the frames either side),
        else 0: in a fast pan or a quick fade every frame differs from the next."""
        here = self._cross(q, end)
        if here == 0.0:
            step = self._step(q)
            if step >= SURE_CUT and not self._transient(q, min(q + self.flash, end)):
                return step  # a leap to unrelated colours, even among other cuts
            return 0.0
        half = 0.5 * here
        sides = (
            self._cross(q - 1, end, half), self._cross(q + 1, end, half) if q + 1 < end else 0.0
        )
        if here >= 2.0 * max(sides) or here >= SURE_CUT:
            return here
        # Cuts in a row (every frame a new picture): each is as large as its neighbours,
        # but unlike a fade or a pan, frames two apart are no further apart than one.
        if min(sides) >= self._cut(self._low()) and not self._progressive(q, end):
            return here
        return 0.0

    def _progressive(self, q: int, end: int) -> bool:
        """Whether frames around ``q`` drift apart the further apart they are (a fade, a
        pan, a dissolve), rather than each being unrelated to the next (cuts in a row)."""
        if q - 1 < self._base or q + 1 >= end:
            return True
        near = range(max(q - self.flash, self._base), min(q + self.flash, end))
        if any(flat_colour(self._sig(r)) is not None for r in near):
            return True  # near a flat frame: a fade's last steps, saturated
        a, b, c = self._sig(q - 1), self._sig(q), self._sig(q + 1)
        return distance(a, c) > 1.3 * max(distance(a, b), distance(b, c))

    def _dips(self, s: int, p: int) -> bool:
        """Whether the detail (edge strength) or contrast (luma SD) sags in the middle of
        frames ``s``-``p``: a blend of two pictures is softer than either."""
        lo = max(s - 1, self._base)
        if p - lo < 2:
            return False
        for i in (I_EDGE, I_SD):
            v = np.array([self._sig(q)[i] for q in range(lo, p + 1)], np.float64)
            line = np.linspace(v[0], v[-1], len(v))
            inner = slice(1, len(v) - 1)
            if float(np.min(v[inner] / np.maximum(line[inner], 1.0))) < DIP:
                return True
        return False

    def _new_shot(self, b: _Boundary, settled: int) -> None:
        """Record ``b``; the frame at position ``settled`` becomes the new anchor."""
        self._changing_from = None
        self._anchor = self._sig(settled).copy()
        self._add_boundary(b)

    # -- stage 2: shots from boundaries -------------------------------------------------
    def _add_boundary(self, b: _Boundary) -> None:
        segs = self._segments
        cur = segs[-1]
        a = cur.opened_by
        if (
            a is not None
            and a.kind == b.kind == "gradual"
            and not b.apart
            and cur.flat is None
            and b.s - a.e <= self.settle
        ):
            # Two gradual pieces back to back (a slow dissolve that paused): one transition.
            frame, time = self._frame_at((a.ts + b.te) / 2, a, b)
            merged = _Boundary(
                "gradual", a.s, b.e, a.ts, b.te, frame, time, b.flat, a.frame_s, b.frame_e
            )
            cur.opened_by, cur.frame, cur.start, cur.flat = merged, frame, time, b.flat
            return
        if b.time - cur.start < self.min_shot:
            return
        if self._count + len(segs) >= self.max_shots:
            self.truncated = True
            return
        segs.append(_Segment(b.frame, b.time, b, b.flat))

    def _safe(self, seg: _Segment) -> bool:
        """No later transition can merge with the one that opened ``seg``."""
        b = seg.opened_by
        if b is None or b.kind == "cut" or self._finished:
            return True
        horizon = b.e + self.settle
        return self._pos > horizon + 1 and (
            self._changing_from is None or self._changing_from > horizon
        )

    def _emit(self, *, final: bool) -> list[Shot]:
        """The shots whose end and opening can no longer change."""
        segs = self._segments
        out: list[Shot] = []
        while segs:
            first = segs[0]
            if first.opened_by is None and first.flat is not None and len(segs) >= 2:
                nxt = segs[1]
                assert nxt.opened_by is not None
                if nxt.opened_by.kind != "cut" and self._safe(nxt):
                    # The film opens on black (or white) and fades in: one shot.
                    nxt.extra = {"kind": "fade", "via": first.flat, "fade": "in",
                                 "transition_start": first.start,
                                 "transition_end": nxt.opened_by.te}
                    nxt.frame, nxt.start, nxt.opened_by = first.frame, first.start, None
                    del segs[0]
                    continue
            if len(segs) >= 2 and segs[1].flat is not None:
                flat = segs[1]
                a = flat.opened_by
                assert a is not None
                if len(segs) >= 3:
                    b = segs[2].opened_by
                    assert b is not None
                    if (a.kind != "cut" or b.kind != "cut") and self._safe(segs[2]):
                        # shot -> flat -> shot through a gradual side: one fade, its
                        # boundary the middle of the whole span.
                        frame, time = self._frame_at((a.ts + b.te) / 2, a, b)
                        fade = ("out-in" if a.kind != "cut" and b.kind != "cut"
                                else "out" if a.kind != "cut" else "in")
                        nxt = segs[2]
                        nxt.frame, nxt.start = frame, time
                        nxt.extra = {"kind": "fade", "via": flat.flat, "fade": fade,
                                     "transition_start": a.ts, "transition_end": b.te}
                        del segs[1]
                        continue
                    if not self._safe(segs[2]):
                        break
                elif final and a.kind != "cut":
                    # The film ends fading out: the flat frames belong to the last shot.
                    shot = self._to_shot(first, self._end_time())
                    shot.fade_out = flat.flat
                    out.append(shot)
                    del segs[:2]
                    continue
                elif not final:
                    break
            if len(segs) >= 2 and (final or self._safe(segs[1])):
                out.append(self._to_shot(first, segs[1].start))
                del segs[0]
                continue
            if len(segs) == 1 and final:
                out.append(self._to_shot(first, self._end_time()))
                del segs[0]
            break
        return out

    def _end_time(self) -> float:
        """The film's end: the last frame's time plus one frame."""
        return self._last_time + 1.0 / self.fps

    def _frame_at(self, t: float, a: _Boundary, b: _Boundary) -> tuple[int, float]:
        """The first frame at or after ``t`` (a time between ``a`` and ``b``), from the
        frames still kept, else estimated from the frame rate."""
        for idx, ft, _ in self._frames:
            if ft >= t - 1e-9:
                if ft <= b.te + 1e-9:
                    return idx, ft
                break
        step = max(1, round((t - a.te) * self.fps))
        return min(a.frame_e + step, b.frame_s), t

    def _to_shot(self, seg: _Segment, end: float) -> Shot:
        b = seg.opened_by
        extra = seg.extra
        if extra:
            kind = str(extra["kind"])
        elif b is None:
            kind = "start"
        else:
            kind = {"cut": "cut", "gradual": "dissolve", "fade": "fade"}[b.kind]
        shot = Shot(self._count, seg.frame, seg.start, max(end, seg.start), kind)
        self._count += 1
        if extra:
            shot.via = extra["via"]
            shot.fade = extra["fade"]
            shot.transition_start = extra["transition_start"]
            shot.transition_end = extra["transition_end"]
        elif b is not None and b.kind != "cut":
            shot.transition_start, shot.transition_end = b.ts, b.te
            if b.kind == "fade":
                shot.via, shot.fade = b.via, "out-in"
        return shot


def detect_shots(
    frames: Any, fps: float = 25.0, **options: Any
) -> list[Shot]:
    """Shots of a whole sequence of ``(frame_index, time, signature)`` (convenience)."""
    det = ShotDetector(fps, **options)
    shots: list[Shot] = []
    for idx, t, sig in frames:
        shots.extend(det.push(idx, t, sig))
    shots.extend(det.finish())
    return shots
