"""The work per sample, and the strip quantizer's quality, against labelling every pixel.

``analyze_frame`` (the strip path: ``sample_palette`` on a stratified 32k-pixel sample)
is compared with the previous strip path, ``ColorKMeans(k).fit(frame)`` (a 16k-pixel
random sample fitted to convergence, then every pixel labelled on all cores), in the
same run:

1. time per sample on frames 2 s apart of the benchmark film (1080p24, see render.py),
   before and after in alternating processes: conversion (``Frame.to_rgb`` to
   ~480x270), quantizer, strip (400 rows); wall clock and CPU time of the process
   (FFmpeg scales on threads of its own, and the previous quantizer labelled on both
   cores);
2. quality on benchmarks/kmeans.py's frames (3 per shared clip), at analysis size
   (~480x270, what a render analyses) and at native size, over several seeds: MSE over
   all pixels (each pixel to its nearest palette colour), as a ratio to ColorKMeans
   with the same seed, and how far the sampled shares are from labelling every pixel
   with the same palette (L1 of the shares; the largest band difference, in rows, of
   a 400-row strip).

  targets: conversion + quantizer + strip <= 5 ms; MSE within 2 % of ColorKMeans'

Run: python benchmarks/sample.py [--frames 24] [--seeds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import av
from _common import film, frames_2s_apart, geomean, media_files, table, verdict

from streamspec import ColorKMeans
from streamspec.analysis import _kernels as K
from streamspec.analysis.strip import apportion, make_strip, order_palette
from streamspec.media import analysis_size, open_source
from streamspec.outputs.spectrum import Strip, analyze_frame


def full_label_strip(rgb: np.ndarray, index: int = 0, k: int = 50, seed: int = 0) -> Strip:
    """The previous analyze_frame: ColorKMeans on the frame, every pixel labelled."""
    km = ColorKMeans(k, random_state=np.random.default_rng([seed, index])).fit(rgb)
    column = np.ascontiguousarray(rgb[:, rgb.shape[1] // 2])
    return Strip(index, 0.0, 0.0, km.palette_, km.counts_, column)


def cpu() -> float:
    return time.process_time()


def timing(which: str, n: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per sample of conversion, quantizer (``which``: "before" or
    "after") and strip, over ``n`` frames 2 s apart of the benchmark film."""
    quantize = analyze_frame if which == "after" else full_label_strip
    src = open_source(film(5), mode="exact")
    size = analysis_size(*src.content_size)
    frames = frames_2s_apart(src, n)
    quantize(frames[0].to_rgb(size))  # load the kernels
    out: dict[str, list[tuple[float, float]]] = {
        k: [] for k in ("conversion", "quantizer", "strip")
    }
    for i, f in enumerate(frames):
        w, c = time.perf_counter(), cpu()
        rgb = f.to_rgb(size)
        out["conversion"].append((time.perf_counter() - w, cpu() - c))
        w, c = time.perf_counter(), cpu()
        s = quantize(rgb, index=i)
        out["quantizer"].append((time.perf_counter() - w, cpu() - c))
        w, c = time.perf_counter(), cpu()
        make_strip(s.palette, s.counts, 400)
        out["strip"].append((time.perf_counter() - w, cpu() - c))
    src.close()
    return out


def timing_rounds(n: int, rounds: int) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Before and after in separate processes, alternating (Numba's parallel labelling
    leaves its worker threads spinning for a while after each call, which would slow
    whatever ran next in the same process)."""
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in range(rounds):
        for which in ("before", "after") if r % 2 == 0 else ("after", "before"):
            proc = subprocess.run(
                [sys.executable, __file__, "--time-one", which, "--frames", str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            for name, v in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                got.setdefault((which, name), []).extend(tuple(x) for x in v)
    return got


def bench_frames(n_per_clip: int, native: bool) -> list[tuple[str, np.ndarray]]:
    """benchmarks/kmeans.py's frames, at native size or at the size a render analyses."""
    out = []
    for path in media_files():
        with av.open(str(path)) as c:
            decoded = list(c.decode(video=0))
        for i in np.linspace(0, len(decoded) - 1, n_per_clip + 2)[1:-1].astype(int):
            f = decoded[i]
            if native:
                img = f.to_ndarray(format="rgb24")
            else:
                w, h = analysis_size(f.width, f.height)
                img = f.reformat(w, h, "rgb24", interpolation="AREA").to_ndarray()
            out.append((f"{path.stem}#{i}", np.ascontiguousarray(img)))
    return out


