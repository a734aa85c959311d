"""Render speed per decoding mode against PyAV decoding every frame, in one run.

On a long 1080p24 H.264 film (the shared clips looped and re-encoded: GOP 240, three
B-frames, deblocking on), `streamspec render --every 2` runs in each --seek mode and is
compared with PyAV decoding every frame of the same file with threads:

  targets: exact <= 1.1x decode-all, fast <= 0.55x, keyframes <= 0.05x

Then peak RSS of a render of a 5-minute and a 10-minute film (separate processes), and,
when it installs, `movie-barcodes -m kmeans` on the same film (in its own venv).

Run: python benchmarks/render.py [--minutes 5] [--no-rss] [--no-barcodes]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import decode_all, film, table, timed, verdict

from streamspec.rendering import Renderer

TARGETS = {"exact": 1.1, "fast": 0.55, "keyframes": 0.05}


# Peak RSS from VmHWM: ru_maxrss would include this (large) parent's RSS, which Linux
# carries into the child's ru_maxrss across fork + exec.
RSS_SCRIPT = textwrap.dedent(
    """
    import sys
    from streamspec.rendering import Renderer
    spec = Renderer(sys.argv[1], every=2.0, seek="fast").run()
    spec.save(sys.argv[2])
    with open("/proc/self/status") as fh:
        hwm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM"))
    print(hwm, len(spec))
    """
)


def peak_rss(path: Path, out: Path) -> tuple[int, int]:
    proc = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(path), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    rss, n = proc.stdout.split()
    return int(rss), int(n)


def movie_barcodes(
    path: Path, workdir: Path, strips: int, limit: float
) -> tuple[float, bool] | None:
    """Time `movie-barcodes -m kmeans --width STRIPS` in a venv of its own (with --width
    it clusters as many frames as we sample; without, every frame). Returns (seconds,
    finished) -- it is stopped after ``limit`` seconds -- or None if it cannot install."""
    venv = workdir / "mb-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "movie-barcodes"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"movie-barcodes did not install: {exc}")
        return None
    exe = venv / "bin" / "movie-barcodes"
    cmd = [str(exe), "-i", str(path), "-m", "kmeans", "--width", str(strips)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            [*cmd, "-d", str(workdir / "barcode.png")],
            capture_output=True,
            text=True,
            cwd=workdir,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return limit, False
    took = time.perf_counter() - t
    if proc.returncode != 0:
        print("movie-barcodes failed:", proc.stderr.strip().splitlines()[-1:])
        return None
    return took, True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--no-barcodes", action="store_true")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    ap.add_argument("--no-modes", action="store_true", help="skip the decoding-mode timings")
    ap.add_argument(
        "--barcodes-limit",
        type=float,
        default=1200.0,
        help="stop movie-barcodes after this many seconds (1200)",
    )
    args = ap.parse_args()

    path = film(args.minutes)
    Renderer(None, every=60.0).run()  # load the compiled kernels before timing
    decode_all(path)  # warm the page cache
    # Interleave the reference and the renders, round after round, and take medians of the
    # per-round ratios: the machine is shared, and its speed drifts over minutes.
    rows: list[list[object]] = []
    extra_rows: list[list[object]] = []
    verdicts: list[str] = []
    t_fast: float | None = None
    if not args.no_modes:
        ratios: dict[str, list[float]] = {m: [] for m in TARGETS}
        times: dict[str, list[float]] = {m: [] for m in ["decode-all", *TARGETS]}
        frames = 0
        for r in range(args.rounds):
            t_dec, frames = timed(lambda: decode_all(path))
            times["decode-all"].append(t_dec)
            for seek in TARGETS:
                t, _ = timed(lambda seek=seek: Renderer(path, every=2.0, seek=seek).run())
                times[seek].append(t)
                ratios[seek].append(t / t_dec)
            print(
                f"round {r + 1}: decode-all {t_dec:.2f} s; "
                + ", ".join(f"{m} {ratios[m][-1]:.3f}x" for m in TARGETS),
                flush=True,
            )
        t_dec = statistics.median(times["decode-all"])
        results = {m: statistics.median(v) for m, v in ratios.items()}
        t_fast = statistics.median(times["fast"])
        rows = [
            [m, f"{statistics.median(times[m]):.2f}", f"{results[m]:.3f}", TARGETS[m]]
            for m in TARGETS
        ]
        rows.insert(0, ["decode every frame (PyAV, threads)", f"{t_dec:.2f}", "1", ""])
        verdicts = [verdict(f"{m} / decode-all", results[m], TARGETS[m], False) for m in TARGETS]
        print(f"film: {path.name} ({frames} frames), median of {args.rounds} interleaved rounds")

    if not args.no_rss:
        with tempfile.TemporaryDirectory() as d:
            r5, n5 = peak_rss(film(5), Path(d) / "a.png")
            r10, n10 = peak_rss(film(10), Path(d) / "b.png")
        print(
            f"peak RSS: 5 min {r5 / 2**20:.0f} MiB ({n5} strips), "
            f"10 min {r10 / 2**20:.0f} MiB ({n10} strips): ratio {r10 / r5:.3f}"
        )
        extra_rows.append(
            [
                "peak RSS, 10-min film / 5-min film",
                f"{r10 / r5:.3f} ({r5 / 2**20:.0f} / {r10 / 2**20:.0f} MiB)",
                "<= 1.10",
            ]
        )
        verdicts.append(verdict("peak RSS 10 min / 5 min", r10 / r5, 1.10, False))
    if not args.no_barcodes:
        if t_fast is None:
            t_fast, _ = timed(lambda: Renderer(path, every=2.0, seek="fast").run())
        with tempfile.TemporaryDirectory() as d:
            got = movie_barcodes(
                path, Path(d), strips=round(args.minutes * 30), limit=args.barcodes_limit
            )
        if got is not None:
            tb, finished = got
            more = "" if finished else "more than "
            print(
                f"movie-barcodes -m kmeans: {more}{tb:.0f} s; streamspec --seek fast "
                f"{t_fast:.1f} s",
                flush=True,
            )
            extra_rows.append(
                [
                    f"movie-barcodes -m kmeans --width {round(args.minutes * 30)}"
                    " / streamspec render",
                    f"{'' if finished else '> '}{tb / t_fast:.0f}",
                    "(reported)",
                ]
            )

    print()
    if rows:
        print(table(["render --every 2", "seconds", "x decode-all", "target <="], rows))
    if extra_rows:
        print(table(["measure", "value", "target"], extra_rows))
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
