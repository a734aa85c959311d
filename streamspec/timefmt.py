"""Times for people: ``m:ss`` / ``h:mm:ss`` labels and "nice" tick intervals."""

from __future__ import annotations

import math

__all__ = ["describe_time", "format_hms", "nice_ticks"]


def describe_time(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above (``?`` when unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_hms(seconds: float) -> str:
    """Always ``h:mm:ss``."""
    s = max(0, round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


def nice_ticks(t0: float, t1: float, max_ticks: int = 8) -> list[float]:
    """Tick times at a "nice" interval (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min,
    1, 2, 3, 6 h, then whole hours) covering ``[t0, t1]``, at most ``max_ticks`` of them."""
    span = max(t1 - t0, 1e-9)
    max_ticks = max(int(max_ticks), 1)
    step = next((s for s in _STEPS if span / s <= max_ticks), None)
    if step is None:
        step = 3600 * math.ceil(span / max_ticks / 3600)
    first = math.ceil(t0 / step - 1e-9) * step
    return [first + i * step for i in range(int((t1 - first) // step) + 1)]
