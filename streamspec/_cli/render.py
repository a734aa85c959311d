"""``streamspec render`` and ``streamspec redraw``: a film drawn as a spectrum (in one
process, or in time ranges on several), and a saved spectrum drawn again."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from streamspec._cli.flags import (
    add_look_args,
    add_options,
    add_parallel_args,
    add_source_args,
    collect,
    render_options,
    source_spec,
)
from streamspec._cli.terminal import PROG, Progress, say_sampling, short, shown
from streamspec.core.errors import ExitStatus, StreamspecError

if TYPE_CHECKING:
    from pathlib import Path

    from streamspec.core import options
    from streamspec.outputs.spectrum import Spectrum

__all__ = ["add_redraw", "add_render", "local_decoder_threads"]


def add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render a film to a colour spectrum PNG (+ JSON data)",
        description="Sample a frame every few seconds, quantize it to K colours and draw the "
        "hue-sorted strips side by side. Without VIDEO, renders the built-in demo film.",
    )
    add_source_args(p, "render")
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        help="output image, .png, .jpg, .webp or .tif by its extension (default "
        "VIDEO-spectrum.png, never overwriting); the data goes beside it as .json",
    )
    from streamspec.core.options import QuantizerOptions, SamplingOptions, SourceOptions

    when = p.add_mutually_exclusive_group()
    add_options(when, SamplingOptions, command="render", only=("every", "strips"))
    add_options(p, SamplingOptions, command="render", only=("start", "end"))
    add_options(p, QuantizerOptions, command="render")
    add_options(p, SourceOptions, command="render", only=("seek", "crop", "tonemap"))
    add_look_args(p, "render")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="PAGE.html",
        help="also write the interactive page (streamspec page) beside the image "
        "(default IMAGE.html)",
    )
    p.add_argument(
        "--preview",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="two passes: a quick keyframes pass writes a provisional picture (and data) "
        "first, replaced when the --seek pass ends; Ctrl-C in between keeps a complete "
        "picture",
    )
    add_parallel_args(p, what="time ranges of the film", default="1")
    p.set_defaults(run=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from streamspec.core._io import check_format_size, output_lock
    from streamspec.core.limits import check_jobs
    from streamspec.pipeline.rendering import Renderer, check_spectrum_output, default_output

    spec = source_spec(args)
    options = render_options(args)
    if args.jobs is not None:
        check_jobs(args.jobs, local=args.dask in (None, "local"))
    out = Path(args.output or default_output(spec))
    args.html = _page_path(args.html, out)
    # Before anything is decoded: no output (image, data, page) replaces an input (the
    # video, the chapters file), and no other render writes the same output meanwhile.
    out = check_spectrum_output(
        spec,
        out,
        chapters=options.look.chapters,
        also=[("page", args.html, "--html")] if args.html else (),
    )
    args.hold.enter_context(output_lock(out))
    t0 = time.perf_counter()
    parallel = (args.jobs or 1) > 1 or args.dask is not None
    if args.preview and parallel:
        raise StreamspecError("--preview renders in one process; leave out --jobs and --dask")
    if parallel:
        return _render_parallel(args, spec, options, out, t0)
    renderer = Renderer(spec, options)
    if renderer.total is not None:  # a picture the format cannot hold: say so now
        try:
            check_format_size((renderer.total * renderer.strip_width, renderer.height), out)
        except BaseException:
            renderer.close()
            raise
    if not args.quiet:
        say_sampling("render", renderer.sampling_note)
    info = renderer.source.info
    show = False if args.quiet else args.progress  # None: shown on a terminal
    bar = Progress(total=renderer.total, unit="strip", desc=short(info.name), show=show)

    def saved_preview(draft: Spectrum) -> None:
        from streamspec.pipeline._signals import save_safely

        png, js = save_safely(draft, out)
        bar.clear()
        print(
            f"preview: wrote {shown(png)} and {shown(js.name)}: {len(draft)} provisional "
            "strips (keyframes) "
            f"in {time.perf_counter() - t0:.1f} s; now the {renderer.seek} pass",
            flush=True,
        )
        bar.reset()

    try:
        if args.preview:
            spectrum = renderer.run_with_preview(
                saved_preview,
                on_strip=lambda _: bar.update(1),
                on_provisional=lambda _: bar.update(1),
            )
        else:
            spectrum = renderer.run(on_strip=lambda _: bar.update(1))
    except KeyboardInterrupt:
        print(f"{PROG} render: interrupted before the first strip; nothing saved", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    finally:
        bar.close()
    return _save_and_report(spectrum, out, info.name, t0, renderer.interrupted, html=args.html)


def _page_path(html: str | None, out: Path) -> Path | None:
    """render --html: the page's path (default: beside the image), checked before any
    work like the image's (its collisions with the inputs and the other outputs are
    checked with theirs, by :func:`~streamspec.pipeline.rendering.check_spectrum_output`)."""
    if html is None:
        return None
    from pathlib import Path

    from streamspec.core._io import check_writable
    from streamspec.core.errors import OutputError
    from streamspec.outputs.page import PAGE_SUFFIXES

    page = Path(html) if html else out.with_suffix(".html")
    if page.suffix.lower() not in PAGE_SUFFIXES:
        raise OutputError(f"--html {str(page)!r}: a page is written as .html")
    return check_writable(page)


def _save_and_report(
    spectrum: Spectrum,
    out: Path,
    name: str,
    t0: float,
    interrupted: bool,
    how: str = "",
    html: Path | None = None,
) -> int:
    """Save a rendered spectrum (signals held off), print its warnings and one summary
    line; the exit status (130 when the render was interrupted)."""
    import time

    from streamspec.pipeline import _signals

    png, js = _signals.save_safely(spectrum, out)
    if html is not None:
        from streamspec.outputs.page import write_page

        with _signals.saving():
            write_page(js, html)  # the page `streamspec page` makes of the saved data
        print(f"wrote {shown(html)}")
    for w in spectrum.warnings:
        print(f"{PROG} render: warning: {shown(w)}", file=sys.stderr)
    took = time.perf_counter() - t0
    state = "interrupted; saved the partial spectrum" if interrupted else "wrote"
    print(
        f"{state} {shown(png)} and {shown(js.name)}: {len(spectrum)} strips of {short(name)} "
        f"in {took:.1f} s{how}"
    )
    # A stop asked for while it was saved: the work is whole, but the run was interrupted.
    return ExitStatus.INTERRUPTED if interrupted or _signals.requested() else ExitStatus.OK


def local_decoder_threads(jobs: int | None, dask: str | None) -> int | None:
    """Each render's decoder threads when ``jobs`` share this machine (a remote
    cluster's workers decide their own)."""
    from streamspec.pipeline.parallel import cores, decoder_threads

    return decoder_threads(jobs or cores()) if dask in (None, "local") else None


