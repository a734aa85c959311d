"""The parser's building blocks: every option flag derived from its one definition.

:func:`add_options` turns the fields of an option group (:mod:`streamspec.core.options`)
into flags -- name, type, choices, default, help -- and :func:`collect` reads them back.
What the error messages and the bare-flag rule need is derived from the same
definitions, by pure functions (:func:`option_flags`) or carried by the flag's own
action (:class:`Store` ``bare``): nothing is registered as a side effect of building a
parser.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from streamspec._cli.terminal import PROG
from streamspec.core.errors import ExitStatus, StreamspecError

if TYPE_CHECKING:
    from streamspec.core import options

__all__ = [
    "REDRAWING",
    "Parser",
    "add_look_args",
    "add_options",
    "add_parallel_args",
    "add_source_args",
    "bare_flags",
    "collect",
    "int_arg",
    "number_arg",
    "option_flags",
    "per_command_defaults",
    "positive_int",
    "render_options",
    "source_spec",
]


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            ExitStatus.BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n"
        )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- options, derived from streamspec.core.options ----------------------------------------------
def _option_groups() -> tuple[type, ...]:
    """Every option group that has flags."""
    from streamspec.core.options import RenderOptions, VideoOptions, ViewOptions

    return (*RenderOptions.GROUPS, ViewOptions, VideoOptions)


@functools.cache
def option_flags() -> dict[str, str]:
    """Library option name -> the flag that sets it (``colours`` -> ``--colours``), for
    error messages: a pure function of the option definitions."""
    import dataclasses

    out: dict[str, str] = {}
    for group in _option_groups():
        for f in dataclasses.fields(group):
            if f.metadata.get("cli", True):
                out[f.name] = f.metadata["flag"] or "--" + f.name.replace("_", "-")
    return out


def text_parser(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type`` from a library parser: its ValueError becomes a usage error."""
    what = "a whole number" if parse is int else "a number"

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as exc:
            message = str(exc) if "got" in str(exc) else f"expected {what}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    return convert


int_arg = text_parser(int)
number_arg = text_parser(float)


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


class Store(_Given, argparse._StoreAction):
    """An option's flag. ``bare``: (the flag's own values, the bare flag's value) when
    the flag may stand alone (``--segments`` = ``--segments auto``)."""

    def __init__(
        self, *args: Any, bare: tuple[tuple[str, ...], str] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.bare = bare


class Switch(_Given, argparse.BooleanOptionalAction):
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

    from streamspec.core.options import RenderOptions, VideoOptions, ViewOptions

    out = dict(_OWN_DEFAULTS)
    for group in (*RenderOptions.GROUPS, ViewOptions, VideoOptions):
        for f in dataclasses.fields(group):
            for command, changes in f.metadata["per_command"].items():
                if "default" in changes:
                    out[(command, f.name)] = f"{changes['default']!r}: {changes.get('help', '')}"
            for command in REDRAWING:
                out.setdefault((command, f.name), "not given: the saved data's own")
    return out


def add_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    group: type,
    *,
    command: str,
    only: tuple[str, ...] | None = None,
) -> None:
    """Add a flag for every field of an option group (``only``: those fields), as
    ``command`` takes it.

    Name, type, choices, default and help come from the field's one definition
    (:func:`streamspec.core.options.metadata_for`). In a command that redraws saved data
    (:data:`REDRAWING`) every flag is None unless given (or the command has a default of
    its own), to tell "not given" from a default.
    """
    import dataclasses

    from streamspec.core.options import metadata_for

    for f in dataclasses.fields(group):
        if not f.metadata.get("cli", True) or (only is not None and f.name not in only):
            continue
        meta = metadata_for(group, f.name, command)
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        names = [meta["short"], flag] if meta["short"] else [flag]
        # add_argument's keywords, each with its own type (the metadata's values are Any)
        kw: dict[str, Any] = {"dest": f.name, "help": meta["help"]}
        own = "default" in meta["per_command"].get(command, {})
        default = meta["default"] if command not in REDRAWING or own else None
        kind, parse, choices = meta["kind"], meta["parse"], meta["choices"]
        if kind is bool and not choices:
            kw["action"] = Switch
        else:
            kw["action"] = Store
            if choices:
                kw["choices"] = choices
                if parse is not None and default is not None:
                    default = next((c for c in choices if parse(c) == default), default)
            else:
                kw["type"] = text_parser(parse or kind or str)
            if meta["const"] is not None:
                kw["nargs"], kw["const"] = "?", meta["const"]
                values = choices or meta["per_command"].get(command, {}).get("values")
                if values:  # a bare flag before a positional must not swallow it
                    kw["bare"] = (tuple(values), meta["const"])
        if meta["metavar"]:
            kw["metavar"] = meta["metavar"]
        kw["default"] = default
        p.add_argument(*names, **kw)
        for old in meta["aliases"]:
            alias = {k: v for k, v in kw.items() if k not in ("action", "default", "help", "bare")}
            p.add_argument(
                old,
                **alias,
                action=_OldName,
                new=flag,
                command=command,
                default=argparse.SUPPRESS,
                help=argparse.SUPPRESS,
            )


