"""The ``streamspec`` command line: a thin shell over the library API.

Every user error ends as one line on stderr and exit status 2; an interrupted command
exits 130. Tracebacks are for bugs only (and ``STREAMSPEC_DEBUG=1`` shows them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ._version import __version__
from .errors import StreamspecError

if TYPE_CHECKING:
    from pathlib import Path

    from . import options
    from .spectrum import Spectrum

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
        "k-means, write a PNG (a palette PNG for K <= 256; or JPEG, WebP, TIFF by OUT's "
        "extension) and print the error and size. Never overwrites IMAGE.",
    )
    p.add_argument("image", metavar="IMAGE", help="input image (PNG, JPEG, TIFF, WebP, ...)")
    from .options import QuantizerOptions

    _add_options(p, QuantizerOptions, command="quantize", only=("k",))
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
    _add_options(p, QuantizerOptions, command="quantize", only=("seed",))
    p.set_defaults(run=_run_quantize)


def _run_quantize(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .options import QuantizerOptions, check_option
    from .quantize import quantize_file

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
    print(_shown(result.summary(), lines=True))
    return 0


# -- options, derived from streamspec.options ----------------------------------------------
# Library option name -> the flag that sets it, for error messages.
_FLAGS: dict[str, str] = {}
# (command, flag) -> (its values, the bare flag's): flags that may stand alone.
_BARE: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {}


def _text_parser(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type`` from a library parser: its ValueError becomes a usage error."""
    what = "a whole number" if parse is int else "a number"

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as exc:
            message = str(exc) if "got" in str(exc) else f"expected {what}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    return convert


_int = _text_parser(int)
_number = _text_parser(float)


class _Given:
    """Mixed into the actions of option flags: records the flag the user typed, so an
    error about the value names that flag (``-k`` or ``--colours``)."""

    dest: str

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None:
            given = dict(getattr(namespace, "_flags_given", {}))
            given[self.dest] = option_string
            namespace._flags_given = given
        super().__call__(parser, namespace, values, option_string)  # type: ignore[misc]


class _Store(_Given, argparse._StoreAction):
    pass


class _Switch(_Given, argparse.BooleanOptionalAction):
    pass


class _OldName(_Given, argparse._StoreAction):
    """A flag's old name: still taken, with a warning naming the new one."""

    def __init__(self, *args: Any, new: str = "", command: str = "", **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.new, self.command = new, command

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{PROG} {self.command}: warning: {option_string} is an old name; use {self.new}",
            file=sys.stderr,
        )
        super().__call__(parser, namespace, values, option_string)


# Commands that draw saved data again: an option not given keeps the data's own (its
# flag's default is None there).
REDRAWING = ("redraw", "compare")
# Flags outside the option groups whose default is deliberately a command's own.
_OWN_DEFAULTS = {
    ("play", "preview"): "on (render: off, a second pass costs time; play fills while playing)",
}


def per_command_defaults() -> dict[tuple[str, str], str]:
    """(command, option) pairs whose default is the command's own, and why: each a
    deliberate part of the option's one definition."""
    import dataclasses

    from .options import RenderOptions, VideoOptions, ViewOptions

    out = dict(_OWN_DEFAULTS)
    for group in (*RenderOptions.GROUPS, ViewOptions, VideoOptions):
        for f in dataclasses.fields(group):
            for command, changes in f.metadata["per_command"].items():
                if "default" in changes:
                    out[(command, f.name)] = f"{changes['default']!r}: {changes.get('help', '')}"
            for command in REDRAWING:
                out.setdefault((command, f.name), "not given: the saved data's own")
    return out


