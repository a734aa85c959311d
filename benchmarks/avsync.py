"""A/V sync in ``play``: is each picture on screen when its sound is heard?

A clip made here (cached) flashes white and beeps (1 kHz, 0.1 s) together every 2 s:
H.264 + AAC, 70 s. ``play`` runs headless with SDL's ``disk`` audio driver recording what
is played, while the window logs when each picture is presented (after the flip). Over
60 s of playing, with a pause, two seeks and a speed change (1.5x, then 1x) in the middle,
each flash on screen is matched with its beep in the recording, and the offset (picture
minus sound; positive = picture late) is measured:

  |offset| p95 <= 30 ms (lip sync is noticed from about 45 ms early / 125 ms late).

The recording is put on the wall clock with the audio callback's log: the wall time at
which each device buffer was handed over, and where it starts in the recording (the disk
driver writes each buffer as it gets it, then sleeps the buffer's length: real-time pace).

Run: python benchmarks/avsync.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # videos.py

import numpy as np
from _common import table, verdict
from videos import make_film

from streamspec.live.app import play

CACHE = Path("/tmp/benchmarks/.cache")
EVERY = 2.0


def clip() -> Path:
    """The flash-and-beep clip (cached): 70 s, 640x360 25 fps H.264, 48 kHz stereo AAC."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "avsync-70s-640x360-25fps-aac.mp4"
    if not path.exists():
        print(f"generating {path.name} (cached for later runs)...", flush=True)
        part = path.with_suffix(".part.mp4")
        make_film(part, seconds=70.0, fps=25, size=(640, 360), every=EVERY, first=1.0)
        part.rename(path)
    return path


def onsets(x: np.ndarray, rate: int, level: float = 0.05) -> np.ndarray:
    """Sample indices where bursts louder than ``level`` begin (>= 0.4 s apart)."""
    idx = np.flatnonzero(np.abs(x) > level)
    if not len(idx):
        return idx
    return idx[np.r_[True, np.diff(idx) > int(0.4 * rate)]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    import pygame

    # SDL reads these when the sound starts: record what is played.
    rec_path = Path(tempfile.mkdtemp(prefix="avsync-")) / "played.raw"
    os.environ["SDL_AUDIODRIVER"] = "disk"
    os.environ["SDL_DISKAUDIOFILE"] = str(rec_path)
    path = clip()
    span = args.seconds
    # What happens when (seconds of wall time after the first picture).
    script = [
        (0.20 * span, "pause"),
        (0.20 * span + 2.0, "resume"),
        (0.35 * span, "seek 41.3"),
        (0.55 * span, "seek 11.3"),
        (0.70 * span, "faster"),  # ] ] : 1.5x
        (0.85 * span, "normal"),  # Backspace
        (span, "stop"),
    ]
    ticks: list[tuple[float, float, bool]] = []  # (wall after flip, picture time, white)
    state: dict = {"t0": None, "step": 0, "player": None}
    acted: list[tuple[float, str]] = []

    def key(k: int) -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=""))

    def tick(window) -> None:
        now = time.monotonic()
        f = window._frame
        if f is None:
            return
        if state["t0"] is None:
            state["t0"] = now
            state["player"] = window.audio
        ticks.append((now, f.time, float(f.rgb.mean()) > 128))
        while state["step"] < len(script) and now - state["t0"] >= script[state["step"]][0]:
            what = script[state["step"]][1]
            state["step"] += 1
            acted.append((now - state["t0"], what))
            if what in ("pause", "resume"):
                key(pygame.K_SPACE)
            elif what.startswith("seek"):
                window.seek(float(what.split()[1]))
            elif what == "faster":
                key(pygame.K_RIGHTBRACKET)
                key(pygame.K_RIGHTBRACKET)
            elif what == "normal":
                key(pygame.K_BACKSPACE)
            elif what == "stop":
                pygame.event.post(pygame.event.Event(pygame.QUIT))

    messages: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        play(
            str(path),
            every=2.0,
            output=Path(d) / "s.png",
            size=(640, 480),
            on_tick=tick,
            announce=messages.append,
        )
    player = state["player"]
    if player is None:
        sys.exit("no sound was played: " + "; ".join(messages))
    rate, ch = player.rate, player.channels
    rec = np.fromfile(rec_path, np.float32).reshape(-1, ch)[:, 0]
    log = np.array(list(player.log), dtype=np.float64)  # wall, byte offset, bytes
    # The device starts paused: SDL writes silent buffers before the first callback, which
    # the log does not have. They are the recording's head.
    lead = len(rec) - (log[-1, 1] + log[-1, 2]) / (4 * ch)
    starts = log[:, 1] / (4 * ch) + lead  # the first sample of each buffer in the recording

    def wall_of(sample: int) -> float:
        k = int(np.searchsorted(starts, sample, side="right")) - 1
        return float(log[k, 0] + (sample - starts[k]) / rate)

    beeps = np.array([wall_of(int(i)) for i in onsets(rec, rate)])
    flashes = [
        t
        for (t, _, white), (_, _, before) in zip(ticks[1:], ticks[:-1], strict=True)
        if white and not before
    ]
    offsets = []
    unmatched = 0
    for t in flashes:
        j = int(np.argmin(np.abs(beeps - t))) if len(beeps) else -1
        if j < 0 or abs(beeps[j] - t) > 0.5:
            unmatched += 1
            continue
        offsets.append((t - beeps[j]) * 1000)
        if os.environ.get("AVSYNC_DEBUG"):
            print(f"  flash at {t - state['t0']:6.2f} s: offset {offsets[-1]:+6.1f} ms")
    off = np.array(offsets)
    pace = (len(rec) - lead) / rate / (log[-1, 0] + log[-1, 2] / (4 * ch) / rate - log[0, 0])
    p95 = float(np.percentile(np.abs(off), 95)) if len(off) else float("nan")
    med = float(np.median(off)) if len(off) else float("nan")
    print("script:", ", ".join(f"{w} at {t:.1f} s" for t, w in acted))
    print(f"flashes on screen {len(flashes)}, beeps recorded {len(beeps)}, matched {len(off)}")
    print(f"recording pace (recorded seconds / wall seconds): {pace:.4f}")
    print(f"underrun samples while playing: {player.samples_dropped}")
    print(f"silence before the first callback: {lead / rate * 1000:.0f} ms")
    gaps = np.diff(log[:, 0]) * 1000
    p50, p95i = np.median(gaps), np.percentile(gaps, 95)
    print(f"device buffer interval ms: median {p50:.1f}, p95 {p95i:.1f}")
    print()
    print(
        table(
            [
                "pairs",
                "median offset ms",
                "|offset| p95 ms",
                "max |offset| ms",
                "within 30 ms",
                "unmatched",
            ],
            [
                [
                    len(off),
                    med,
                    p95,
                    float(np.abs(off).max()) if len(off) else 0,
                    f"{np.mean(np.abs(off) <= 30):.0%}" if len(off) else "-",
                    unmatched,
                ]
            ],
        )
    )
    print()
    print(verdict("A/V |offset| p95 ms", p95, 30, False))
    print(verdict("flashes without a beep", unmatched, 0, False))


if __name__ == "__main__":
    main()
