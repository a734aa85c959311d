"""The README is the on-ramp: its commands are the ones CI runs, its example runs, its
links lead somewhere, and it stays short (the manual is the docs site)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

README = ROOT / "README.md"
MAX_LINES = 200


def readme_commands() -> list[str]:
    text = README.read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", setup, flags=re.S)


def test_ci_runs_the_readme_test_command():
    commands = readme_commands()
    test_cmd = [c for c in commands if "pytest" in c]
    assert len(test_cmd) == 1
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd[0].strip() in ci


def test_the_set_up_commands_are_the_documented_ones():
    """Install-and-render and install-and-test, exactly; the getting-started page
    repeats them word for word."""
    assert readme_commands() == [
        "pip install . && streamspec render",
        "pip install '.[test]' && python -m pytest -q",
    ]
    started = (ROOT / "docs" / "getting-started.md").read_text()
    for command in readme_commands():
        assert f"```sh\n{command}\n```" in started


def test_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_LINES, f"README has {lines} lines; move detail to docs/"


def _relative_links(text: str) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for title in re.findall(r"^#+ (.+?)\s*$", markdown, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        out.add(slug)
    return out


def test_readme_links_lead_to_files_and_headings():
    text = README.read_text()
    links = _relative_links(text)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        path, _, fragment = link.partition("#")
        target = (ROOT / path).resolve()
        assert target.is_file(), f"README links to {link}, which does not exist"
        if fragment and target.suffix == ".md":
            assert fragment in _anchors(target.read_text()), f"no heading for {link}"
    for fragment in re.findall(r"\]\(#([^)]+)\)", text):
        assert fragment in _anchors(text), f"README links to #{fragment}, no such heading"


def test_readme_links_every_page_of_the_site():
    text = README.read_text()
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md")
    for page in pages:
        if page == "changelog.md":
            assert "(CHANGELOG.md)" in text
        else:
            assert f"(docs/{page}" in text, f"README does not link docs/{page}"


def test_readme_library_example_runs(tmp_path: Path, monkeypatch):
    """The ten-line library example, on a six-second generated film instead of film.mp4."""
    text = README.read_text()
    code = re.search(r"## Library\n\n```python\n(.*?)```", text, flags=re.S)
    assert code is not None
    lines = code.group(1).strip().splitlines()
    assert len(lines) <= 10
    monkeypatch.chdir(tmp_path)
    source = "\n".join(lines).replace(
        '"film.mp4"', '"lavfi:testsrc2=size=160x90:rate=10:duration=6"'
    )
    scope: dict = {}
    exec(compile(source, "README.md", "exec"), scope)
    assert len(scope["spec"].strips) == 3
    assert (tmp_path / "film-spectrum.png").is_file()
    assert (tmp_path / "film-spectrum.json").is_file()
    assert len(scope["same"].strips) == 3
    again = scope["again"].image  # every=1.0 over 6 s, 200 rows and an axis under them
    assert again.width == 6 and again.height > 200
