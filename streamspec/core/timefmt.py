"""Times for people: ``m:ss`` / ``h:mm:ss`` labels, the times people type, and "nice"
tick intervals. The one home of time formats (the page's script has its own copy of
the labels, checked against these by the tests)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

__all__ = [
    "clock",
    "describe_time",
    "format_hms",
    "format_time",
    "nice_ticks",
    "parse_time",
    "tick_steps",
    "tick_times",
]

_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)")


def parse_time(text: str) -> float:
    """Seconds from ``SS``, ``MM:SS`` or ``HH:MM:SS`` (seconds may have a fraction).

    In ``MM:SS`` and ``HH:MM:SS`` the seconds, and the minutes after hours, are below
    60: ``1:99`` is a mistake, not 2:39. Raises ValueError with a one-line message.
    """
    t = str(text).strip()
    if ":" not in t:
        try:
            value = float(t)
        except ValueError:
            raise ValueError(f"expected seconds, MM:SS or HH:MM:SS, got {text!r}") from None
    else:
        m = _CLOCK.fullmatch(t)
        if not m:
            raise ValueError(f"expected seconds, MM:SS or HH:MM:SS, got {text!r}")
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        if seconds >= 60 or (m.group(1) is not None and minutes >= 60):
            field = "seconds" if seconds >= 60 else "minutes"
            raise ValueError(f"{field} must be below 60 in MM:SS or HH:MM:SS, got {text!r}")
        value = (hours * 60 + minutes) * 60 + seconds
    if not math.isfinite(value):
        raise ValueError(f"expected seconds, MM:SS or HH:MM:SS, got {text!r}")
    if value < 0:
        raise ValueError(f"time must be 0 or more, got {text!r}")
    return value


def clock(
    seconds: float | None, decimals: int = 0, hours: bool | None = None, *, trim: bool = False
) -> str:
    """A time as a clock shows it: ``m:ss`` below an hour, ``h:mm:ss`` from one
    (``hours`` True: always ``h:mm:ss``; False: never, minutes past 59), with
    ``decimals`` digits of fractions (``trim``: without trailing zeros). ``?`` when
    unknown; negative times are 0.

    Floored at the shown precision, as players show a position: a frame at 4.52 s is
    ``0:04``, and the clock never reads a second that has not begun. (The page's script,
    ``_page/page.js``, has the same function; the tests compare the two.)
    """
    if seconds is None or not math.isfinite(seconds):
        return "?"
    scale = 10**decimals
    # A hair over: 0.29 s is 28.999999999999996 hundredths in binary.
    units = math.floor(max(0.0, seconds) * scale + 1e-6)
    whole, frac = divmod(units, scale)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    show_hours = h > 0 if hours is None else hours
    out = f"{h}:{m:02d}:{s:02d}" if show_hours else f"{h * 60 + m}:{s:02d}"
    if decimals:
        digits = f"{frac:0{decimals}d}"
        digits = digits.rstrip("0") if trim else digits
        if digits:
            out += "." + digits
    return out


def describe_time(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above (``?`` when unknown), floored."""
    return clock(seconds)


def format_hms(seconds: float) -> str:
    """Always ``h:mm:ss``, floored."""
    return clock(seconds, hours=True)


def format_time(seconds: float) -> str:
    """A time as the page shows and copies it: ``m:ss`` or ``h:mm:ss``, with hundredths
    when there are any (``1:02.5``, ``1:02:03.04``), floored."""
    return clock(seconds, 2, trim=True)


# The nice intervals up to a day; above that, doubling (see tick_steps).
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def tick_steps(minimum: float = 0.0) -> Iterator[int]:
    """The "nice" tick intervals (s) of at least ``minimum`` seconds, finest first, without
    end: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h, then
    doubling (2, 4, 8 days ...), as the page's axis steps. The one rule for the steps of
    every time axis (render's, compare's and play's). Raises ValueError for a
    ``minimum`` that is not a finite number."""
    if not math.isfinite(minimum):
        raise ValueError(f"a tick step of at least {minimum} s")
    for step in _STEPS:
        if step >= minimum:
            yield step
    step = 2 * _STEPS[-1]
    while step < minimum:
        step *= 2
    while True:
        yield step
        step *= 2


def tick_times(t0: float, t1: float, step: float) -> list[float]:
    """The multiples of ``step`` in ``[t0, t1]``, in order (a tick a hair after ``t0``
    counts as at it)."""
    first = math.ceil(t0 / step - 1e-9) * step
    return [first + i * step for i in range(int((t1 - first) // step) + 1)]


def nice_ticks(t0: float, t1: float, max_ticks: int = 8) -> list[float]:
    """Tick times at the finest "nice" interval (:func:`tick_steps`) that puts at most
    ``max_ticks`` of them in ``[t0, t1]``."""
    span = max(t1 - t0, 1e-9)
    max_ticks = max(int(max_ticks), 1)
    return tick_times(t0, t1, next(tick_steps(span / max_ticks)))
