"""Helpers shared by the benchmark scripts (timing, tables, real footage)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"


def media_files() -> list[Path]:
    """The shared real clips, or exit with a clear message when they are absent."""
    files = sorted(MEDIA.glob("*.mp4"))
    if not files:
        sys.exit(f"no footage in {MEDIA} (see its README); nothing to measure")
    return files


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls of ``fn`` and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def geomean(values: Sequence[float]) -> float:
    """Geometric mean (ratios are averaged multiplicatively)."""
    return statistics.geometric_mean(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (what the README shows)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(name: str, value: float, target: float, higher_is_better: bool) -> str:
    """One line saying whether a target was met."""
    ok = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    return f"{'PASS' if ok else 'FAIL'}  {name}: {value:.3g} (target {op} {target:g})"
