"""One option, one flag: every command's parser agrees on an option's name, choices and
default, and the command line speaks in the user's own flags."""

from __future__ import annotations

import argparse

import pytest

from streamspec.cli import build_parser, main, per_command_defaults

COMMANDS_WITH_A_DEMO = {"render", "play"}  # the others have no built-in film


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _shown_options(p: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in p._actions if a.option_strings and a.help != argparse.SUPPRESS]


def test_every_option_has_one_name_one_set_of_choices_one_default():
    allowed = per_command_defaults()
    seen: dict[str, list[tuple[str, argparse.Action]]] = {}
    for command, p in _subparsers().items():
        for action in _shown_options(p):
            seen.setdefault(action.dest, []).append((command, action))
    problems = []
    for dest, uses in seen.items():
        names = {tuple(a.option_strings) for _, a in uses}
        if len(names) > 1:
            problems.append(f"{dest}: several names {sorted(names)}")
        choices = {tuple(a.choices) if a.choices else None for _, a in uses}
        if len(choices) > 1:
            problems.append(f"{dest}: several sets of choices {choices}")
        plain = {repr(a.default) for c, a in uses if (c, dest) not in allowed}
        if len(plain) > 1:
            where = {c: a.default for c, a in uses if (c, dest) not in allowed}
            problems.append(f"{dest}: several defaults {where}")
        consts = {a.const for _, a in uses if a.nargs == "?"}
        if len(consts) > 1:
            problems.append(f"{dest}: several bare-flag values {consts}")
    assert not problems, "\n".join(problems)
    # The walk saw what it is meant to: the options shared by several commands.
    assert {"k", "order", "mode", "height", "every", "segments", "chapters"} <= set(seen)


def test_the_declared_exceptions_are_real_and_few():
    allowed = per_command_defaults()
    subs = _subparsers()
    for (command, dest), why in allowed.items():
        assert why
        if command in subs:
            dests = {a.dest for a in _shown_options(subs[command])}
            # the redrawing commands are declared for every look option, shown or not
            assert dest in dests or command in ("redraw", "compare"), (command, dest)
    own = {k for k in allowed if k[0] not in ("redraw", "compare")}
    assert own == {("quantize", "k"), ("play", "preview")}


@pytest.mark.parametrize("command", ["render", "redraw", "compare", "play", "video", "batch"])
def test_order_choices_are_the_same_everywhere(command):
    from streamspec.analysis.strip import ORDERS

    p = _subparsers()[command]
    order = next(a for a in p._actions if a.dest == "order")
    assert tuple(order.choices) == ORDERS and "oklch" in ORDERS


def test_compare_takes_order_oklch(tmp_path, capsys):
    # Refused by the parser before: now it gets as far as reading the (missing) input.
    code = main(
        ["compare", str(tmp_path / "a.json"), "-o", str(tmp_path / "c.png"), "--order", "oklch"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "invalid choice" not in err and "a.json" in err


@pytest.mark.parametrize("command", ["render", "play", "video", "batch", "quantize"])
def test_colours_is_the_long_name_of_k(command):
    k = next(a for a in _subparsers()[command]._actions if a.dest == "k")
    assert k.option_strings == ["-k", "--colours"]


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["render", "--colours", "0"], "--colours"),
        (["render", "-k", "0"], "-k"),
        (["render", "--k", "0"], "--k"),
        (["quantize", "img.png", "--colors", "0"], "--colors"),
        (["quantize", "img.png", "-k", "0"], "-k"),
    ],
)
def test_errors_name_the_flag_the_user_typed(argv, flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"error: {flag} must be at least 1, got 0"), err


@pytest.mark.parametrize(("command", "old"), [("render", "--k"), ("quantize", "--colors")])
def test_old_names_still_work_with_a_warning(command, old, tmp_path, capsys):
    p = _subparsers()[command]
    extra = ["img.png"] if command == "quantize" else []
    args = p.parse_args([*extra, old, "7"])
    assert args.k == 7
    assert f"{old} is an old name; use --colours" in capsys.readouterr().err
    assert old not in p.format_help()  # hidden from the help


def test_quantize_keeps_its_own_default_and_limit(capsys):
    p = _subparsers()["quantize"]
    assert p.parse_args(["img.png"]).k == 16
    assert main(["quantize", "img.png", "-k", "70000"]) == 2
    assert "-k must be at most 65,536, got 70000" in capsys.readouterr().err


