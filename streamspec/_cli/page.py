"""``streamspec page`` and ``streamspec compare``: saved spectra shown together, as a
web page or one stacked image."""

from __future__ import annotations

import argparse
import sys

from streamspec._cli.flags import add_options, int_arg
from streamspec._cli.terminal import PROG, shown
from streamspec.core.errors import ExitStatus

__all__ = ["add_compare", "add_page"]


def add_page(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "page",
        help="write a spectrum (or several, compared) as one self-contained web page",
        description="Write one HTML file that shows the spectrum with its time axis, chapters "
        "and segments: hover for a strip's time and colours, click to copy the time, zoom "
        "and pan. Everything is inside the file; it works offline. Several spectra are "
        "stacked on one time axis.",
    )
    p.add_argument(
        "data", nargs="+", metavar="SPECTRUM.json", help="spectrum data (.json, or its image)"
    )
    p.add_argument("-o", "--output", metavar="PAGE.html", required=True, help="the page to write")
    p.add_argument(
        "--video",
        metavar="PATH_OR_URL",
        help="add a player: clicking the spectrum seeks it, a playhead follows it",
    )
    p.add_argument("--title", help="the page's title (default: the film's name)")
    p.set_defaults(run=_run_page)


def _run_page(args: argparse.Namespace) -> int:
    import warnings

    from streamspec.outputs.page import PageWarning, write_page

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PageWarning)
        out = write_page(args.data, args.output, video=args.video, title=args.title)
    for w in caught:
        if issubclass(w.category, PageWarning):
            print(f"{PROG} page: warning: {shown(w.message)}", file=sys.stderr)
        else:  # pragma: no cover - not ours: let it show as it would have
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    size = out.stat().st_size
    n = len(args.data)
    print(f"wrote {shown(out)}: {n} spectr{'um' if n == 1 else 'a'}, {size / 1e6:.1f} MB")
    return ExitStatus.OK


# -- compare ---------------------------------------------------------------------------
def add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="draw several spectra stacked on one time axis",
        description="Stack the spectra of several films (their .json data), each labelled "
        "with its title, on one time axis: the same pixels per second for all, or each "
        "stretched to 0-100 % of its running time with --normalize. --diff (two films) "
        "adds the palette distance between them over time and prints where they differ "
        "most.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="SPECTRUM.json", help="spectra (.json, or their images)"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        required=True,
        help="the comparison: .png, .jpg, .webp or .tif",
    )
    from streamspec.core.options import LookOptions

    add_options(p, LookOptions, command="compare", only=("height",))
    p.add_argument(
        "--width",
        type=int_arg,
        default=None,
        help="image width in px (default: one column per strip of the densest film, 800 to 4,000)",
    )
    p.add_argument(
        "--normalize",
        action="store_true",
        help="stretch each film to the full width (0-100 %% of its running time)",
    )
    add_options(p, LookOptions, command="compare", only=("segments", "chapters"))
    p.add_argument(
        "--diff",
        action="store_true",
        help="two films: add the palette distance curve and print its mean, max and peaks",
    )
    # Not given: each film's own order and mode, as its data says.
    add_options(p, LookOptions, command="compare", only=("order", "mode"))
    p.set_defaults(run=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from streamspec.core.options import LookOptions, OptionError, check_option
    from streamspec.core.timefmt import clock
    from streamspec.outputs.compare import compare_files

    if args.chapters not in (None, "auto", "none"):
        raise OptionError(
            "chapters", f"draws each film's own chapters: auto or none, got {args.chapters!r}"
        )
    cmp = compare_files(
        args.inputs,
        args.output,
        height=check_option(LookOptions, "height", args.height, "compare"),
        width=args.width,
        normalize=args.normalize,
        segments=args.segments == "auto",
        chapters=args.chapters == "auto",
        diff=args.diff,
        order=args.order,
        mode=args.mode,
    )
    w, h = cmp.image.size
    print(f"wrote {shown(args.output)}: {len(cmp.titles)} films, {w}x{h} px")
    if cmp.diff is not None:
        d = cmp.diff
        if d.mean != d.mean:  # NaN: no time where both films have a strip
            print("palette distance: the two films have no strips at the same times")
        else:
            peaks = ", ".join(f"{clock(t, 1)} ({v:.3f})" for t, v in d.peaks(3)) or "none"
            print(
                f"palette distance (OKLab): mean {d.mean:.3f}, max {d.max:.3f}; "
                f"largest differences at {peaks}"
            )
    return ExitStatus.OK
