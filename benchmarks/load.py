"""Reading a spectrum's JSON: the typed decoder (``Spectrum.load``: msgspec records,
checks over all strips at once) against the reader it replaced (``json.loads``, the
field-by-field checker, one strip at a time), measured in the same run on the same
800,000-strip file (a sample every second of nine days, or a year of batch output).

  target: new / old <= 1 (at least as fast); both must give the same strips

Run: python benchmarks/load.py [--strips 800000] [--colours 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import table, timed, verdict

from streamspec._io import load_json
from streamspec.limits import MAX_JSON_BYTES
from streamspec.spectrum import Spectrum, Strip
from streamspec.spectrum_json import spectrum_to_json


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strips", type=int, default=800_000)
    ap.add_argument("--colours", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "film.json"
        write_file(path, args.strips, args.colours)
        size = path.stat().st_size
        t_old, old = timed(lambda: old_reader(path), repeat=args.repeat)
        t_new, new = timed(lambda: Spectrum.load(path), repeat=args.repeat)
        agree = same(old, new)
    ratio = t_new / t_old
    print(f"{args.strips:,} strips of {args.colours} colours, {size / 2**20:.0f} MiB of JSON")
    print(
        table(
            ["reader", "seconds", "strips/s"],
            [
                ["json + checker (before)", t_old, args.strips / t_old],
                ["typed decoder (Spectrum.load)", t_new, args.strips / t_new],
            ],
        )
    )
    print(f"ratio new/old: {ratio:.3f}  (the same strips: {'yes' if agree else 'NO'})")
    print(verdict("new/old time", ratio, 1.0, higher_is_better=False))
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
