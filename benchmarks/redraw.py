"""Redraw speed: a 4,000-strip spectrum (about 2 h 13 min at one sample every 2 s) from
its JSON, against just parsing that JSON, in the same run.

  target: well under a second for the whole redraw (load, draw, annotate, save)

Run: python benchmarks/redraw.py [--strips 4000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import synthetic_spectrum, table, timed, verdict

from streamspec.cli import main as cli
from streamspec.outputs.spectrum import Spectrum


def synthetic(n: int) -> Spectrum:
    """The shared synthetic film (see _common), with centre columns."""
    return synthetic_spectrum(n, columns=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strips", type=int, default=4000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "film.png"
        synthetic(args.strips).save(src)
        data = src.with_suffix(".json")
        size = data.stat().st_size
        t_json, _ = timed(lambda: json.loads(data.read_text()), repeat=5)
        rows = []
        results = {}
        for name, extra in [
            ("plain", []),
            ("axis + chapters + segments", ["--axis", "--chapters", "auto", "--segments", "auto"]),
            ("order luma, mode average", ["--order", "luma", "--mode", "average"]),
        ]:
            out = Path(d) / "out.png"
            t, code = timed(
                lambda extra=extra, out=out: cli(["redraw", str(data), "-o", str(out), *extra]),
                repeat=5,
            )
            assert code == 0
            results[name] = t
            rows.append([name, f"{t:.3f}", f"{t / t_json:.1f}"])
    print()
    print(f"{args.strips} strips, JSON {size / 1e6:.1f} MB, json.loads alone {t_json:.3f} s")
    print(table(["redraw", "seconds", "x json.loads"], rows))
    print()
    for name, t in results.items():
        print(verdict(f"redraw {name}, seconds", t, 1.0, False))


if __name__ == "__main__":
    main()