def _add_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    group: type,
    *,
    command: str,
    only: tuple[str, ...] | None = None,
) -> None:
    """Add a flag for every field of an option group (``only``: those fields), as
    ``command`` takes it.

    Name, type, choices, default and help come from the field's one definition
    (:func:`streamspec.options.metadata_for`). In a command that redraws saved data
    (:data:`REDRAWING`) every flag is None unless given (or the command has a default of
    its own), to tell "not given" from a default.
    """
    import dataclasses

    from .options import metadata_for

    for f in dataclasses.fields(group):
        if not f.metadata.get("cli", True) or (only is not None and f.name not in only):
            continue
        meta = metadata_for(group, f.name, command)
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        names = [meta["short"], flag] if meta["short"] else [flag]
        _FLAGS[f.name] = flag
        # add_argument's keywords, each with its own type (the metadata's values are Any)
        kw: dict[str, Any] = {"dest": f.name, "help": meta["help"]}
        own = "default" in meta["per_command"].get(command, {})
        default = meta["default"] if command not in REDRAWING or own else None
        kind, parse, choices = meta["kind"], meta["parse"], meta["choices"]
        if kind is bool and not choices:
            kw["action"] = _Switch
        else:
            kw["action"] = _Store
            if choices:
                kw["choices"] = choices
                if parse is not None and default is not None:
                    default = next((c for c in choices if parse(c) == default), default)
            else:
                kw["type"] = _text_parser(parse or kind or str)
            if meta["const"] is not None:
                kw["nargs"], kw["const"] = "?", meta["const"]
                values = choices or meta["per_command"].get(command, {}).get("values")
                if values:  # a bare flag before a positional must not swallow it
                    for name in names:
                        _BARE[(command, name)] = (tuple(values), meta["const"])
        if meta["metavar"]:
            kw["metavar"] = meta["metavar"]
        kw["default"] = default
        p.add_argument(*names, **kw)
        for old in meta["aliases"]:
            alias = {k: v for k, v in kw.items() if k not in ("action", "default", "help")}
            p.add_argument(
                old,
                **alias,
                action=_OldName,
                new=flag,
                command=command,
                default=argparse.SUPPRESS,
                help=argparse.SUPPRESS,
            )


def _collect(args: argparse.Namespace, group: type) -> dict[str, Any]:
    """The values the user gave for a group's fields (None where not given)."""
    import dataclasses

    out: dict[str, Any] = {}
    for f in dataclasses.fields(group):
        if not hasattr(args, f.name):
            continue
        value = getattr(args, f.name)
        parse = f.metadata["parse"]
        if value is not None and f.metadata["choices"] and parse is not None:
            value = parse(value)  # choices are checked on the text, then parsed
        out[f.name] = value
    return out


def _render_options(args: argparse.Namespace) -> options.RenderOptions:
    from .options import RenderOptions

    values: dict[str, object] = {}
    for group in RenderOptions.GROUPS:
        values.update(_collect(args, group))
    return RenderOptions.from_kwargs(**values)


def _add_source_args(p: argparse.ArgumentParser, command: str) -> None:
    from .options import SourceOptions

    p.add_argument(
        "video",
        nargs="?",
        metavar="VIDEO",
        help="a video file or URL, webcam:N, or lavfi:GRAPH (default: the built-in demo film)",
    )
    p.add_argument("--webcam", metavar="N", help="read webcam N (same as VIDEO webcam:N)")
    _add_options(p, SourceOptions, command=command, only=("webcam_fps", "webcam_size"))


def _add_look_args(p: argparse.ArgumentParser, command: str) -> None:
    from .options import LookOptions

    _add_options(p.add_argument_group("look"), LookOptions, command=command)


