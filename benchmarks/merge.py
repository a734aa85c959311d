"""The colour merge: the compiled kernel against the plain NumPy reference.

Three workloads, each timed in this run for both:

1. a segment's colours: 1,500 strips of 8 random colours, pooled on the 16-level grid
   ``segments._dominant`` uses (~3,900 cells, nearly all their own group -- the worst
   case for a merge that compares every leader with every colour);
2. a shot table: 40 segments of 1,500 random strips each (``_dominant`` end to end);
3. a film's palette for a corpus: 7,200 strips x 8 colours of a film whose shots hold
   a few colours each (many merges).

  target: the kernel merge at least 5x the NumPy reference on workload 1

Run: PYTHONPATH=. python benchmarks/merge.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import table, timed, verdict

from streamspec.analysis import segments
from streamspec.analysis.colour import merge_colours, merge_leaders
from streamspec.outputs.spectrum import Strip

TARGET = 5.0


def _reference_merge(pal: np.ndarray, w: np.ndarray) -> None:
    merge_leaders(pal, w)  # the leaders are what the kernel replaces; the rest is shared


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    merge_colours(np.zeros((2, 3), np.uint8), [1.0, 1.0])  # compile (or load the cache)

    cells = rng.integers(0, 256, (3900, 3), dtype=np.uint8)
    cw = rng.random(len(cells))
    t_ref, _ = timed(lambda: _reference_merge(cells, cw), args.repeat)
    t_new, _ = timed(lambda: merge_colours(cells, cw), args.repeat)

    shots = [
        [
            Strip(
                i,
                float(i),
                float(i),
                rng.integers(0, 256, (8, 3), dtype=np.uint8),
                rng.integers(1, 1000, 8),
            )
            for i in range(1500)
        ]
        for _ in range(40)
    ]
    t_table, _ = timed(lambda: [segments._dominant(s) for s in shots], 1)

    centres = rng.integers(0, 256, (300, 3))
    film = np.clip(
        centres[rng.integers(0, 300, 7200 * 8)] + rng.integers(-6, 7, (7200 * 8, 3)), 0, 255
    ).astype(np.uint8)
    fw = rng.random(len(film))
    t_film_ref, _ = timed(lambda: _reference_merge(film, fw), 1)
    t_film, _ = timed(lambda: merge_colours(film, fw, 0.05, top=10), args.repeat)

    print(
        table(
            ["workload", "NumPy reference", "kernel", "ratio"],
            [
                [
                    "segment, 3,900 random cells",
                    f"{t_ref * 1e3:.1f} ms",
                    f"{t_new * 1e3:.1f} ms",
                    f"{t_ref / t_new:.1f}x",
                ],
                [
                    "film palette, 57,600 colours",
                    f"{t_film_ref * 1e3:.0f} ms",
                    f"{t_film * 1e3:.1f} ms",
                    f"{t_film_ref / t_film:.1f}x",
                ],
                ["shot table, 40 x 1,500 strips", "", f"{t_table:.2f} s", ""],
            ],
        )
    )
    print(verdict("kernel / NumPy reference (segment)", t_ref / t_new, TARGET, True))


if __name__ == "__main__":
    main()
