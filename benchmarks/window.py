"""The live window at full size under a real X server (Xvfb, 1920x1080, started here):
does 1080p24 H.264 keep its pace in a 1280x720 window, a 1920x1080 window and
fullscreen? Sampling every 0.5 s, measured in one run:

  display rate >= 0.98x the source rate and no sample dropped; the time to draw and
  present one frame (p50 / p95 ms) and CPU use are reported.

The same film headless (SDL's dummy driver, no X server) in the same run is the
reference: on a shared, loaded machine the decoder's share of CPU bounds both.

Run: python benchmarks/window.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # xserver.py
import numpy as np
from _common import film, table, verdict
from xserver import start_xvfb

SCREEN = (1920, 1080)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid: int) -> float:
    """CPU seconds of another process (the X server)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start() -> tuple[subprocess.Popen, str]:
    if not shutil.which("Xvfb"):
        sys.exit("Xvfb is not installed (apt-get install xvfb); nothing to measure")
    started = start_xvfb(SCREEN)
    if started is None:
        sys.exit("Xvfb did not start")
    return started


def session(
    clip: Path, size: tuple[int, int], full: bool, seconds: float, out: Path, xpid: int, driver: str
) -> dict:
    import pygame

    os.environ["SDL_VIDEODRIVER"] = driver

    from streamspec.live.app import play

    c0, x0, t0 = cpu(), proc_cpu(xpid), time.perf_counter()
    first: list[float] = []
    costs: list[float] = []
    cpu_costs: list[float] = []  # the window thread's CPU time for the same
    state: dict = {}

    def tick(window) -> None:
        if "draw" not in state:  # time each draw + present: from draw() to this hook
            draw = window.draw

            def timed() -> None:
                state["t"], state["c"] = time.perf_counter(), time.thread_time()
                draw()

            window.draw = timed
            state["draw"] = True
            if full:
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_f, mod=0))
        elif "t" in state and window.model.stats.frames_shown:
            costs.append(time.perf_counter() - state["t"])
            cpu_costs.append(time.thread_time() - state["c"])
        if not first and window.model.stats.frames_shown:
            first.append(time.perf_counter())
        state["size"] = window.screen.get_size()

    result = play(
        clip,
        every=0.5,
        end=seconds,
        exit_at_end=True,
        output=out,
        size=size,
        on_tick=tick,
        announce=lambda s: None,
    )
    wall = time.perf_counter() - t0
    m = result.model
    played = time.perf_counter() - first[0]
    ms = np.array(costs) * 1000
    return {
        "window": state["size"],
        "video": (m.layout.video.w, m.layout.video.h),
        "shown": m.stats.frames_shown,
        "dropped": m.stats.frames_dropped,
        "rate": m.stats.frames_shown / played / 24.0,
        "missing": int(np.ceil(seconds / 0.5 - 1e-9)) - result.strips,
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "cpu_ms": float(np.percentile(np.array(cpu_costs) * 1000, 50)),
        "cpu": (cpu() - c0) / wall * 100,
        "xcpu": (proc_cpu(xpid) - x0) / wall * 100,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    clip = film(0.75)  # 1080p24 H.264, GOP 240, 3 B-frames
    xvfb, display = start()
    os.environ.update(DISPLAY=display, SDL_VIDEODRIVER="x11")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    rows, checks = [], []
    try:
        with tempfile.TemporaryDirectory() as d:
            runs = [
                ("headless 1280x720 (reference)", (1280, 720), False, "dummy"),
                ("1280x720 window", (1280, 720), False, "x11"),
                ("1920x1080 window", (1920, 1080), False, "x11"),
                ("fullscreen 1920x1080", (1280, 720), True, "x11"),
            ]
            ref = None
            for name, size, full, driver in runs:
                r = session(clip, size, full, args.seconds, Path(d) / "s.png", xvfb.pid, driver)
                ref = ref or r["rate"]
                rows.append(
                    [
                        name,
                        "x".join(map(str, r["window"])),
                        "x".join(map(str, r["video"])),
                        f"{r['rate']:.3f}",
                        f"{r['rate'] / ref:.3f}",
                        r["dropped"],
                        r["missing"],
                        f"{r['p50']:.1f}",
                        f"{r['p95']:.1f}",
                        f"{r['cpu_ms']:.1f}",
                        f"{r['cpu']:.0f}%",
                        f"{r['xcpu']:.0f}%",
                    ]
                )
                checks += [
                    verdict(f"{name}: display rate / source rate", r["rate"], 0.98, True),
                    verdict(f"{name}: samples missing", r["missing"], 0, False),
                ]
                print(f"{name}: {r}", flush=True)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    print()
    print(
        table(
            [
                "window",
                "size",
                "picture",
                "display / source rate",
                "/ headless rate",
                "frames dropped",
                "samples missing",
                "draw+present p50 ms",
                "p95 ms",
                "its CPU p50 ms",
                "CPU (of one core)",
                "Xvfb CPU",
            ],
            rows,
        )
    )
    print()
    print("\n".join(checks))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