# -- render ----------------------------------------------------------------------------
def _source_spec(args: argparse.Namespace) -> str | None:
    if args.webcam is not None and args.video is not None:
        raise StreamspecError("give VIDEO or --webcam, not both")
    if args.webcam is not None:
        return f"webcam:{args.webcam}"
    return args.video


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render a film to a colour spectrum PNG (+ JSON data)",
        description="Sample a frame every few seconds, quantize it to K colours and draw the "
        "hue-sorted strips side by side. Without VIDEO, renders the built-in demo film.",
    )
    _add_source_args(p, "render")
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        help="output image, .png, .jpg, .webp or .tif by its extension (default "
        "VIDEO-spectrum.png, never overwriting); the data goes beside it as .json",
    )
    from .options import QuantizerOptions, SamplingOptions, SourceOptions

    when = p.add_mutually_exclusive_group()
    _add_options(when, SamplingOptions, command="render", only=("every", "strips"))
    _add_options(p, SamplingOptions, command="render", only=("start", "end"))
    _add_options(p, QuantizerOptions, command="render")
    _add_options(p, SourceOptions, command="render", only=("seek", "crop", "tonemap"))
    _add_look_args(p, "render")
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
    _add_parallel_args(p, what="time ranges of the film", default="1")
    p.set_defaults(run=_run_render)


def _dask_address(text: str) -> str:
    """--dask's argparse type: the address checked where every --dask value is."""
    from .parallel import dask_address

    try:
        return dask_address(text)
    except StreamspecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_parallel_args(p: argparse.ArgumentParser, *, what: str, default: str) -> None:
    """``--jobs``, ``--dask`` and ``--verbose``, shared by render and batch."""
    p.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"render {what} in N processes at once (default {default}); with --dask, the "
        "number of pieces to send (default: the cluster's worker threads; local: the "
        "LocalCluster's workers, default the machine's cores)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        type=_dask_address,
        help="run on the Dask scheduler at ADDRESS (tcp://HOST:8786, tls://, ws://, [IPv6]), "
        "or 'local' for a LocalCluster of --jobs workers (needs streamspec[cluster])",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --dask: say how large the cluster is and show Dask's own log lines and "
        "warnings (hidden otherwise)",
    )


