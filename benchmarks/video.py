"""`streamspec video` speed: the movie of the spectrum building, against real time and
against decoding every frame of the same film, in one run.

A 1080p24 H.264 film made of the shared clips (`_common.film`, looped and re-encoded;
with a stereo AAC track added here, so the sound is transcoded too), rendered with
`--size 1280x720 --every 2` (both layouts with the default x264 preset, superfast, and
`--preset ultrafast` below). For each: wall clock and CPU time of all
threads; "x real time" is the film's length over the wall clock (target >= 2x), and the
CPU time says what the same run costs when the machine's two cores are not shared. The
reference, PyAV decoding every frame with threads, runs right before each, so a busy
machine slows both.

Run: PYTHONPATH=. python benchmarks/video.py [--minutes 0.75] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import CACHE, decode_all, film, table, verdict


def with_tone(path: Path) -> Path:
    """The film with a stereo AAC track (a slow chirp), cached beside it."""
    import av
    import numpy as np

    out = CACHE / f"{path.stem}-aac.mp4"
    if out.exists():
        return out
    tmp = out.with_suffix(".part.mp4")
    rate = 48_000
    with av.open(str(path)) as src, av.open(str(tmp), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=rate)
        aout.layout = "stereo"
        seconds = float(vin.duration * vin.time_base)
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
        n, step = round(seconds * rate), 1024
        for i in range(0, n, step):
            t = np.arange(i, min(i + step, n)) / rate
            s = (0.2 * np.sin(2 * np.pi * (220 + 20 * t) * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([s, s]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
            dst.mux(aout.encode(frame))
        dst.mux(aout.encode(None))
    tmp.rename(out)
    return out


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=0.75, help="film length (>= 0.5)")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()

    import av

    from streamspec.analysis.kmeans import warm_up
    from streamspec.core.options import RenderOptions, VideoOptions
    from streamspec.live.video import make_video

    path = with_tone(film(args.minutes))
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        seconds = float(v.duration * v.time_base)
        frames = v.frames
    warm_up(background=False)  # Numba's kernels load once per process, not per movie
    rows, speeds, free = [], [], []
    with tempfile.TemporaryDirectory() as d:
        for r in range(args.rounds):
            for layout, preset in (
                ("below", "superfast"),
                ("right", "superfast"),
                ("below", "ultrafast"),
            ):
                t0, c0 = time.perf_counter(), cpu()
                decode_all(path)
                dec_wall, dec_cpu = time.perf_counter() - t0, cpu() - c0
                out = Path(d) / f"{layout}-{r}.mp4"
                t0, c0 = time.perf_counter(), cpu()
                res = make_video(
                    str(path),
                    out,
                    RenderOptions().override(every=2.0),
                    VideoOptions(size=(1280, 720), layout=layout, preset=preset),
                )
                wall, used = time.perf_counter() - t0, cpu() - c0
                speed = seconds / wall
                if preset == "superfast":  # the default: the target is its
                    speeds.append(speed)
                    free.append(seconds / (used / 2))
                rows.append(
                    [
                        f"{layout}, {preset}",
                        f"{seconds / dec_wall:.1f}x",
                        f"{seconds / wall:.2f}x",
                        f"{wall / dec_wall:.2f}",
                        f"{seconds / (used / 2):.2f}x",
                        f"{used / seconds * 1000 / 24:.1f} ({dec_cpu / seconds * 1000 / 24:.1f})",
                        f"{res.frames}/{frames}",
                        f"{out.stat().st_size / 1e6:.1f} MB",
                    ]
                )
    print(f"film: {path.name}, {seconds:.0f} s of 1920x1080 at 24 fps, with AAC sound")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average: {load} on {os.cpu_count()} cores")
    print(
        table(
            [
                "layout, x264 preset",
                "decode-all (x real time)",
                "video 1280x720 (x real time)",
                "video / decode-all (wall)",
                "video, 2 free cores (CPU time / 2)",
                "CPU ms per film frame (decode-all's)",
                "frames",
                "size",
            ],
            rows,
        )
    )
    print(verdict("video 1280x720, x real time", statistics.median(speeds), 2.0, True))
    print(
        verdict("video 1280x720 on 2 free cores (CPU time / 2)", statistics.median(free), 2.0, True)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
