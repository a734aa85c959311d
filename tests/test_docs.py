"""The documentation site: the CLI reference is generated from the parser and covers
every command and option; no page keeps a hand-written flag table; the site builds
with ``mkdocs build --strict`` (every internal link and anchor resolves)."""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys

import pytest
from conftest import ROOT, subprocess_env

from streamspec.cli import build_parser

DOCS = ROOT / "docs"


def _gen_cli():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the parser has no subcommands")


def _sections(reference: str) -> dict[str, str]:
    """The reference cut at its command headings: {command: its text}."""
    parts = re.split(r"^## `streamspec ?(\w*)` \{#[\w-]+\}$", reference, flags=re.M)
    return {name or "streamspec": body for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_command_and_option_is_in_the_reference():
    gen = _gen_cli()
    parser = build_parser()
    sections = _sections(gen.reference(parser))
    subs = _subparsers(parser)
    assert set(sections) == {"streamspec", *subs}
    for name, sub in subs.items():
        body = sections[name]
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if action.option_strings:
                for flag in action.option_strings:
                    cell = rf"<code id=\"[\w-]+\">(?:(?!</code>).)*{re.escape(flag)}\b"
                    assert re.search(cell, body), f"{name} {flag} is missing from the reference"
                longs = [o for o in action.option_strings if o.startswith("--")]
                anchor = gen.anchor(name, (longs or action.option_strings)[0])
                assert f'id="{anchor}"' in body
            else:
                assert f'id="{gen.anchor(name, action.dest)}"' in body
            if action.help:
                first_words = " ".join(action.help.split()[:3])
                assert first_words.replace("'", "&#x27;") in body or "%(" in action.help


def test_the_reference_follows_the_parser():
    """A new option shows up in the reference without anyone writing it down."""
    gen = _gen_cli()
    parser = build_parser()
    render = _subparsers(parser)["render"]
    render.add_argument("--shiny-new", metavar="X", help="a brand new option")
    body = _sections(gen.reference(parser))["render"]
    assert '<code id="render-shiny-new">--shiny-new X</code>' in body
    assert "a brand new option" in body


def test_cli_page_is_generated_not_written():
    gen = _gen_cli()
    page = (DOCS / "cli.md").read_text()
    assert gen.MARKER in page
    assert "docs/gen_cli.py" in (ROOT / "mkdocs.yml").read_text()
    rendered = gen.on_page_markdown(page, None, None, None)
    assert gen.MARKER not in rendered and '<code id="render-height">' in rendered


def test_no_page_has_a_hand_written_flag_table():
    """Flags are listed only in the generated reference; pages explain and link to it."""
    # a table whose header's first column is the option (the row under it is |---|...)
    header = re.compile(r"^\|\s*(options?|flags?|arguments?)\s*\|.*\n\|\s*:?-", re.I | re.M)
    for page in sorted(DOCS.glob("*.md")):
        found = header.search(page.read_text())
        assert found is None, f"{page.name} has a flag table: {found and found.group(0)}"


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs) is not installed")
    pytest.importorskip("material", reason="the docs extra (mkdocs-material) is not installed")
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=subprocess_env(NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    cli = (site / "cli.html").read_text()
    assert 'id="render-height"' in cli and 'id="batch-dask"' in cli
    for page in ["index", "getting-started", "render", "play", "page", "batch", "quantize",
                 "errors", "cli", "library", "formats", "colour", "architecture",
                 "performance", "changelog"]:
        assert (site / f"{page}.html").is_file(), page
    # The changelog page is the root CHANGELOG.md, included at build time.
    assert "Measurements, 2026-12-07" in (site / "changelog.html").read_text()