def _run_render(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from tqdm import tqdm

    from ._io import check_format_size, output_lock
    from .limits import check_jobs
    from .rendering import Renderer, check_spectrum_output, default_output

    spec = _source_spec(args)
    options = _render_options(args)
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
        _say_sampling("render", renderer.sampling_note)
    info = renderer.source.info
    show = False if args.quiet else args.progress  # None: tqdm decides (a terminal or not)
    bar = tqdm(
        total=renderer.total,
        unit="strip",
        desc=_short(info.name),
        disable=None if show is None else not show,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.2,
    )

    def saved_preview(draft: Spectrum) -> None:
        from ._signals import save_safely

        png, js = save_safely(draft, out)
        bar.clear()
        print(
            f"preview: wrote {_shown(png)} and {_shown(js.name)}: {len(draft)} provisional "
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
        return 130
    finally:
        bar.close()
    return _save_and_report(spectrum, out, info.name, t0, renderer.interrupted, html=args.html)


def _say_sampling(command: str, note: str | None) -> None:
    """The one line saying what the default sampling chose (nothing if the user chose)."""
    if note:
        print(f"{PROG} {command}: {note}", file=sys.stderr, flush=True)


def _page_path(html: str | None, out: Path) -> Path | None:
    """render --html: the page's path (default: beside the image), checked before any
    work like the image's (its collisions with the inputs and the other outputs are
    checked with theirs, by :func:`~streamspec.rendering.check_spectrum_output`)."""
    if html is None:
        return None
    from pathlib import Path

    from ._io import check_writable
    from .errors import OutputError
    from .page import PAGE_SUFFIXES

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

    from . import _signals

    png, js = _signals.save_safely(spectrum, out)
    if html is not None:
        from .page import write_page

        with _signals.saving():
            write_page(js, html)  # the page `streamspec page` makes of the saved data
        print(f"wrote {_shown(html)}")
    for w in spectrum.warnings:
        print(f"{PROG} render: warning: {_shown(w)}", file=sys.stderr)
    took = time.perf_counter() - t0
    state = "interrupted; saved the partial spectrum" if interrupted else "wrote"
    print(
        f"{state} {_shown(png)} and {_shown(js.name)}: {len(spectrum)} strips of {_short(name)} "
        f"in {took:.1f} s{how}"
    )
    # A stop asked for while it was saved: the work is whole, but the run was interrupted.
    return 130 if interrupted or _signals.requested() else 0


def _local_decoder_threads(jobs: int | None, dask: str | None) -> int | None:
    """Each render's decoder threads when ``jobs`` share this machine (a remote
    cluster's workers decide their own)."""
    from .parallel import cores, decoder_threads

    return decoder_threads(jobs or cores()) if dask in (None, "local") else None


def _render_parallel(
    args: argparse.Namespace,
    spec: str | None,
    options: options.RenderOptions,
    out: Path,
    t0: float,
) -> int:
    """render --jobs N / --dask: the film's slots in N ranges, rendered at once and merged."""
    from .parallel import executor, pool_threads, render_parallel

    if spec is None or spec.startswith(("webcam:", "lavfi:")):
        raise StreamspecError("--jobs and --dask split a film file or URL, not a live source")
    with executor(args.jobs, args.dask, verbose=args.verbose) as pool:
        # Without --jobs, as many ranges as the cluster runs at once (its worker threads).
        parts = args.jobs or pool_threads(pool)
        try:
            threads = _local_decoder_threads(parts, args.dask)
            spectrum = render_parallel(
                spec,
                options,
                pool,
                parts,
                threads=threads,
                on_plan=lambda plan: None if args.quiet else _say_sampling("render", plan.note),
            )
        except KeyboardInterrupt:  # a stop before any range was back
            print(
                f"{PROG} render: interrupted before any range ended; nothing saved", file=sys.stderr
            )
            return 130
    ranges = min(parts, spectrum.slots or parts)
    return _save_and_report(
        spectrum, out, spec, t0, spectrum.partial, how=f" ({ranges} ranges)", html=args.html
    )


# -- batch -----------------------------------------------------------------------------
def _add_batch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="render many films into one folder, resumably, on every core or a Dask cluster",
        description="Render every film of INPUTS (files, folders searched recursively for "
        "videos, globs, @LIST files of paths or URLs) to OUTDIR/NAME.png + NAME.json, with "
        "all of render's options. Films already rendered with the same options are skipped "
        "(--force redoes them); a bad film is reported and the batch goes on. Writes a "
        "summary to OUTDIR/batch.json and the corpus tables to OUTDIR/corpus.parquet. "
        "Exit status 1 if any film failed.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="video files, folders, globs or @LIST files"
    )
    p.add_argument("-o", "--output", metavar="OUTDIR", required=True, help="the output folder")
    from .options import LookOptions, QuantizerOptions, SamplingOptions, SourceOptions

    when = p.add_mutually_exclusive_group()
    _add_options(when, SamplingOptions, command="batch", only=("every", "strips"))
    _add_options(p, SamplingOptions, command="batch", only=("start", "end"))
    _add_options(p, QuantizerOptions, command="batch")
    _add_options(p, SourceOptions, command="batch", only=("seek", "crop", "tonemap"))
    _add_options(p.add_argument_group("look"), LookOptions, command="batch")
    _add_parallel_args(p, what="films", default="the machine's cores")
    p.add_argument(
        "--timeout",
        type=_number,
        default=None,
        metavar="SECONDS",
        help="stop a film (and report it failed) after SECONDS: a decoder that hangs",
    )
    p.add_argument("--force", action="store_true", help="render again the films already done")
    p.add_argument("--no-corpus", action="store_true", help="do not write corpus.parquet")
    p.add_argument(
        "--no-split",
        action="store_true",
        help="never split a long film into time ranges on several workers",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=_run_batch)


def _run_batch(args: argparse.Namespace) -> int:
    from .batch import print_summary, run_batch
    from .limits import check_jobs, check_timeout

    if args.timeout is not None:
        check_timeout(args.timeout)
    if args.jobs is not None:
        check_jobs(args.jobs, local=args.dask in (None, "local"))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run_batch(
        args.inputs,
        args.output,
        _render_options(args),
        jobs=args.jobs,
        dask=args.dask,
        verbose=args.verbose,
        force=args.force,
        timeout=args.timeout,
        corpus=not args.no_corpus,
        split=not args.no_split,
        threads=_local_decoder_threads(args.jobs, args.dask),
        log=None if args.quiet else log,
    )
    print_summary(result)
    if result.interrupted:
        return 130
    return 1 if result.failed else 0


def _short(name: str, n: int = 40) -> str:
    """A film's name for a progress bar or a summary line: its base name, escaped
    (:func:`_shown`), at most ``n`` characters."""
    import os.path

    base = _shown(os.path.basename(name) if os.path.sep in name else name)
    return base if len(base) <= n else base[: n - 1] + "…"


def _shown(text: object, *, lines: bool = False) -> str:
    """``text`` safe for the terminal: control characters escaped, so a file name can
    never move the cursor, retitle the terminal or forge a line (``lines``: keep the
    text's own line breaks, escape the rest)."""
    from ._io import shown

    if lines:
        return "\n".join(shown(line) for line in str(text).split("\n"))
    return shown(text)


# -- play ------------------------------------------------------------------------------
def _add_play(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play",
        help="play a video (or a webcam) with its spectrum building live",
        description="Play VIDEO in a window; the colour spectrum builds and scrolls beside it. "
        "Keys: Space pause, Left/Right seek, S snapshot, F fullscreen, H help, Q/Esc quit. "
        "The spectrum is saved on every way out. Without VIDEO, plays the demo film.",
    )
    _add_source_args(p, "play")
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        help="where to save the spectrum: .png, .jpg, .webp or .tif (default "
        "VIDEO-spectrum.png, never overwriting; data beside it as .json)",
    )
    from .options import (
        LookOptions,
        QuantizerOptions,
        SamplingOptions,
        SourceOptions,
        ViewOptions,
    )

    _add_options(p, SamplingOptions, command="play", only=("every", "start", "end"))
    _add_options(p, QuantizerOptions, command="play")
    _add_options(
        p,
        LookOptions,
        command="play",
        only=("order", "mode", "chapters", "segments", "min_segment"),
    )
    _add_options(p, SourceOptions, command="play", only=("crop", "tonemap"))
    _add_options(p, ViewOptions, command="play")
    p.set_defaults(run=_run_play)


