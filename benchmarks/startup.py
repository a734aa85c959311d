"""Start-up of `streamspec render`: from process start to the first decoded packet.

Each run is a fresh `python -c` process that runs the CLI (`render FILM --end 10`)
with a few functions wrapped to note the time (wall clock, against a time taken in the
parent just before it starts the process). The phases, in the order they happen:

  imports       interpreter + `streamspec.cli` + what `render` imports (PyAV, NumPy,
                Pillow, tqdm, and -- when it is imported eagerly -- Numba)
  open          opening the file and decoding its first frame (size, rotation)
  crop          black-bar detection (`detect_crop`: a keyframe from 8 places)
  first packet  the sampling pass decodes its first packet   <- target <= 1 s
  first strip   the first sample analysed (kernels loaded on first use)

Medians of several runs (one warm-up run first, so that the OS file cache and Numba's
cache are warm). `--package` measures another copy of the package (e.g. an older
checkout renamed) in the same run, interleaved.

Run: python benchmarks/startup.py [--runs 5] [--film PATH] [--package NAME[:DIR]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import ROOT, film, table, verdict

DRIVER = textwrap.dedent(
    """
    import os, sys, time, json, importlib
    t0 = float(os.environ["STARTUP_T0"])
    pkg = sys.argv[1]
    marks = {"interpreter": time.time()}
    cli = importlib.import_module(pkg + ".cli")
    import tqdm  # what `render` imports, imported here to time it
    rendering = importlib.import_module(pkg + ".rendering")
    sources = importlib.import_module(pkg + ".sources")
    marks["imports"] = time.time()

    def wrap(owner, name, before=None, after=None):
        fn = getattr(owner, name)
        def wrapper(*a, **kw):
            if before and before not in marks:
                marks[before] = time.time()
            try:
                return fn(*a, **kw)
            finally:
                if after and after not in marks:
                    marks[after] = time.time()
        setattr(owner, name, wrapper)

    wrap(sources.AVSource, "__init__", "open start", "open")
    wrap(rendering, "detect_crop", "crop start", "crop")
    wrap(rendering, "analyze_frame", "first analysis start", "first strip")
    decode = sources.AVSource._decode
    def first_decode(self, packet):
        frames = decode(self, packet)
        if "crop" in marks and "first packet" not in marks:
            marks["first packet"] = time.time()
        return frames
    sources.AVSource._decode = first_decode
    if sys.argv[4] == "warm-up":  # what a render would do with kmeans.warm_up() at its start
        importlib.import_module(pkg + ".kmeans").warm_up()
    code = cli.main(["render", sys.argv[2], "-o", sys.argv[3], "--end", "10", "-q"])
    marks["exit"] = time.time()
    print(json.dumps({k: v - t0 for k, v in marks.items()}))
    sys.exit(code)
    """
)

PHASES = [
    ("imports", "interpreter + imports"),
    ("open", "open + first frame"),
    ("crop", "crop detection"),
    ("first packet", "first decoded packet (total)"),
    ("first strip", "first strip analysed (total)"),
]


def run_once(
    package: str, path_dir: str, video: Path, out: Path, warm: bool = False
) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": path_dir}
    env["STARTUP_T0"] = repr(time.time())
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, package, str(video), str(out), "warm-up" if warm else "-"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    if proc.returncode != 0:
        sys.exit(f"render failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--film", type=Path, default=None, help="default: the 5-min benchmark film")
    ap.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="NAME[:DIR]",
        help="also measure package NAME importable from DIR (repeatable)",
    )
    ap.add_argument(
        "--warm-up",
        action="store_true",
        help="also measure a render that starts kmeans.warm_up() in a thread first",
    )
    args = ap.parse_args()
    video = args.film or film(5)
    packages = [("streamspec", str(ROOT))]
    if args.warm_up:
        packages.append(("streamspec+warm-up", str(ROOT)))
    for spec in args.package:
        name, _, where = spec.partition(":")
        packages.append((name, where or str(ROOT)))
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in packages}
    with tempfile.TemporaryDirectory() as d:
        for r in range(args.runs + 1):
            for name, where in packages if r % 2 else packages[::-1]:
                marks = run_once(
                    name.removesuffix("+warm-up"),
                    where,
                    video,
                    Path(d) / f"{name}-{r}.png",
                    warm=name.endswith("+warm-up"),
                )
                if r > 0:  # the first round warms the caches
                    results[name].append(marks)
    rows = []
    for name, runs in results.items():
        med = {k: statistics.median(m[k] for m in runs) for k in runs[0]}
        prev = 0.0
        cells = []
        for key, _ in PHASES:
            cells.append(f"{med[key]:.2f} (+{med[key] - prev:.2f})")
            prev = med[key] if key != "first strip" else prev
        rows.append([name, *cells])
        print(
            verdict(
                f"{name}: start-up to the first decoded packet, s", med["first packet"], 1.0, False
            )
        )
    print()
    print(f"seconds from process start, medians of {args.runs} runs ({video.name}):")
    print(table(["package", *[label for _, label in PHASES]], rows))


if __name__ == "__main__":
    main()
