"""Quantizer speed and quality against scikit-learn, measured in the same run.

For frames of the shared real footage, at their native size and upscaled to 1920x1080,
each method clusters the frame into 50 colours, labels every pixel and builds the strip:

  (a) the classic recipe: MiniBatchKMeans(n_clusters=50, random_state=0).fit(all pixels)
      + predict(all pixels);
  (b) KMeans(50, n_init=1) fitted on a 20k-pixel subsample + predict(all pixels);
  (c) streamspec's ColorKMeans(50, random_state=0).

The strip is built the same (fast) way for all three from the labels, so the ratios
measure clustering; the classic recipe's per-pixel Python sort would add seconds more to (a).
MSE is over all pixels of the full-size frame, in 0-255 units, to the float centres.

Run: python benchmarks/kmeans.py [--frames 3] [--no-1080p] [--skip-a]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import av
from _common import geomean, media_files, table, timed, verdict

from streamspec import ColorKMeans
from streamspec.analysis import _kernels as K
from streamspec.analysis.strip import strip_from_palette

try:
    from sklearn.cluster import KMeans, MiniBatchKMeans
except ImportError:  # pragma: no cover
    sys.exit("scikit-learn is needed for this benchmark: pip install -e '.[bench]'")

HEIGHT = 400


def frames(n_per_clip: int) -> list[tuple[str, np.ndarray]]:
    out = []
    for path in media_files():
        with av.open(str(path)) as c:
            decoded = [f for f in c.decode(video=0)]
        for i in np.linspace(0, len(decoded) - 1, n_per_clip + 2)[1:-1].astype(int):
            out.append((f"{path.stem}#{i}", decoded[i]))
    return out


def mse(X: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> float:
    return K.sum_sq_error(X, np.ascontiguousarray(centres, np.float32), labels) / len(X)


def strip(centres: np.ndarray, labels: np.ndarray) -> np.ndarray:
    pal = np.clip(np.rint(centres), 0, 255).astype(np.uint8)
    counts = np.bincount(labels, minlength=len(pal))
    return strip_from_palette(pal, counts, HEIGHT)


def run_a(X: np.ndarray) -> float:
    m = MiniBatchKMeans(n_clusters=50, random_state=0).fit(X)
    labels = m.predict(X)
    strip(m.cluster_centers_, labels)
    return mse(X, m.cluster_centers_, labels.astype(np.int32))


def run_b(X: np.ndarray) -> float:
    rng = np.random.default_rng(0)
    sub = X[rng.choice(len(X), min(20000, len(X)), replace=False)].astype(np.float64)
    m = KMeans(50, n_init=1, random_state=0).fit(sub)
    labels = m.predict(X.astype(np.float64))
    strip(m.cluster_centers_, labels)
    return mse(X, m.cluster_centers_, labels.astype(np.int32))


def run_c(X: np.ndarray) -> float:
    km = ColorKMeans(50, random_state=0).fit(X)
    strip_from_palette(km.palette_, km.counts_, HEIGHT)
    return km.inertia_ / len(X)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3, help="frames per clip (default 3)")
    ap.add_argument("--no-1080p", action="store_true", help="skip the upscaled frames")
    ap.add_argument("--skip-a", action="store_true", help="skip the (slow) classic recipe")
    args = ap.parse_args()

    run_c(np.zeros((64, 3), np.uint8) + np.arange(64, dtype=np.uint8)[:, None])  # compile
    rows = []
    by_size: dict[str, list[tuple[float, float, float, float, float, float]]] = {}
    for name, frame in frames(args.frames):
        sizes = [("native", frame.to_ndarray(format="rgb24"))]
        if not args.no_1080p:
            sizes.append(("1080p", frame.reformat(1920, 1080, "rgb24").to_ndarray()))
        for size, img in sizes:
            X = np.ascontiguousarray(img.reshape(-1, 3))
            ta, ma = timed(lambda X=X: run_a(X)) if not args.skip_a else (float("nan"),) * 2
            tb, mb = timed(lambda X=X: run_b(X), repeat=3)
            tc, mc = timed(lambda X=X: run_c(X), repeat=7)
            by_size.setdefault(size, []).append((ta, tb, tc, ma, mb, mc))
            rows.append(
                [
                    name,
                    f"{img.shape[1]}x{img.shape[0]}",
                    ta,
                    tb,
                    tc * 1000,
                    ta / tc,
                    tb / tc,
                    mc / ma,
                    mc / mb,
                ]
            )
            print(
                f"{name:18s} {size:6s} a {ta:7.2f}s  b {tb:6.3f}s  c {tc * 1000:6.1f}ms  "
                f"MSE a {ma:7.2f} b {mb:7.2f} c {mc:7.2f}",
                flush=True,
            )

    print()
    print(
        table(
            [
                "frame",
                "size",
                "(a) s",
                "(b) s",
                "ours ms",
                "a/ours",
                "b/ours",
                "MSE ours/a",
                "MSE ours/b",
            ],
            rows,
        )
    )
    print()
    targets = {"1080p": 300.0, "native": 30.0}
    for size, res in by_size.items():
        ta, tb, tc, ma, mb, mc = (np.array(v) for v in zip(*res, strict=True))
        print(f"{size}: geometric means over {len(res)} frames")
        if not args.skip_a:
            print("  " + verdict("speed vs (a)", geomean(ta / tc), targets[size], True))
            print("  " + verdict("MSE vs (a)", geomean(mc / ma), 1.02, False))
            print(f"        worst frame MSE vs (a): {np.max(mc / ma):.3f}")
        print("  " + verdict("speed vs (b)", geomean(tb / tc), 3.0, True))
        print("  " + verdict("MSE vs (b)", geomean(mc / mb), 1.03, False))
        print(f"        worst frame MSE vs (b): {np.max(mc / mb):.3f}")


if __name__ == "__main__":
    main()