def _run_play(args: argparse.Namespace) -> int:
    from .live.app import play

    spec = _source_spec(args)
    from .options import ViewOptions

    view = ViewOptions.pick(_collect(args, ViewOptions))
    result = play(
        spec,
        _render_options(args),
        view,
        output=args.output,
        note=lambda text: _say_sampling("play", text),
    )
    if result.reason in ("interrupted", "terminated"):
        return 130
    if result.error:
        saved = f"; the spectrum so far is in {result.png}" if result.png else ""
        print(f"{PROG} play: error: {_shown(result.error)}{_shown(saved)}", file=sys.stderr)
        return 2
    return 0


# -- video -----------------------------------------------------------------------------
def _add_video(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "video",
        help="render what play shows -- the film, its spectrum building -- as an MP4",
        description="Render offline, faster than real time, the film with its colour "
        "spectrum building beside or below it (playhead, axis, status line) as an H.264 "
        "movie with the film's sound (AAC). Ctrl-C keeps a playable movie of what is done.",
    )
    p.add_argument("video", metavar="FILM", help="a video file or URL")
    p.add_argument(
        "-o", "--output", metavar="MOVIE.mp4", required=True, help="the movie: .mp4, .mov or .mkv"
    )
    from .options import (
        LookOptions,
        QuantizerOptions,
        SamplingOptions,
        SourceOptions,
        VideoOptions,
    )

    when = p.add_mutually_exclusive_group()
    _add_options(when, SamplingOptions, command="video", only=("every", "strips"))
    _add_options(p, SamplingOptions, command="video", only=("start", "end"))
    _add_options(p, QuantizerOptions, command="video")
    _add_options(p, SourceOptions, command="video", only=("crop",))
    _add_options(p, LookOptions, command="video", only=("order", "mode"))
    _add_options(p.add_argument_group("movie"), VideoOptions, command="video")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_video)


