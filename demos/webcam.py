"""The live view on a webcam: the spectrum of your room, building as you watch.

Samples the camera every --every seconds and saves the whole session's spectrum (PNG and
JSON) when you quit -- Q, Esc, closing the window or Ctrl-C all save.

    python demos/webcam.py [--device 0] [--every 1.0] [--out DIR]
    python demos/webcam.py --source "lavfi:testsrc2=size=640x360:rate=30,realtime"  # no camera
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from streamspec.core.errors import StreamspecError
from streamspec.live.app import play


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="0", help="webcam number or device (0)")
    ap.add_argument("--source", help="any other source spec instead of the webcam")
    ap.add_argument("--every", type=float, default=1.0, help="seconds between samples (1)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "webcam")
    ap.add_argument("--layout", choices=["below", "right"], default="right")
    ap.add_argument("--seconds", type=float, help="stop by itself after this long")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    source = args.source or f"webcam:{args.device}"
    output = args.out / f"webcam-{time.strftime('%Y%m%d-%H%M%S')}.png"
    print(f"saving to {args.out}/ when you quit")
    try:
        result = play(
            source,
            every=args.every,
            layout=args.layout,
            output=output,
            end=args.seconds,
            exit_at_end=args.seconds is not None,
        )
    except StreamspecError as exc:
        print(f"webcam demo: {exc}", file=sys.stderr)
        return 2
    return 130 if result.reason in ("interrupted", "terminated") else 0


if __name__ == "__main__":
    sys.exit(main())
