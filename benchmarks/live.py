"""The live view under load, headless: does the video keep its pace while the spectrum
builds? Measured in one run for a 1080p24 H.264 file and a 720p30 live lavfi source,
sampling every 0.5 s:

  display rate >= 0.98x the source rate, p95 latency from a sample's frame on screen to
  its strip on screen <= 100 ms, and no sample dropped; CPU use is reported.

Run: python benchmarks/live.py [--seconds 40]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, os.path.dirname(__file__))
import tempfile
from pathlib import Path

import numpy as np
from _common import film, table, verdict

from streamspec.live.app import play


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def session(source, fps: float, seconds: float, out: Path) -> dict:
    c0, t0 = cpu(), time.perf_counter()
    first: list[float] = []

    def tick(window) -> None:
        if not first and window.model.stats.frames_shown:
            first.append(time.perf_counter())

    result = play(
        source,
        every=0.5,
        end=seconds,
        exit_at_end=True,
        output=out,
        window_size=(1280, 720),
        on_tick=tick,
        announce=lambda s: None,
    )
    wall = time.perf_counter() - t0
    m = result.model
    played = time.perf_counter() - first[0]
    lat = np.array(m.stats.latencies) * 1000
    expected = int(np.ceil(seconds / 0.5 - 1e-9))
    return {
        "shown": m.stats.frames_shown,
        "dropped": m.stats.frames_dropped + m.stats.frames_skipped_live,
        "rate": m.stats.frames_shown / played / fps,
        "p95": float(np.percentile(lat, 95)) if len(lat) else float("nan"),
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "samples": result.strips,
        "missing": expected - result.strips,
        "cpu": (cpu() - c0) / wall * 100,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0)
    args = ap.parse_args()
    clip = film(1.0)  # 1080p24 H.264, GOP 240, 3 B-frames
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as d:
        runs = [
            ("1080p24 H.264 file", str(clip), 24.0),
            ("720p30 lavfi live", "lavfi:testsrc2=size=1280x720:rate=30,realtime", 30.0),
        ]
        for name, src, fps in runs:
            r = session(src, fps, args.seconds, Path(d) / "s.png")
            rows.append(
                [
                    name,
                    f"{r['rate']:.3f}",
                    f"{r['p50']:.1f}",
                    f"{r['p95']:.1f}",
                    r["samples"],
                    r["missing"],
                    r["dropped"],
                    f"{r['cpu']:.0f}%",
                ]
            )
            checks += [
                verdict(f"{name}: display rate / source rate", r["rate"], 0.98, True),
                verdict(f"{name}: p95 sample-to-strip ms", r["p95"], 100, False),
                verdict(f"{name}: samples missing", r["missing"], 0, False),
            ]
            print(f"{name}: {r}", flush=True)
    print()
    print(
        table(
            [
                "source",
                "display / source rate",
                "p50 ms",
                "p95 ms",
                "strips",
                "samples missing",
                "frames dropped",
                "CPU (of one core)",
            ],
            rows,
        )
    )
    print()
    print("\n".join(checks))


if __name__ == "__main__":
    main()