def _run_video(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from .options import VideoOptions
    from .video import make_video

    options = _render_options(args)
    movie = VideoOptions.pick(_collect(args, VideoOptions))
    show = False if args.quiet else args.progress
    bar = tqdm(
        unit="frame",
        desc=_short(args.video),
        disable=None if show is None else not show,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.2,
    )
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        result = make_video(
            args.video,
            args.output,
            options,
            movie,
            on_frame=progress,
            on_note=None if args.quiet else lambda note: _say_sampling("video", note),
        )
    finally:
        bar.close()
    took = time.perf_counter() - t0
    if result.path is None:
        print(f"{PROG} video: interrupted before the first frame; nothing written", file=sys.stderr)
        return 130
    from . import _signals

    state = "interrupted; wrote what was done:" if result.interrupted else "wrote"
    sound = "with sound" if result.audio else "silent"
    speed = result.seconds / took if took > 0 else 0.0
    print(
        f"{state} {_shown(result.path)}: {result.seconds:.1f} s at "
        f"{result.size[0]}x{result.size[1]}, "
        f"{result.fps:g} fps, {sound}, {result.strips} strips, in {took:.1f} s "
        f"({speed:.1f}x real time)"
    )
    return 130 if result.interrupted or _signals.requested() else 0


# -- redraw ----------------------------------------------------------------------------
def _add_redraw(sub: argparse._SubParsersAction) -> None:
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
    _add_look_args(p, "redraw")
    p.set_defaults(run=_run_redraw)


def _run_redraw(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from ._io import IMAGE_FORMATS, check_outputs, check_writable, image_format
    from .options import LookOptions
    from .spectrum import Spectrum, json_path_for

    data = Path(args.data)
    if data.suffix.lower() in IMAGE_FORMATS:
        data, images = json_path_for(data), [data]
    else:  # the images drawn from this data before are the user's too
        images = (
            [p for p in map(data.with_suffix, IMAGE_FORMATS) if p.exists()] if data.name else []
        )
    chapters = args.chapters if args.chapters not in (None, "auto", "none") else None
    out = check_writable(args.output)  # first: a directory has no sidecar name
    check_outputs(
        [
            ("the spectrum data it is drawn from", data),
            *(("the spectrum image it is drawn from", p) for p in images),
            ("the chapters file", chapters),
        ],
        [("output", out, "-o"), ("output data", json_path_for(out), "-o")],
        distinct=False,  # they differ unless out is a .json, which image_format refuses
    )
    image_format(out)
    check_writable(json_path_for(out))
    t0 = time.perf_counter()
    before = Spectrum.load(args.data)
    spectrum = before.restyle(**_collect(args, LookOptions))
    for w in spectrum.warnings[len(before.warnings) :]:
        print(f"{PROG} redraw: warning: {_shown(w)}", file=sys.stderr)
    png, js = spectrum.save(out)
    took = time.perf_counter() - t0
    print(f"wrote {_shown(png)} and {_shown(js.name)}: {len(spectrum)} strips in {took:.2f} s")
    return 0


# -- page ------------------------------------------------------------------------------
def _add_page(sub: argparse._SubParsersAction) -> None:
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

    from .page import PageWarning, write_page

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PageWarning)
        out = write_page(args.data, args.output, video=args.video, title=args.title)
    for w in caught:
        if issubclass(w.category, PageWarning):
            print(f"{PROG} page: warning: {_shown(w.message)}", file=sys.stderr)
        else:  # pragma: no cover - not ours: let it show as it would have
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    size = out.stat().st_size
    n = len(args.data)
    print(f"wrote {_shown(out)}: {n} spectr{'um' if n == 1 else 'a'}, {size / 1e6:.1f} MB")
    return 0


# -- devices ---------------------------------------------------------------------------
def _add_devices(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list webcams (for webcam:N / --webcam N)",
        description="List the video capture devices FFmpeg can open.",
    )
    p.set_defaults(run=_run_devices)


def _run_devices(args: argparse.Namespace) -> int:
    from .sources import list_devices

    devices = list_devices()
    if not devices:
        print("no video capture devices found")
        return 0
    for spec, desc in devices:
        print(f"{spec:14s} {_shown(desc)}")
    return 0


# -- corpus ----------------------------------------------------------------------------
def _add_corpus(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "corpus",
        help="gather many spectra into Parquet tables (needs streamspec[corpus])",
        description="Read every spectrum .json under the folders (recursively) and the "
        "files given, and write one row per strip colour to OUT (.parquet) and one row per "
        "film to OUT-films.parquet beside it, film by film, keyed by a film key unique "
        "across corpora. streamspec's other files (a batch's batch.json) are passed over; "
        "unreadable files are skipped with a warning and the exit status is then 1. Needs "
        "pyarrow: pip install 'streamspec[corpus]'.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="SPECTRA", help="folders of spectra and/or .json files"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT.parquet",
        required=True,
        help="the colours table; the films table goes beside it as OUT-films.parquet",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no per-film progress")
    p.set_defaults(run=_run_corpus)


def _run_corpus(args: argparse.Namespace) -> int:
    from .corpus import build_corpus

    def skipped(path: object, reason: str) -> None:
        print(f"{PROG} corpus: warning: skipped {_shown(reason)}", file=sys.stderr)

    def progress(film: int, path: object) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\r{film + 1} films read", end="", file=sys.stderr, flush=True)

    try:
        result = build_corpus(args.inputs, args.output, on_skip=skipped, on_film=progress)
    finally:
        if not args.quiet and sys.stderr.isatty():
            print(file=sys.stderr)
    for again, first in result.duplicates:
        print(
            f"{PROG} corpus: note: {str(again)!r} is the same film with the same settings as "
            f"{str(first)!r}: kept once",
            file=sys.stderr,
        )
    skip = f"; skipped {len(result.skipped)} unreadable" if result.skipped else ""
    print(
        f"wrote {_shown(result.colours_path)} ({result.colours:,} colours of {result.strips:,} "
        f"strips) and {_shown(result.films_path)} ({result.films:,} films){skip} "
        f"in {result.seconds:.1f} s"
    )
    return 1 if result.skipped else 0


# -- compare ---------------------------------------------------------------------------
def _add_compare(sub: argparse._SubParsersAction) -> None:
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
    from .options import LookOptions

    _add_options(p, LookOptions, command="compare", only=("height",))
    p.add_argument(
        "--width",
        type=_int,
        default=None,
        help="image width in px (default: one column per strip of the densest film, 800 to 4,000)",
    )
    p.add_argument(
        "--normalize",
        action="store_true",
        help="stretch each film to the full width (0-100 %% of its running time)",
    )
    _add_options(p, LookOptions, command="compare", only=("segments", "chapters"))
    p.add_argument(
        "--diff",
        action="store_true",
        help="two films: add the palette distance curve and print its mean, max and peaks",
    )
    # Not given: each film's own order and mode, as its data says.
    _add_options(p, LookOptions, command="compare", only=("order", "mode"))
    p.set_defaults(run=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from .compare import _clock, compare_files
    from .options import LookOptions, OptionError, check_option

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
    print(f"wrote {_shown(args.output)}: {len(cmp.titles)} films, {w}x{h} px")
    if cmp.diff is not None:
        d = cmp.diff
        if d.mean != d.mean:  # NaN: no time where both films have a strip
            print("palette distance: the two films have no strips at the same times")
        else:
            peaks = ", ".join(f"{_clock(t)} ({v:.3f})" for t, v in d.peaks(3)) or "none"
            print(
                f"palette distance (OKLab): mean {d.mean:.3f}, max {d.max:.3f}; "
                f"largest differences at {peaks}"
            )
    return 0


_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_render,
    _add_play,
    _add_video,
    _add_redraw,
    _add_quantize,
    _add_page,
    _add_devices,
    _add_corpus,
    _add_compare,
    _add_batch,
]


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


def _in_flag_words(exc: StreamspecError, given: dict[str, str] | None = None) -> str:
    """The error, naming the flag the user typed (``given``: option name -> flag), or
    the option's flag, instead of the library's option name."""
    import re

    from .options import OptionError

    if not isinstance(exc, OptionError) or exc.option not in _FLAGS:
        return str(exc)
    given = given or {}

    def flag(name: str) -> str:
        return given.get(name, _FLAGS[name])

    problem = exc.problem
    for name in exc.related:
        if name in _FLAGS:
            problem = re.sub(rf"\b{name}\b", flag(name), problem)
    return f"{flag(exc.option)} {problem}"


def _unrecognized(
    parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]
) -> str:
    """The usage error for arguments no command takes, with a hint when one of them
    looks like an output file given without ``-o`` (``render film.mp4 out.png``)."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    if args.command is None:
        return f"{PROG}: error: {message} (see '{PROG} --help')"
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    takes_o = "-o" in sub.choices[args.command]._option_string_actions
    stray = next((e for e in extra if not e.startswith("-")), None)
    if takes_o and stray is not None and getattr(args, "output", None) is None:
        message += f"; did you mean -o {stray}?"
    return f"{PROG} {args.command}: error: {message} (see '{PROG} {args.command} --help')"


def _bare_flags(argv: Sequence[str]) -> list[str]:
    """``--segments a.json`` is the bare flag, then a positional: ``--segments=auto
    a.json`` (argparse would take ``a.json`` as the flag's value). A flag's own values
    (``--segments none``) are left as they are."""
    args = list(argv)
    command = next((a for a in args if not a.startswith("-")), None)
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        bare = _BARE.get((command or "", arg))
        if bare is not None and (i + 1 == len(args) or args[i + 1] not in bare[0]):
            arg = f"{arg}={bare[1]}"
        out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C and SIGTERM are stop requests from here on (see :mod:`streamspec._signals`):
    each command stops at a safe point and saves what it made; exit status 130.
    """
    from . import _signals

    with _signals.handling():
        return _main(argv)


def _interrupted(command: str) -> int:
    from . import _signals

    print(f"{PROG} {command}: {_signals.signal_name()}", file=sys.stderr)
    return 130


def _main(argv: Sequence[str] | None) -> int:
    from . import _signals

    parser = build_parser()
    argv = _bare_flags(sys.argv[1:] if argv is None else [str(a) for a in argv])
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            print(_unrecognized(parser, args, extra), file=sys.stderr)
            return 2
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    if _signals.requested():  # while starting: nothing was begun
        return _interrupted(args.command)
    import contextlib

    try:
        # What a command holds until it ends (the lock on its output).
        with contextlib.ExitStack() as args.hold:
            return int(args.run(args) or 0)
    except StreamspecError as exc:
        if os.environ.get("STREAMSPEC_DEBUG"):
            raise
        given = getattr(args, "_flags_given", None)
        message = _shown(_in_flag_words(exc, given))
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # a stop before anything was made (raised at a safe point)
        return _interrupted(args.command)
    except MemoryError:
        print(f"{PROG} {args.command}: error: out of memory", file=sys.stderr)
        return 2
