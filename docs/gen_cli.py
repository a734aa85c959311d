"""The command-line reference, generated from streamspec's own argument parser.

MkDocs runs this file as a hook (``hooks:`` in mkdocs.yml): in ``docs/cli.md`` the
marker line is replaced by the reference of every command and option, read from
``streamspec.cli.build_parser()`` at build time -- so the reference cannot drift from
the parser. ``python docs/gen_cli.py`` prints the same Markdown.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- cli-reference -->"
PROG = "streamspec"
USAGE_WIDTH = "80"


def _parser() -> argparse.ArgumentParser:
    # Document this checkout's parser, not whichever streamspec is installed.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamspec.cli import build_parser

    return build_parser()


def anchor(command: str, option: str = "") -> str:
    """The page anchor of a command (``render``) or one of its options (``render-height``)."""
    return command if not option else f"{command}-{option.lstrip('-')}"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of every subcommand, in the parser's order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def _invocations(formatter: argparse.HelpFormatter, action: argparse.Action) -> list[str]:
    """How each of the action's spellings is typed: ``["-o IMAGE", "--output IMAGE"]``."""
    if not action.option_strings:
        return [formatter._format_action_invocation(action)]
    if action.nargs == 0:
        return list(action.option_strings)
    metavar = formatter._get_default_metavar_for_optional(action)
    args = formatter._format_args(action, metavar)
    return [f"{option} {args}" for option in action.option_strings]


def _help(formatter: argparse.HelpFormatter, action: argparse.Action) -> str:
    text = formatter._expand_help(action) if action.help else ""
    default = action.default
    if (
        action.option_strings
        and action.nargs != 0
        and default not in (None, argparse.SUPPRESS, [])
        and "default" not in text
        and f"({default})" not in text
    ):
        text = f"{text} (default {default})".strip()
    return text


def _exclusive(parser: argparse.ArgumentParser, action: argparse.Action) -> list[str]:
    """The options that may not be given with ``action``."""
    others: list[str] = []
    for group in parser._mutually_exclusive_groups:
        if action in group._group_actions:
            others += [a.option_strings[-1] for a in group._group_actions if a is not action]
    return others


def _table(command: str, parser: argparse.ArgumentParser, actions: list[Any]) -> str:
    formatter = parser._get_formatter()
    rows = []
    for action in actions:
        if action.help == argparse.SUPPRESS:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        name = (longs or action.option_strings or [action.dest])[0]
        meaning = html.escape(_help(formatter, action))
        others = _exclusive(parser, action)
        if others:
            meaning += " <em>(not with " + ", ".join(
                f"<code>{html.escape(o)}</code>" for o in others
            ) + ")</em>"
        spellings = "<br>".join(html.escape(i) for i in _invocations(formatter, action))
        rows.append(
            f'<tr><td><code id="{anchor(command, name)}">{spellings}</code></td>'
            f"<td>{meaning}</td></tr>"
        )
    if not rows:
        return ""
    head = "option" if any(a.option_strings for a in actions) else "argument"
    return (
        f"<table>\n<thead><tr><th>{head}</th><th>meaning</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n"
    )


def _section(command: str, summary: str, parser: argparse.ArgumentParser, level: str) -> str:
    title = PROG if command == PROG else f"{PROG} {command}"
    out = [f"{level} `{title}` {{#{command.replace(' ', '-')}}}\n"]
    if summary:
        out.append(summary[0].upper() + summary[1:] + ".\n")
    out.append("```text\n" + parser.format_usage().strip() + "\n```\n")
    if parser.description and command != PROG:
        out.append(html.escape(parser.description) + "\n")
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if not isinstance(a, argparse._SubParsersAction)]
        table = _table(command, parser, actions)
        if table:
            title = group.title or "options"
            out.append(f"**{title[0].upper() + title[1:]}**\n\n{table}")
    if parser.epilog:
        out.append(html.escape(parser.epilog) + "\n")
    return "\n".join(out)


def reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The Markdown reference of every subcommand and option of ``parser``."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = USAGE_WIDTH  # argparse wraps usage lines to the terminal's width
    try:
        parser = parser or _parser()
        parts = [_section(PROG, "", parser, "##")]
        subs = _subcommands(parser)
        parts.append(
            "| command | what it does |\n|---|---|\n"
            + "\n".join(f"| [`{name}`](#{name}) | {html.escape(h)} |" for name, h, _ in subs)
            + "\n"
        )
        parts += [_section(name, h, sub, "##") for name, h, sub in subs]
        return "\n".join(parts)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    """MkDocs hook: put the generated reference where ``docs/cli.md`` has the marker."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())


if __name__ == "__main__":
    print(reference())
