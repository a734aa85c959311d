"""The ``streamspec`` command line: a thin shell over the library API.

Every user error ends as one line on stderr and exit status 2; an interrupted command
exits 130 (:class:`~streamspec.core.errors.ExitStatus`). Tracebacks are for bugs only (and
``STREAMSPEC_DEBUG=1`` shows them). Each command group's flags and runner live in a
module of their own (:mod:`.render`, :mod:`.play`, :mod:`.page`, :mod:`.batch`,
:mod:`.quantize`); this module builds the parser from them and runs one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from streamspec._cli.batch import add_batch, add_corpus
from streamspec._cli.flags import Parser, bare_flags, option_flags
from streamspec._cli.page import add_compare, add_page
from streamspec._cli.play import add_devices, add_play, add_video
from streamspec._cli.quantize import add_quantize
from streamspec._cli.render import add_redraw, add_render
from streamspec._cli.terminal import PROG, shown
from streamspec._version import __version__
from streamspec.core.errors import ExitStatus, StreamspecError

__all__ = ["build_parser", "main"]

_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_render,
    add_play,
    add_video,
    add_redraw,
    add_quantize,
    add_page,
    add_devices,
    add_corpus,
    add_compare,
    add_batch,
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to document the commands)."""
    parser = Parser(
        prog=PROG,
        description="A film's colours as a colour spectrum.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in _COMMANDS:
        add(sub)
    return parser


def _in_flag_words(exc: StreamspecError, given: dict[str, str] | None = None) -> str:
    """The error, naming the flag the user typed (``given``: option name -> flag), or
    the option's flag, instead of the library's option name."""
    import re

    from streamspec.core.options import OptionError

    flags = option_flags()
    if not isinstance(exc, OptionError) or exc.option not in flags:
        return str(exc)
    given = given or {}

    def flag(name: str) -> str:
        return given.get(name, flags[name])

    problem = exc.problem
    for name in exc.related:
        if name in flags:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C and SIGTERM are stop requests from here on (see :mod:`streamspec.pipeline._signals`):
    each command stops at a safe point and saves what it made; exit status 130.
    """
    from streamspec.pipeline import _signals

    with _signals.handling():
        return _main(argv)


def _interrupted(command: str) -> int:
    from streamspec.pipeline import _signals

    print(f"{PROG} {command}: {_signals.signal_name()}", file=sys.stderr)
    return ExitStatus.INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    from streamspec.pipeline import _signals

    parser = build_parser()
    argv = bare_flags(parser, sys.argv[1:] if argv is None else [str(a) for a in argv])
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            print(_unrecognized(parser, args, extra), file=sys.stderr)
            return ExitStatus.BAD_INPUT
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else ExitStatus.BAD_INPUT
    if args.command is None:
        parser.print_help()
        return ExitStatus.OK
    if _signals.requested():  # while starting: nothing was begun
        return _interrupted(args.command)
    import contextlib

    try:
        # What a command holds until it ends (the lock on its output).
        with contextlib.ExitStack() as args.hold:
            return int(args.run(args) or ExitStatus.OK)
    except StreamspecError as exc:
        if os.environ.get("STREAMSPEC_DEBUG"):
            raise
        given = getattr(args, "_flags_given", None)
        message = shown(_in_flag_words(exc, given))
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # a stop before anything was made (raised at a safe point)
        return _interrupted(args.command)
    except MemoryError:
        print(f"{PROG} {args.command}: error: out of memory", file=sys.stderr)
        return ExitStatus.BAD_INPUT