def test_a_stray_output_name_points_to_o(capsys, tmp_path):
    film = tmp_path / "film.mp4"
    assert main(["render", str(film), "out.png"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: out.png; did you mean -o out.png?" in err
    assert err.count("\n") == 1


def test_a_stray_option_gets_no_output_hint(capsys):
    assert main(["render", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "--bogus" in err and "did you mean" not in err


@pytest.mark.parametrize("command", sorted(set(_subparsers()) - COMMANDS_WITH_A_DEMO))
def test_help_speaks_only_of_what_the_command_has(command):
    text = " ".join(_subparsers()[command].format_help().split()).lower()
    assert "demo" not in text, command


def test_bare_segments_and_chapters_mean_auto():
    p = _subparsers()["compare"]
    args = p.parse_args(["a.json", "-o", "c.png", "--segments", "--chapters"])
    assert (args.segments, args.chapters) == ("auto", "auto")
    r = _subparsers()["render"].parse_args(["--segments", "none", "--chapters"])
    assert (r.segments, r.chapters) == ("none", "auto")


def test_compare_refuses_a_chapters_file(capsys, tmp_path):
    code = main(["compare", "a.json", "-o", str(tmp_path / "c.png"), "--chapters=ch.txt"])
    assert code == 2
    assert "--chapters draws each film's own chapters: auto or none" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (["compare", "--segments", "a.json", "b.json", "-o", "c.png"], ("auto", None)),
        (["compare", "--chapters", "a.json", "-o", "c.png"], (None, "auto")),
        (["compare", "a.json", "-o", "c.png", "--segments", "none"], ("none", None)),
        (["compare", "a.json", "-o", "c.png", "--chapters"], (None, "auto")),
    ],
)
def test_a_bare_flag_never_swallows_a_positional(argv, want, monkeypatch):
    from streamspec import cli
    from streamspec._cli import page

    seen = {}
    monkeypatch.setattr(page, "_run_compare", lambda args: seen.update(vars(args)) or 0)
    assert cli.main(argv) == 0
    assert (seen["segments"], seen["chapters"]) == want
    assert [i for i in seen["inputs"]] == [a for a in argv[1:] if a.endswith(".json")]


def test_render_segments_before_the_film(tmp_path, capsys):
    assert main(["render", "--segments", str(tmp_path / "film.mp4")]) == 2
    err = capsys.readouterr().err
    assert "film.mp4" in err and "invalid choice" not in err  # the film, not a bad value


def test_flag_names_come_from_the_option_definitions_alone():
    """Error messages name the flag without any parser having been built: the mapping is a
    function of the option definitions, not a table filled while building parsers."""
    import subprocess
    import sys

    code = (
        "from streamspec._cli.flags import option_flags\n"
        "f = option_flags()\n"
        "print(f['k'], f['height'], f['strip_width'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out == ["--colours", "--height", "--strip-width"]


def test_exit_statuses_live_in_one_enum():
    import ast
    from pathlib import Path

    import streamspec
    from streamspec.core.errors import ExitStatus, StreamspecError

    assert [(s.name, int(s)) for s in ExitStatus] == [
        ("OK", 0),
        ("FAILED", 1),
        ("BAD_INPUT", 2),
        ("INTERRUPTED", 130),
    ]
    assert StreamspecError.exit_code is ExitStatus.BAD_INPUT
    package = Path(streamspec.__file__).parent
    for path in [*(package / "_cli").glob("*.py"), package / "__main__.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
                assert type(node.value.value) is not int, f"{path.name}:{node.lineno}"
            if isinstance(node, ast.IfExp) and isinstance(node.body, ast.Constant):
                assert type(node.body.value) is not int, f"{path.name}:{node.lineno}"


def test_the_command_line_imports_no_private_names():
    """Helpers the command line uses have a public home (``timefmt.clock``, not
    ``compare._clock``)."""
    import ast
    import importlib.util
    from pathlib import Path

    import streamspec

    for path in (Path(streamspec.__file__).parent / "_cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                private = [
                    a.name
                    for a in node.names
                    if a.name[:1] == "_" != a.name[1:2]
                    and importlib.util.find_spec(f"{node.module}.{a.name}") is None  # a module
                ]
                assert not private, f"{path.name}:{node.lineno} imports {private}"


def test_progress_shows_on_a_terminal_only(capsys):
    from streamspec._cli.terminal import Progress

    with Progress(unit="strip", total=3) as bar:  # stderr is captured: not a terminal
        bar.update(3)
    assert capsys.readouterr().err == ""
    with Progress(unit="strip", total=3, desc="film", show=True) as bar:
        bar.set(2)
        bar.set(3, total=4)
    err = capsys.readouterr().err
    assert "film" in err and "strip" in err  # redrawn at most every 0.2 s: no count checked
    with Progress(unit="strip", show=False) as bar:
        bar.update()
    assert capsys.readouterr().err == ""
