"""The shot record, and stage 2 of shot detection: from decided transitions to shots.

:class:`~streamspec.analysis.shots.ShotDetector` (stage 1) decides transitions (:class:`_Boundary`);
the methods here join them into shots: two gradual pieces back to back become one
dissolve, a flat stretch between two shots becomes one fade, and a shot is handed out
only once no later transition can change where it ends or how it opens.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["KINDS", "Shot"]

KINDS = ("start", "cut", "dissolve", "fade")


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


class _ShotAssembly:
    """Stage 2 of :class:`~streamspec.analysis.shots.ShotDetector`: its shots from its
    boundaries. A mixin: the state below is set by the detector's ``__init__``."""

    fps: float
    min_shot: float
    max_shots: int
    settle: int
    truncated: bool
    _frames: deque[tuple[int, float, NDArray[np.float32]]]
    _pos: int
    _changing_from: int | None
    _last_time: float
    _segments: list[_Segment]
    _count: int
    _finished: bool

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
