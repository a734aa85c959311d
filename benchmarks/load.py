"""Reading a spectrum's JSON: the typed decoder (``Spectrum.load``: msgspec records,
checks over all strips at once) against the reader it replaced (``json.loads``, the
field-by-field checker, one strip at a time), measured in the same run on the same
800,000-strip file (a sample every second of nine days, or a year of batch output).

  target: new / old <= 1 (at least as fast), in wall time and in CPU time (the fairer
  one on a busy machine); both must give the same strips. The readers run in
  alternating rounds, and each time is the median of its rounds.

Run: python benchmarks/load.py [--strips 800000] [--colours 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import table, verdict

from streamspec.core._io import load_json
from streamspec.core.limits import MAX_JSON_BYTES
from streamspec.outputs.spectrum import Spectrum, Strip
from streamspec.outputs.spectrum_json import spectrum_to_json


def write_file(path: Path, n: int, k: int) -> None:
    """A spectrum file of ``n`` strips of ``k`` colours, as ``Spectrum.save`` writes
    its data (the picture of 800,000 strips is past every image format's width)."""
    rng = np.random.default_rng(0)
    spec = Spectrum(
        settings={"start": 0.0, "step": 1.0, "height": 400, "order": "hls", "k": k},
        source={"name": "nine-days.mp4", "kind": "file", "duration": float(n)},
        slots=n,
    )
    palettes = rng.integers(0, 256, (n, k, 3), dtype=np.uint8)
    counts = rng.integers(1, 5000, (n, k)).astype(np.int64)
    for i in range(n):
        spec.add(Strip(i, float(i), i + 0.02, palettes[i], counts[i]))
    data = spectrum_to_json(spec)
    path.write_text(json.dumps(data, separators=(",", ":"), allow_nan=False))


def old_reader(path: Path) -> Spectrum:
    """The reader before the typed decoder: generic JSON, then every field checked
    and every strip built one at a time."""
    return Spectrum.from_json(load_json(path, MAX_JSON_BYTES, "a spectrum JSON file"))


def same(a: Spectrum, b: Spectrum) -> bool:
    if a.settings != b.settings or a.source != b.source or len(a) != len(b):
        return False
    return all(
        s.index == t.index
        and s.target == t.target
        and s.time == t.time
        and np.array_equal(s.palette, t.palette)
        and np.array_equal(s.counts, t.counts)
        and s.provisional == t.provisional
        for s, t in zip(a.strips, b.strips, strict=True)
    )


def _round(fn) -> tuple[float, float, Spectrum]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strips", type=int, default=800_000)
    ap.add_argument("--colours", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "film.json"
        write_file(path, args.strips, args.colours)
        size = path.stat().st_size
        for _ in range(args.repeat):
            for name, fn in (("old", old_reader), ("new", Spectrum.load)):
                wall, cpu, result = _round(lambda fn=fn: fn(path))
                times[name].append((wall, cpu))
                if name == "old":
                    old = result
                else:
                    new = result
                del result
        agree = same(old, new)
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"{args.strips:,} strips of {args.colours} colours, {size / 2**20:.0f} MiB of JSON")
    print(
        table(
            ["reader", "wall s", "CPU s", "strips/s (wall)"],
            [
                ["json + checker (before)", wall["old"], cpu["old"], args.strips / wall["old"]],
                ["typed decoder", wall["new"], cpu["new"], args.strips / wall["new"]],
            ],
        )
    )
    print(
        f"ratio new/old: wall {wall['new'] / wall['old']:.3f}, CPU {cpu['new'] / cpu['old']:.3f}"
        f"  (the same strips: {'yes' if agree else 'NO'})"
    )
    print(verdict("new/old wall time", wall["new"] / wall["old"], 1.0, higher_is_better=False))
    print(verdict("new/old CPU time", cpu["new"] / cpu["old"], 1.0, higher_is_better=False))
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