def collect(args: argparse.Namespace, group: type) -> dict[str, Any]:
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


def render_options(args: argparse.Namespace) -> options.RenderOptions:
    from streamspec.core.options import RenderOptions

    values: dict[str, object] = {}
    for group in RenderOptions.GROUPS:
        values.update(collect(args, group))
    return RenderOptions.from_kwargs(**values)


def add_source_args(p: argparse.ArgumentParser, command: str) -> None:
    from streamspec.core.options import SourceOptions

    p.add_argument(
        "video",
        nargs="?",
        metavar="VIDEO",
        help="a video file or URL, webcam:N, or lavfi:GRAPH (default: the built-in demo film)",
    )
    p.add_argument("--webcam", metavar="N", help="read webcam N (same as VIDEO webcam:N)")
    add_options(p, SourceOptions, command=command, only=("webcam_fps", "webcam_size"))


def add_look_args(p: argparse.ArgumentParser, command: str) -> None:
    from streamspec.core.options import LookOptions

    add_options(p.add_argument_group("look"), LookOptions, command=command)


def source_spec(args: argparse.Namespace) -> str | None:
    if args.webcam is not None and args.video is not None:
        raise StreamspecError("give VIDEO or --webcam, not both")
    if args.webcam is not None:
        return f"webcam:{args.webcam}"
    return args.video


def dask_arg(text: str) -> str:
    """--dask's argparse type: the address checked where every --dask value is."""
    from streamspec.pipeline.parallel import dask_address

    try:
        return dask_address(text)
    except StreamspecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parallel_args(p: argparse.ArgumentParser, *, what: str, default: str) -> None:
    """``--jobs``, ``--dask`` and ``--verbose``, shared by render and batch."""
    p.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"render {what} in N processes at once (default {default}); with --dask, the "
        "number of pieces to send (default: the cluster's worker threads; local: the "
        "LocalCluster's workers, default the machine's cores)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        type=dask_arg,
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


def bare_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--segments a.json`` is the bare flag, then a positional: ``--segments=auto
    a.json`` (argparse would take ``a.json`` as the flag's value). A flag's own values
    (``--segments none``) are left as they are."""
    args = list(argv)
    command = next((a for a in args if not a.startswith("-")), None)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands: dict[str, argparse.ArgumentParser] = sub.choices
    cmd = commands.get(command or "")
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        action = cmd._option_string_actions.get(arg) if cmd is not None else None
        bare = getattr(action, "bare", None)
        if bare is not None and (i + 1 == len(args) or args[i + 1] not in bare[0]):
            arg = f"{arg}={bare[1]}"
        out.append(arg)
    return out
