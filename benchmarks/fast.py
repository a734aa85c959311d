"""`render --seek fast` on an 11-minute 1080p24 film against decoding every frame, in one run.

The film is the benchmark film (see _common.film: the shared clips looped and
re-encoded with x264 `veryfast`, 3 B-frames with a B-pyramid, GOP 240, deblocking on),
in MP4 and remuxed (stream copy) to Matroska, whose index does not say where GOPs
end. On each, in every round: PyAV decoding every frame with threads (the reference),
then `streamspec render --every 2 --seek fast` (through the library); the order turns
each round. Each runs in a process of its own, so a render pays its start-up (imports,
Numba's set-up) as a user does. The ratios are per round (render / the reference run in
the same round), in wall clock and in CPU time (all threads; a shared machine's load
shows in the wall clock, waiting for a core does not count in CPU time); medians and the
rounds' range are printed.

``--baseline DIR`` adds the render of another checkout of streamspec (its root folder)
to every round, for a before/after comparison in the same run.

  target: fast / decode-all <= 0.55 (median wall-clock ratio)

Run: python benchmarks/fast.py [--rounds 3] [--minutes 11] [--baseline DIR] [--no-mkv]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import CACHE, ROOT, film, table, verdict

TARGET = 0.55

DECODE_ALL = """
import sys, av
with av.open(sys.argv[1]) as c:
    s = c.streams.video[0]
    s.thread_type = "AUTO"
    print(sum(1 for _ in c.decode(s)))
"""

RENDER = """
import sys
from streamspec.pipeline.rendering import Renderer
spec = Renderer(sys.argv[1], every=2.0, seek="fast").run()
print(len(spec))
"""


def remux(path: Path, suffix: str) -> Path:
    """``path`` remuxed (packets copied, nothing re-encoded) to another container."""
    import av

    out_path = CACHE / (path.stem + suffix)
    if out_path.exists():
        return out_path
    tmp = out_path.with_name(out_path.stem + ".part" + suffix)
    with av.open(str(path)) as src, av.open(str(tmp), "w") as dst:
        s = src.streams.video[0]
        d = dst.add_stream_from_template(s)
        for packet in src.demux(s):
            if packet.dts is None:
                continue
            packet.stream = d
            dst.mux(packet)
    tmp.rename(out_path)
    return out_path


def run(code: str, path: Path, pythonpath: Path) -> tuple[float, float, str]:
    """(wall, CPU) seconds of ``code`` run on ``path`` in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    r0, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    # Run from the checkout's folder: ``python -c`` puts the current folder first on the
    # path, so it decides which streamspec is imported.
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path.resolve())],
        env=env,
        cwd=pythonpath,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"failed on {path.name}: {proc.stderr.strip()[-500:]}")
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return wall, cpu, proc.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=11.0)
    ap.add_argument("--baseline", type=Path, help="another checkout's root, timed alongside")
    ap.add_argument("--no-mkv", action="store_true", help="only the MP4 film")
    args = ap.parse_args()

    mp4 = film(args.minutes)
    films = {"MP4": mp4} if args.no_mkv else {"MP4": mp4, "Matroska": remux(mp4, ".mkv")}
    runs = {"decode-all": (DECODE_ALL, ROOT), "fast": (RENDER, ROOT)}
    if args.baseline:
        runs["fast (baseline)"] = (RENDER, args.baseline.resolve())
    names = list(runs)
    for _, where in runs.values():  # Numba's cache, for each checkout
        subprocess.run(
            [sys.executable, "-c", RENDER.replace("sys.argv[1]", "None")], cwd=where, check=True
        )
    wall: dict[tuple[str, str], list[float]] = {(f, n): [] for f in films for n in names}
    cpu: dict[tuple[str, str], list[float]] = {(f, n): [] for f in films for n in names}
    out: dict[tuple[str, str], str] = {}
    for r in range(args.rounds):
        for fname, path in films.items():
            order = names[r % len(names) :] + names[: r % len(names)]
            for n in order:
                code, where = runs[n]
                w, c, out[fname, n] = run(code, path, where)
                wall[fname, n].append(w)
                cpu[fname, n].append(c)
            ref_w, ref_c = wall[fname, "decode-all"][-1], cpu[fname, "decode-all"][-1]
            print(
                f"round {r + 1}, {fname}: decode-all {ref_w:.1f} s ({ref_c:.1f} s CPU); "
                + "; ".join(
                    f"{n} {wall[fname, n][-1] / ref_w:.3f}x (CPU {cpu[fname, n][-1] / ref_c:.3f}x)"
                    for n in names[1:]
                )
                + f"; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    rows, verdicts = [], []
    for fname in films:
        ref_w, ref_c = wall[fname, "decode-all"], cpu[fname, "decode-all"]
        rows.append(
            [
                f"{fname}: decoding every frame ({out[fname, 'decode-all']} frames)",
                f"{statistics.median(ref_w):.1f}",
                "1",
                "",
                f"{statistics.median(ref_c):.1f}",
                "1",
            ]
        )
        for n in names[1:]:
            ratios = [w / b for w, b in zip(wall[fname, n], ref_w, strict=True)]
            cratios = [c / b for c, b in zip(cpu[fname, n], ref_c, strict=True)]
            rows.append(
                [
                    f"{fname}: render --seek {n} ({out[fname, n]} strips)",
                    f"{statistics.median(wall[fname, n]):.1f}",
                    f"{statistics.median(ratios):.3f}",
                    f"{min(ratios):.3f}-{max(ratios):.3f}",
                    f"{statistics.median(cpu[fname, n]):.1f}",
                    f"{statistics.median(cratios):.3f} ({min(cratios):.3f}-{max(cratios):.3f})",
                ]
            )
            if n == "fast":
                verdicts.append(
                    verdict(f"{fname}: fast / decode-all", statistics.median(ratios), TARGET, False)
                )
    print()
    print(f"{mp4.name}, {args.rounds} alternating rounds, each run in its own process")
    print(
        table(
            ["run", "wall s (median)", "x decode-all", "range", "CPU s", "CPU x decode-all"],
            rows,
        )
    )
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
