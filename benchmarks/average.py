"""`render --mode average` on every frame against OpenCV's read-and-mean loop, in one run.

The peer is the loop most "movie barcode" scripts run (`movie-barcodes` among them):
``cv2.VideoCapture(path).read()`` for every frame, then ``frame.mean(axis=(0, 1))``.
Ours is `streamspec render --mode average` with a sample on every frame (`--every`
one frame), through the library (`Renderer(...).run()`), default decoding mode. Both
run on the same clip, in alternating rounds (the order turns each round), and the
ratio of each round's pair is reported: median and range over the rounds, in wall
clock and in CPU time (all threads of this process: OpenCV's and FFmpeg's decoding
threads included; waiting for a core on a shared machine does not count in it). They do not
do the same work -- ours converts to sRGB from the frame's own colour tags at analysis
size and averages in linear light; OpenCV converts to BGR at full size with BT.601
coefficients and averages the encoded values -- but they answer the same question
("the average colour of every frame"), which is what a user compares.

  target: streamspec time / OpenCV time <= 1.0 (reported; a regression shows)

Clips: the shared ones (../shared/media) and a 1-minute 1080p24 piece of the
benchmark film (see render.py), made once into benchmarks/.cache.

Run: python benchmarks/average.py [--rounds 5] [--no-film]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import film, media_files, table, verdict

from streamspec.media import open_source
from streamspec.pipeline.rendering import Renderer


def opencv_means(path: Path) -> int:
    """OpenCV's loop: read every frame, take its mean colour."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    means = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            means.append(frame.mean(axis=(0, 1)))
    finally:
        cap.release()
    return len(means)


def ours(path: Path, step: float) -> int:
    """`streamspec render --mode average --every STEP` through the library."""
    spec = Renderer(path, every=step, mode="average").run()
    return len(spec)


def frame_step(path: Path) -> float:
    with open_source(path) as src:
        return 1.0 / (src.info.fps or 25.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-film", action="store_true", help="only the shared clips")
    args = ap.parse_args()
    try:
        import cv2  # noqa: F401
    except ImportError:
        sys.exit("OpenCV is not installed: pip install 'streamspec[bench]'")

    clips = list(media_files())
    if not args.no_film:
        clips.append(film(1))
    Renderer(None, every=60.0).run()  # load the compiled kernels before timing
    rows, verdicts = [], []
    for path in clips:
        step = frame_step(path)
        opencv_means(path), ours(path, step)  # warm the page cache
        ratios, cpu_ratios, t_cv, t_us = [], [], [], []
        n_cv = n_us = 0
        for r in range(args.rounds):
            runs = {
                "opencv": lambda p=path: opencv_means(p),
                "ours": lambda p=path, s=step: ours(p, s),
            }
            order = ["opencv", "ours"] if r % 2 == 0 else ["ours", "opencv"]
            took, cpu = {}, {}
            for name in order:
                r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                n = runs[name]()
                took[name] = time.perf_counter() - t
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                cpu[name] = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
                if name == "opencv":
                    n_cv = n
                else:
                    n_us = n
            t_cv.append(took["opencv"])
            t_us.append(took["ours"])
            ratios.append(took["ours"] / took["opencv"])
            cpu_ratios.append(cpu["ours"] / cpu["opencv"])
            print(
                f"{path.name} round {r + 1}: ours {took['ours']:.2f} s "
                f"({cpu['ours']:.2f} s CPU), OpenCV {took['opencv']:.2f} s "
                f"({cpu['opencv']:.2f} s CPU), ratio {ratios[-1]:.3f} (CPU {cpu_ratios[-1]:.3f})",
                flush=True,
            )
        med = statistics.median(ratios)
        rows.append(
            [
                f"{path.name} ({n_cv} frames read by OpenCV, {n_us} strips)",
                f"{statistics.median(t_us):.2f}",
                f"{statistics.median(t_cv):.2f}",
                f"{med:.3f}",
                f"{min(ratios):.3f}-{max(ratios):.3f}",
                f"{statistics.median(cpu_ratios):.3f}",
            ]
        )
        verdicts.append(verdict(f"{path.name}: ours / OpenCV", med, 1.0, False))
    print()
    print(f"{args.rounds} alternating rounds; load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        table(
            [
                "clip",
                "ours (s, median)",
                "OpenCV (s, median)",
                "ours / OpenCV",
                "range",
                "CPU time ratio",
            ],
            rows,
        )
    )
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
