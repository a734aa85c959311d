"""Search by palette over a synthetic library of films: index against brute force.

A library of --films films x --strips strips (default 1,000 x 3,000: a 100-minute film
at one sample per 2 s) is generated from --scenes "scene palettes" (8 colours each,
hues clustered the way graded films cluster them: a key hue, its complement, neutrals)
with per-strip noise in colour and share. In one process it times:

1. building the PaletteIndex (and writing it as a file, then opening it again);
2. --queries queries with the index, as full palettes (a strip of the library, jittered)
   and as partial ones ("teal 25 %, orange 25 %": the rest any colour);
3. the same queries by brute force (exact EMD to every strip, both cores) -- on a
   --brute-sample of the library when given, scaled to the whole, else on all of it;

and reports recall@10 of the index against brute force (on the same rows) and the ratio.

  target: a query answers in about a second on 2 cores (<= 1.5 s median)

Run: PYTHONPATH=. python benchmarks/search.py [--films 1000] [--strips 3000] [--queries 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import table, timed, verdict

from streamspec.analysis.palettes import Palette, parse_palette
from streamspec.analysis.search import PaletteIndex, brute_force

TARGET_SECONDS = 1.5
K = 8


def scene_palettes(rng: np.random.Generator, scenes: int) -> tuple[np.ndarray, np.ndarray]:
    """``scenes`` plausible graded palettes: OKLab ``(scenes, K, 3)`` and shares."""
    lab = np.empty((scenes, K, 3))
    for s in range(scenes):
        key = rng.uniform(0, 2 * np.pi)
        hues = np.where(rng.random(K) < 0.6, key, key + np.pi) + rng.normal(0, 0.4, K)
        chroma = rng.gamma(2.0, 0.03, K)
        chroma[rng.random(K) < 0.3] *= 0.2  # neutrals
        light = np.clip(rng.normal(rng.uniform(0.25, 0.75), 0.18, K), 0.05, 0.98)
        lab[s] = np.stack([light, chroma * np.cos(hues), chroma * np.sin(hues)], axis=1)
    shares = rng.dirichlet(np.full(K, 0.8), scenes)
    return lab, shares


def library(films: int, strips: int, scenes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Films as runs of scenes (5-60 strips each), each strip its scene's palette + noise."""
    rng = np.random.default_rng(seed)
    slab, sshares = scene_palettes(rng, scenes)
    n = films * strips
    run = rng.integers(5, 60, n // 5 + 1)
    scene_of = np.repeat(rng.integers(0, scenes, len(run)), run)[:n]
    lab = np.empty((n, K, 3), dtype=np.float32)
    shares = np.empty((n, K), dtype=np.float32)
    for s in range(0, n, 1_000_000):  # in blocks: bounded temporary memory
        idx = scene_of[s : s + 1_000_000]
        lab[s : s + len(idx)] = slab[idx] + rng.normal(0, 0.012, (len(idx), K, 3))
        w = sshares[idx] * rng.lognormal(0, 0.25, (len(idx), K))
        shares[s : s + len(idx)] = w / w.sum(axis=1, keepdims=True)
    return lab, shares


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--films", type=int, default=1000)
    ap.add_argument("--strips", type=int, default=3000)
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--queries", type=int, default=6)
    ap.add_argument("--brute-sample", type=int, default=0,
                    help="brute force on this many strips (0: the whole library)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t = time.perf_counter()
    lab, shares = library(args.films, args.strips, args.scenes, args.seed)
    n = len(lab)
    print(f"library: {args.films} films x {args.strips} strips = {n:,} palettes of {K} "
          f"colours, made in {time.perf_counter() - t:.1f} s; {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "palettes.index.npz"
        t_build, _ = timed(lambda: PaletteIndex.open(path, lab, shares))
        t_open, (index, rebuilt) = timed(lambda: PaletteIndex.open(path, lab, shares))
        assert not rebuilt
        size = path.stat().st_size

    rng = np.random.default_rng(args.seed + 1)
    queries: list[tuple[str, Palette]] = []
    for q in range(args.queries):
        if q % 2 == 0:
            row = int(rng.integers(n))
            ql = lab[row].astype(np.float64) + rng.normal(0, 0.02, (K, 3))
            queries.append((f"strip {row} jittered", Palette(ql, shares[row] / shares[row].sum())))
        else:
            text = ["teal 25%, orange 25%", "#1b3a4b 40%, #e0a060 20%", "black 50%",
                    "dark red 30%"][(q // 2) % 4]  # fmt: skip
            queries.append((text, parse_palette(text)))
    # compile before timing
    PaletteIndex.build(lab[:5000], shares[:5000]).search(queries[0][1], lab[:5000],
                                                         shares[:5000])  # fmt: skip
    brute_force(queries[0][1], lab[:100], shares[:100])

    sample = n if not args.brute_sample else min(n, args.brute_sample)
    sub = slice(0, sample)
    sub_index = index if sample == n else PaletteIndex.build(lab[sub], shares[sub])
    rows = []
    t_index, t_brute, recalls = [], [], []
    for name, q in queries:
        ti, (_, di) = timed(lambda q=q: index.search(q, lab, shares, 10))
        # recall on the rows brute force saw
        tb, (rb, _) = timed(lambda q=q: brute_force(q, lab[sub], shares[sub], 10))
        _, (rs, _) = timed(lambda q=q: sub_index.search(q, lab[sub], shares[sub], 10))
        recall = len(set(rs.tolist()) & set(rb.tolist())) / 10
        tb_full = tb * n / sample
        t_index.append(ti)
        t_brute.append(tb_full)
        recalls.append(recall)
        rows.append([name, ti, tb_full, tb_full / ti, recall, float(di[0]), float(di[-1])])
    print(table(["query", "index s", "brute force s", "ratio", "recall@10", "d1", "d10"], rows))
    med = statistics.median(t_index)
    print(f"index: built and written in {t_build:.2f} s ({size / 1e6:.0f} MB), "
          f"opened in {t_open:.2f} s (fingerprint checked)")
    print(f"median query: index {med:.3f} s, brute force "
          f"{statistics.median(t_brute):.1f} s"
          f"{'' if sample == n else f' (measured on {sample:,} strips, scaled)'}; "
          f"ratio {statistics.median(t_brute) / med:.0f}x; "
          f"mean recall@10 {statistics.mean(recalls):.3f}")
    print(verdict("median query seconds", med, TARGET_SECONDS, higher_is_better=False))


if __name__ == "__main__":
    main()
