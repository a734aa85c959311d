"""The ``streamspec`` command line: a thin shell over the library API.

Every user error ends as one line on stderr and exit status 2; an interrupted command
exits 130. Tracebacks are for bugs only (and ``STREAMSPEC_DEBUG=1`` shows them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__
from .errors import StreamspecError

__all__ = ["main"]

PROG = "streamspec"


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- quantize --------------------------------------------------------------------------
def _add_quantize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantize",
        help="reduce an image to K colours (palette PNG)",
        description="Replace every pixel of IMAGE by the nearest of K colours found by "
        "k-means, write a PNG (a palette PNG for K <= 256) and print the error and size.",
    )
    p.add_argument("image", metavar="IMAGE", help="input image (PNG, JPEG, TIFF, WebP, ...)")
    p.add_argument(
        "-k",
        "--colors",
        dest="k",
        type=_positive_int,
        default=16,
        help="number of colours, 1..65536 (default 16)",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="output PNG (default IMAGE-kK.png)")
    p.add_argument(
        "--compare",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write original | quantized side by side (default OUT with -compare before .png)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(run=_run_quantize)


def _run_quantize(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .quantize import quantize_file

    src = Path(args.image)
    out = Path(args.output) if args.output else src.with_name(f"{src.stem}-k{args.k}.png")
    compare = None
    if args.compare is not None:
        compare = Path(args.compare) if args.compare else out.with_name(f"{out.stem}-compare.png")
    result = quantize_file(src, args.k, out, compare=compare, random_state=args.seed)
    print(result.summary())
    return 0


_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_quantize]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to document the commands)."""
    parser = _Parser(
        prog=PROG,
        description="A film's colours as a colour spectrum.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except StreamspecError as exc:
        if os.environ.get("STREAMSPEC_DEBUG"):
            raise
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG} {args.command}: error: out of memory", file=sys.stderr)
        return 2
