"""``streamspec quantize``: one image reduced to K colours."""

from __future__ import annotations

import argparse

from streamspec._cli.flags import add_options
from streamspec._cli.terminal import shown
from streamspec.core.errors import ExitStatus

__all__ = ["add_quantize"]


def add_quantize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantize",
        help="reduce an image to K colours (palette PNG)",
        description="Replace every pixel of IMAGE by the nearest of K colours found by "
        "k-means, write a PNG (a palette PNG for K <= 256; or JPEG, WebP, TIFF by OUT's "
        "extension) and print the error and size. Never overwrites IMAGE.",
    )
    p.add_argument("image", metavar="IMAGE", help="input image (PNG, JPEG, TIFF, WebP, ...)")
    from streamspec.core.options import QuantizerOptions

    add_options(p, QuantizerOptions, command="quantize", only=("k",))
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output image: .png, .jpg/.jpeg, .webp or .tif/.tiff (default IMAGE-kK.png)",
    )
    p.add_argument(
        "--compare",
        nargs="?",
        const="",
        metavar="PATH",
        help="also write original | quantized side by side (default OUT with -compare "
        "before the extension)",
    )
    add_options(p, QuantizerOptions, command="quantize", only=("seed",))
    p.set_defaults(run=_run_quantize)


def _run_quantize(args: argparse.Namespace) -> int:
    from pathlib import Path

    from streamspec.core.options import QuantizerOptions, check_option
    from streamspec.outputs.quantize import quantize_file

    for name in ("k", "seed"):  # this command takes them without the rest of the group
        setattr(args, name, check_option(QuantizerOptions, name, getattr(args, name), "quantize"))

    src = Path(args.image)
    out = Path(args.output) if args.output else src.with_name(f"{src.stem}-k{args.k}.png")
    compare = None
    if args.compare is not None:
        compare = (
            Path(args.compare) if args.compare else out.with_name(f"{out.stem}-compare{out.suffix}")
        )
    result = quantize_file(src, args.k, out, compare=compare, random_state=args.seed)
    print(shown(result.summary(), lines=True))
    return ExitStatus.OK
