"""Shot detection: hard cuts, dissolves and fades from a tiny signature per frame.

Pure computation: the caller decodes, hands over each frame's planes (or a small RGB
picture) to :func:`signature_from_planes` (or :func:`signature_from_rgb`) and pushes one
signature per frame. The signature and its distance live in :mod:`streamspec.analysis.shotsig`,
the shot record and the joining of transitions into shots in :mod:`streamspec.analysis.shotlist`;
every public name is importable from here.

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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.shotlist import KINDS, Shot, _Boundary, _Segment, _ShotAssembly  # noqa: F401 (re-exported)

# Every name the signature module had here stays importable from here.
from streamspec.analysis.shotsig import (  # noqa: F401
    C_CENTRES,
    FLAT_BLACK,
    FLAT_SD,
    FLAT_WHITE,
    GRID_COLS,
    GRID_ROWS,
    HIST,
    I_EDGE,
    I_LAYOUT,
    I_MEAN,
    I_SD,
    I_U,
    I_V,
    SIGNATURE_SIZE,
    Y_CENTRES,
    distance,
    flat_colour,
    hist_distance,
    planes_from_yuv420p,
    signature_from_planes,
    signature_from_rgb,
    signature_kernel,
)
from streamspec.core.limits import MAX_SHOT_LOOKBACK_FRAMES, MAX_SHOTS

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


# Every frame this far from every frame across the boundary is a cut even when the
# frames around it are cuts too (a film that is all cuts); quick fades (0.4 s) stay below ~0.7.
SURE_CUT = 0.75
# Detail back to this share of the line between a change's ends, between two sags: the
# change was two dissolves with a shot between them.
RECOVERED = 0.95
# A gradual change is a dissolve only when detail or contrast sags below this share of
# the straight line between its ends (two unrelated pictures at 50/50: about 0.71).
DIP = 0.85


class ShotDetector(_ShotAssembly):
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
