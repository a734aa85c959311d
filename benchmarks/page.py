"""The web page of a two-hour film: size, first paint and hover speed in headless Chromium.

A synthetic 3,600-strip spectrum (two hours sampled every 2 s, 50 colours a strip, with
chapters and segments) is written as a page with ``streamspec page`` and loaded from
disk in the system's headless Chromium (selenium; nothing is downloaded).

  targets: the page <= 3 MB; first paint <= 1 s; a hover handled within one frame
  (16 ms) -- the browser's Performance API: performance.now() around the page's hover
  handler and its overlay redraw, and PerformanceObserver 'event' timing (which reports
  only events of 16 ms or more)

Run: python benchmarks/page.py [--strips 3600] [--loads 5] [--moves 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # browser.py
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # this checkout's streamspec
import numpy as np
from _common import synthetic_spectrum, table, verdict

from streamspec.analysis.segments import segment_spectrum
from streamspec.cli import main as cli
from streamspec.outputs.spectrum import Spectrum

SIZE_TARGET = 3_000_000  # bytes
PAINT_TARGET = 1000.0  # ms
FRAME = 16.0  # ms


def synthetic(n: int) -> Spectrum:
    """The shared synthetic film (see _common), with its colour segments found."""
    spec = synthetic_spectrum(n, time_offset=0.04)
    segment_spectrum(spec)
    return spec


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q / 100 * len(v) + 0.5) - 1))] if v else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strips", type=int, default=3600)
    ap.add_argument("--loads", type=int, default=5, help="page loads for the paint times")
    ap.add_argument("--moves", type=int, default=200, help="mouse moves over the spectrum")
    args = ap.parse_args()

    import browser

    why = browser.missing()
    if why:
        sys.exit(f"cannot measure the page: {why}")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "film.json"
        synthetic(args.strips).save(data.with_suffix(".png"))
        page = Path(d) / "film.html"
        t = time.perf_counter()
        assert cli(["page", str(data), "-o", str(page)]) == 0
        t_write = time.perf_counter() - t
        size = page.stat().st_size

        driver, profile = browser.start(1280, 900)
        try:
            loads = []
            for _ in range(args.loads):
                driver.get(page.as_uri())
                time.sleep(0.3)
                loads.append(
                    driver.execute_script(
                        "const p = Object.fromEntries(performance.getEntriesByType('paint')"
                        ".map(e => [e.name, e.startTime]));"
                        "const m = performance.getEntriesByName('streamspec:drawn')[0];"
                        "return [p['first-paint'], p['first-contentful-paint'], m.startTime,"
                        " performance.getEntriesByType('resource').length]"
                    )
                )
            assert all(r[3] == 0 for r in loads), "the page made network requests"
            first_paint = statistics.median(r[0] for r in loads)
            first_content = statistics.median(r[1] for r in loads)
            drawn = statistics.median(r[2] for r in loads)

            # Hover: moves to random strips over the whole film (each one a new strip,
            # the expensive case: tooltip, colour list and overlay all change).
            driver.execute_script(
                "window.__slow = [];"
                "new PerformanceObserver(l => { for (const e of l.getEntries())"
                " if (e.name.startsWith('pointer') || e.name.startsWith('mouse'))"
                " window.__slow.push([e.name, e.duration, e.startTime,"
                " e.processingEnd - e.processingStart]); })"
                ".observe({type: 'event', durationThreshold: 16, buffered: false});"
                "streamspecPage.stats.hover.length = 0; streamspecPage.stats.overlay.length = 0;"
            )
            canvas = driver.find_element(By.ID, "overlay")
            w = driver.execute_script("return streamspecPage.width")
            box = driver.execute_script("return streamspecPage.stripBox(0, 0)")
            h = canvas.size["height"]
            rng = np.random.default_rng(1)
            xs = rng.uniform(2, w - 2, args.moves)
            ys = rng.uniform(box["y"] + 5, box["y"] + box["h"] - 5, args.moves)
            chain = ActionChains(driver, duration=0)
            for x, y in zip(xs, ys, strict=True):
                chain.move_to_element_with_offset(canvas, int(x - w / 2), int(y - h / 2))
                chain.pause(0.02)  # moves a frame apart, as a hand makes them
            chain.perform()
            time.sleep(0.2)
            hover, overlay, slow = driver.execute_script(
                "return [streamspecPage.stats.hover, streamspecPage.stats.overlay, window.__slow]"
            )
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)

    h50, h95 = pct(hover, 50), pct(hover, 95)
    o50, o95 = pct(overlay, 50), pct(overlay, 95)
    up = h95 + o95  # an upper bound of the p95 of one update
    slow_moves = [e for e in slow if e[0] in ("pointermove", "mousemove")]
    print()
    print(
        f"{args.strips} strips x 50 colours; page written in {t_write:.2f} s; "
        f"{args.loads} loads, {len(hover)} hover events from {args.moves} moves, "
        f"{len(overlay)} overlay redraws"
    )
    rows = [
        ["page size", f"{size / 1e6:.2f} MB", "<= 3 MB", f"{size / SIZE_TARGET:.2f}"],
        ["first paint", f"{first_paint:.0f} ms", "<= 1000 ms", f"{first_paint / PAINT_TARGET:.2f}"],
        [
            "first contentful paint",
            f"{first_content:.0f} ms",
            "<= 1000 ms",
            f"{first_content / PAINT_TARGET:.2f}",
        ],
        ["spectrum drawn (mark)", f"{drawn:.0f} ms", "<= 1000 ms", f"{drawn / PAINT_TARGET:.2f}"],
        ["hover handler p50", f"{h50:.2f} ms", "<= 16 ms", f"{h50 / FRAME:.3f}"],
        ["hover handler p95", f"{h95:.2f} ms", "<= 16 ms", f"{h95 / FRAME:.3f}"],
        ["overlay redraw p50", f"{o50:.2f} ms", "", f"{o50 / FRAME:.3f}"],
        ["overlay redraw p95", f"{o95:.2f} ms", "", f"{o95 / FRAME:.3f}"],
        [
            "handler + redraw, p95 + p95",
            f"{h95 + o95:.2f} ms",
            "<= 16 ms",
            f"{(h95 + o95) / FRAME:.3f}",
        ],
        ["pointer/mouse moves >= 16 ms (event timing)", f"{len(slow_moves)}", "0", ""],
        ["other pointer events >= 16 ms (entering)", f"{len(slow) - len(slow_moves)}", "", ""],
    ]
    print(table(["measure", "value", "target", "ratio to target"], rows))
    if os.environ.get("PAGE_BENCH_DEBUG"):
        print(slow)
    if errors:
        print(f"console errors: {errors}")
    print()
    print(verdict("page size / 3 MB", size / SIZE_TARGET, 1.0, False))
    print(verdict("first paint / 1 s", first_paint / PAINT_TARGET, 1.0, False))
    print(verdict("spectrum drawn / 1 s", drawn / PAINT_TARGET, 1.0, False))
    print(verdict("hover p95 (handler + redraw) / 16 ms", up / FRAME, 1.0, False))
    print(verdict("moves of 16 ms or more (event timing)", len(slow_moves), 0, False))


if __name__ == "__main__":
    main()