def label_all(X: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest palette colour of every pixel, and the MSE."""
    labels = np.empty(len(X), np.int32)
    dist = np.empty(len(X), np.float32)
    K.assign_serial(X, np.ascontiguousarray(palette, np.float32), labels, dist)
    return labels, float(dist.astype(np.float64).sum()) / len(X)


def quality(seeds: int) -> None:
    for native in (False, True):
        rows = []
        ratios_all: list[float] = []
        l1_all: list[float] = []
        band_all: list[int] = []
        for name, img in bench_frames(3, native):
            X = img.reshape(-1, 3)
            ratios, l1s, bands = [], [], []
            for s in range(seeds):
                before = full_label_strip(img, index=s)
                after = analyze_frame(img, index=s)
                # Both palettes as drawn (uint8), every pixel to its nearest colour.
                _, mse_before = label_all(X, before.palette)
                labels, mse_after = label_all(X, after.palette)
                ratios.append(mse_after / mse_before)
                full = np.bincount(labels, minlength=len(after.palette))
                l1s.append(
                    float(np.abs(full / full.sum() - after.counts / after.counts.sum()).sum())
                )
                idx = order_palette(after.palette, after.counts)
                bands.append(
                    int(np.abs(apportion(full[idx], 400) - apportion(after.counts[idx], 400)).max())
                )
            rows.append(
                [
                    name,
                    f"{img.shape[1]}x{img.shape[0]}",
                    geomean(ratios),
                    min(ratios),
                    max(ratios),
                    statistics.mean(l1s),
                    max(bands),
                ]
            )
            ratios_all += ratios
            l1_all += l1s
            band_all += bands
        print()
        print(
            table(
                [
                    "frame",
                    "size",
                    "MSE after/before (geo. mean)",
                    "min",
                    "max",
                    "share L1",
                    "max band diff (rows of 400)",
                ],
                rows,
            )
        )
        label = "native size" if native else "analysis size"
        print(f"{label}: {len(ratios_all)} fits")
        print("  " + verdict(f"MSE after / before, {label}", geomean(ratios_all), 1.02, False))
        print(
            f"  shares vs every pixel labelled: L1 mean {statistics.mean(l1_all):.4f}, "
            f"max {max(l1_all):.4f}; 400-row bands off by {np.bincount(band_all).tolist()} "
            "(count of fits whose worst band is off by 0, 1, 2, ... rows)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24, help="film frames timed (24)")
    ap.add_argument("--rounds", type=int, default=4, help="timing processes of each (4)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds per quality frame (8)")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--time-one", choices=["before", "after"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.time_one:
        print(json.dumps(timing(args.time_one, args.frames)))
        return

    t = timing_rounds(args.frames, args.rounds)
    rows = []
    total = {}
    for which in ("before", "after"):
        wall = cpu_ms = 0.0
        for name in ("conversion", "quantizer", "strip"):
            v = t[which, name]
            w = 1000 * statistics.median(x[0] for x in v)
            c = 1000 * statistics.median(x[1] for x in v)
            rows.append([f"{name} ({which})", w, c])
            wall += w
            cpu_ms += c
        rows.append([f"total ({which})", wall, cpu_ms])
        total[which] = cpu_ms
    print(table(["per sample, median ms", "wall", "CPU"], rows))
    print(verdict("CPU ms per sample", total["after"], 5.0, False))
    if not args.no_quality:
        quality(args.seeds)


if __name__ == "__main__":
    main()