def _render_parallel(
    args: argparse.Namespace,
    spec: str | None,
    options: options.RenderOptions,
    out: Path,
    t0: float,
) -> int:
    """render --jobs N / --dask: the film's slots in N ranges, rendered at once and merged."""
    from streamspec.pipeline.parallel import executor, pool_threads, render_parallel

    if spec is None or spec.startswith(("webcam:", "lavfi:")):
        raise StreamspecError("--jobs and --dask split a film file or URL, not a live source")
    with executor(args.jobs, args.dask, verbose=args.verbose) as pool:
        # Without --jobs, as many ranges as the cluster runs at once (its worker threads).
        parts = args.jobs or pool_threads(pool)
        try:
            threads = local_decoder_threads(parts, args.dask)
            spectrum = render_parallel(
                spec,
                options,
                pool,
                parts,
                threads=threads,
                on_plan=lambda plan: None if args.quiet else say_sampling("render", plan.note),
            )
        except KeyboardInterrupt:  # a stop before any range was back
            print(
                f"{PROG} render: interrupted before any range ended; nothing saved", file=sys.stderr
            )
            return ExitStatus.INTERRUPTED
    ranges = min(parts, spectrum.slots or parts)
    return _save_and_report(
        spectrum, out, spec, t0, spectrum.partial, how=f" ({ranges} ranges)", html=args.html
    )


def add_redraw(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "redraw",
        help="redraw a spectrum from its JSON data, without decoding",
        description="Rebuild a spectrum image from the .json written beside it, with other "
        "settings (height, order, mode, axis, chapters, segments). Writes the image and "
        "its own .json beside it.",
    )
    p.add_argument("data", metavar="SPECTRUM.json", help="a spectrum's .json (or its image)")
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        required=True,
        help="the new image: .png, .jpg, .webp or .tif (its .json goes beside it)",
    )
    add_look_args(p, "redraw")
    p.set_defaults(run=_run_redraw)


def _run_redraw(args: argparse.Namespace) -> int:
    import time

    from streamspec.core.options import LookOptions
    from streamspec.outputs.redraw import redraw

    t0 = time.perf_counter()
    done = redraw(args.data, args.output, **collect(args, LookOptions))
    for w in done.warnings:
        print(f"{PROG} redraw: warning: {shown(w)}", file=sys.stderr)
    took = time.perf_counter() - t0
    print(
        f"wrote {shown(done.image)} and {shown(done.data.name)}: {len(done.spectrum)} strips "
        f"in {took:.2f} s"
    )
    return ExitStatus.OK
