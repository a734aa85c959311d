"""Live view panel redraw: a 3,600-strip spectrum (two hours at one sample every 2 s)
drawn by the Painter in a 1920x1080 window (the panel 1,904 px wide), while zooming
with the wheel (fit to 32 px per strip and back), panning (40 px steps at several
zooms) and hovering (the tooltip follows the mouse) -- every redraw of the spectrum
panel, its axis, the chapter and segment bands and the tooltip.

  target: panel redraw <= 8 ms (median and p95 printed as a ratio to it)

Run: PYTHONPATH=. python benchmarks/panel.py [--strips 3600] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, os.path.dirname(__file__))
import pygame
from _common import synthetic_spectrum, table, verdict

from streamspec.live.model import LiveModel
from streamspec.live.painter import Painter

TARGET_MS = 8.0


def model(n: int) -> tuple[LiveModel, Painter, pygame.Surface]:
    """The synthetic film, fully played, with its chapters and segments shown."""
    spec = synthetic_spectrum(n)
    spec.settings.update(chapters=True, segments="auto")
    m = LiveModel(spec, duration=2.0 * n, aspect=16 / 9, segments_in_background=False)
    painter = Painter(m)
    m.resize(1920, 1080)
    for s in spec.strips:
        m.visible.add(s.index)
    m.frame_shown(2.0 * n - 1)
    m.update_segments(wait=True)
    screen = pygame.Surface((1920, 1080))
    painter.draw(screen, None)  # the strips' columns are made once, here
    return m, painter, screen


def redraws(
    m: LiveModel, painter: Painter, screen: pygame.Surface, steps
) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds of each panel redraw after each step. The CPU time of
    this thread is the redraw's own cost on a machine busy with other work, where the
    wall time also counts the waits for a core."""
    out = []
    for step in steps:
        step()
        t, c = time.perf_counter(), time.thread_time()
        painter._draw_panel()
        painter._draw_axis()
        if m.hover is not None:
            painter._draw_hover(*m.hover)
        out.append(((time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strips", type=int, default=3600)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pygame.font.init()
    m, painter, screen = model(args.strips)
    painter.screen = screen
    p = m.layout.panel
    cx = p.x + p.w // 2
    results: dict[str, list[tuple[float, float]]] = {
        "zoom": [],
        "pan": [],
        "hover": [],
        "a strip replaced (fit)": [],
        "whole view": [],
    }
    strips = m.spectrum.strips
    for _ in range(args.repeat):
        m.fit_view()
        m.hover = None
        ins = [lambda: m.zoom(1.25, cx - 300)] * 30  # fit (0.53 px/strip) to 32
        outs = [lambda: m.zoom(0.8, cx + 200)] * 30
        results["zoom"] += redraws(m, painter, screen, ins + outs)
        for pps in (1.0, 4.0, 16.0):
            m.fit_view()
            m.zoom(pps / m.pps, cx)
            pans = [lambda: m.pan(-40)] * 20 + [lambda: m.pan(40)] * 20
            results["pan"] += redraws(m, painter, screen, pans)
        m.fit_view()
        moves = [lambda x=x: setattr(m, "hover", (x, p.y + 40)) for x in range(p.x, p.right, 37)]
        results["hover"] += redraws(m, painter, screen, moves)
        # A strip replaced (a provisional one made exact): its column is made again.
        m.fit_view()
        m.hover = None
        swaps = [lambda s=s: m.add_strip(dataclasses.replace(s)) for s in strips[::97]]
        results["a strip replaced (fit)"] += redraws(m, painter, screen, swaps)
        # The whole window (status line, banner...) at one zoom step, for scale.
        m.fit_view()
        for _ in range(10):
            m.zoom(1.25, cx)
            t, c = time.perf_counter(), time.thread_time()
            painter.draw(screen, None)
            results["whole view"].append(
                ((time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000)
            )
    rows = []
    p95s = {}
    for name, pairs in results.items():
        cells: list[object] = [name, len(pairs)]
        for k in (0, 1):
            ms = [pair[k] for pair in pairs]
            med, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[-1]
            cells += [f"{med:.2f}", f"{p95:.2f}", f"{p95 / TARGET_MS:.2f}"]
            p95s[name, k] = p95
        rows.append(cells)
    print()
    print(
        f"{args.strips} strips, panel {p.w}x{p.h} px, chapters and segments shown; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    heads = ["median", "p95", "p95 / 8 ms"]
    cols = ["redraw", "n", *(f"wall {h}" for h in heads), *(f"CPU {h}" for h in heads)]
    print(table(cols, rows))
    print()
    for name in ("zoom", "pan", "hover"):
        for k, what in ((0, "wall"), (1, "CPU")):
            ratio = p95s[name, k] / TARGET_MS
            print(verdict(f"panel redraw ({name}), {what} p95 / 8 ms", ratio, 1.0, False))


if __name__ == "__main__":
    main()
