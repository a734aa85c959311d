"""``streamspec batch`` and ``streamspec corpus``: many films rendered into one
folder, and many spectra gathered into tables."""

from __future__ import annotations

import argparse
import sys

from streamspec._cli.flags import add_options, add_parallel_args, number_arg, render_options
from streamspec._cli.render import local_decoder_threads
from streamspec._cli.terminal import PROG, Progress, shown
from streamspec.core.errors import ExitStatus

__all__ = ["add_batch", "add_corpus"]


def add_batch(sub: argparse._SubParsersAction) -> None:
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
    from streamspec.core.options import (
        LookOptions,
        QuantizerOptions,
        SamplingOptions,
        SourceOptions,
    )

    when = p.add_mutually_exclusive_group()
    add_options(when, SamplingOptions, command="batch", only=("every", "strips"))
    add_options(p, SamplingOptions, command="batch", only=("start", "end"))
    add_options(p, QuantizerOptions, command="batch")
    add_options(p, SourceOptions, command="batch", only=("seek", "crop", "tonemap"))
    add_options(p.add_argument_group("look"), LookOptions, command="batch")
    add_parallel_args(p, what="films", default="the machine's cores")
    p.add_argument(
        "--timeout",
        type=number_arg,
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
    from streamspec.core.limits import check_jobs, check_timeout
    from streamspec.pipeline.batch import print_summary, run_batch

    if args.timeout is not None:
        check_timeout(args.timeout)
    if args.jobs is not None:
        check_jobs(args.jobs, local=args.dask in (None, "local"))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run_batch(
        args.inputs,
        args.output,
        render_options(args),
        jobs=args.jobs,
        dask=args.dask,
        verbose=args.verbose,
        force=args.force,
        timeout=args.timeout,
        corpus=not args.no_corpus,
        split=not args.no_split,
        threads=local_decoder_threads(args.jobs, args.dask),
        log=None if args.quiet else log,
    )
    print_summary(result)
    if result.interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.FAILED if result.failed else ExitStatus.OK


def add_corpus(sub: argparse._SubParsersAction) -> None:
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
    from streamspec.outputs.corpus import build_corpus

    def skipped(path: object, reason: str) -> None:
        print(f"{PROG} corpus: warning: skipped {shown(reason)}", file=sys.stderr)

    # Films read so far, on a terminal (nothing when piped or with -q).
    with Progress(unit="film", desc="read", show=False if args.quiet else None) as bar:

        def progress(film: int, path: object) -> None:
            bar.set(film + 1)

        result = build_corpus(args.inputs, args.output, on_skip=skipped, on_film=progress)
    for again, first in result.duplicates:
        print(
            f"{PROG} corpus: note: {str(again)!r} is the same film with the same settings as "
            f"{str(first)!r}: kept once",
            file=sys.stderr,
        )
    skip = f"; skipped {len(result.skipped)} unreadable" if result.skipped else ""
    print(
        f"wrote {shown(result.colours_path)} ({result.colours:,} colours of {result.strips:,} "
        f"strips) and {shown(result.films_path)} ({result.films:,} films){skip} "
        f"in {result.seconds:.1f} s"
    )
    return ExitStatus.FAILED if result.skipped else ExitStatus.OK
