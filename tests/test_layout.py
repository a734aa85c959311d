"""The package's shape: no import cycles, and pure computation never loads PyAV or pygame."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from conftest import ROOT, subprocess_env

PACKAGE = ROOT / "streamspec"

# Modules that compute, draw or hold data: they must work without PyAV and pygame.
PURE = [
    "streamspec",
    "streamspec.core.options",
    "streamspec.core.grid",
    "streamspec.core.limits",
    "streamspec.outputs.spectrum",
    "streamspec.analysis.strip",
    "streamspec.analysis.kmeans",
    "streamspec.outputs.annotate",
    "streamspec.analysis.segments",
    "streamspec.pipeline.sampling",
    "streamspec.media.base",
    "streamspec.media.demo",
    "streamspec.media.crop",
    "streamspec.media.skipplan",
    "streamspec.media.damage",
    "streamspec.live.model",
    "streamspec.live.axis",
    "streamspec.live.columns",
    "streamspec.live.hud",
    "streamspec.live.layout",
    "streamspec.live.marks",
    "streamspec.live.playback",
    "streamspec.live.timeline",
    "streamspec.live.viewport",
    "streamspec.live.segmenter",
    "streamspec.live.clock",
    "streamspec.live.checkpoint",
    "streamspec.outputs.quantize",
    "streamspec.media.cmstable",
    "streamspec.analysis.colournames",
    "streamspec.analysis.palettes",
    "streamspec.analysis.search",
    "streamspec.analysis.align",
]



def _imported_module(node: ast.ImportFrom, package: str) -> str:
    """The absolute module an ``import from`` names (relative ones resolved in ``package``)."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))

def _module_name(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path) -> set[str]:
    """Modules of the package imported when ``path`` is imported (not under
    TYPE_CHECKING, not inside functions)."""
    tree = ast.parse(path.read_text())
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom):
            mod = _imported_module(node, package)
            if mod.startswith("streamspec"):
                if node.module:  # "from . import x" needs only x (the package is loading)
                    found.add(mod)
                for alias in node.names:  # "from . import x" imports a module
                    if f"{mod}.{alias.name}".replace("..", ".") in MODULES:
                        found.add(f"{mod}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("streamspec")}
    found.discard(here)
    return found


MODULES = {_module_name(p) for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles():
    graph = {_module_name(p): _top_level_imports(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if n not in graph:
                continue
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n) :], n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_pure_modules_load_neither_pyav_nor_pygame():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + "print(sorted(m for m in ('av', 'pygame') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _all_imports(path) -> set[str]:
    """Modules of the package ``path`` imports anywhere: at the top, under
    TYPE_CHECKING and inside functions."""
    tree = ast.parse(path.read_text())
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = _imported_module(node, package)
            if mod.startswith("streamspec"):
                if node.module:
                    found.add(mod)
                for alias in node.names:
                    if f"{mod}.{alias.name}" in MODULES:
                        found.add(f"{mod}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("streamspec")}
    found.discard(here)
    return found


# The spectrum's parts: its data is the base the others build on.
SPECTRUM_PARTS = [
    "streamspec.core.container",
    "streamspec.analysis.analyze",
    "streamspec.outputs.raster",
    "streamspec.outputs.spectrum_json",
    "streamspec.outputs.spectrum",
    "streamspec.outputs.annotate",
    "streamspec.analysis.segments",
]


def test_the_spectrum_data_imports_only_the_core():
    core = {
        "streamspec.core.grid",
        "streamspec.core.limits",
        "streamspec.core.errors",
        "streamspec.core.timefmt",
        "streamspec.core.options",
    }
    assert _all_imports(PACKAGE / "core" / "container.py") <= core


@pytest.mark.parametrize("module", SPECTRUM_PARTS)
def test_no_cycle_through_the_spectrum_counting_every_import(module):
    """Not even through TYPE_CHECKING or an import inside a function does a part of
    the spectrum reach back to itself."""
    graph = {_module_name(p): _all_imports(p) for p in PACKAGE.rglob("*.py")}
    seen: set[str] = set()
    todo = list(graph[module])
    while todo:
        m = todo.pop()
        assert m != module, f"{module} imports itself back"
        if m not in seen and m in graph:
            seen.add(m)
            todo.extend(graph[m])


def _libraries_imported(path) -> set[str]:
    """Every top-level package ``path`` imports anywhere: at the top, inside functions,
    under TYPE_CHECKING, in ``try`` blocks (absolute imports; relative ones stay in the
    package). ``importlib.import_module("av")`` with a literal counts too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.split(".")[0])
    return found


# Where each library may be imported: PyAV only in the media layer, pygame only in the
# live view (and video.py, which draws with the live view's painter).
ONLY_IN = {
    "av": ("streamspec/media/",),
    "pygame": ("streamspec/live/", "streamspec/live/video.py"),
}


def test_pyav_and_pygame_stay_in_their_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for lib in _libraries_imported(path) & set(ONLY_IN):
            if not rel.startswith(ONLY_IN[lib]):
                wrong.append(f"{rel} imports {lib}")
    assert not wrong, "\n".join(wrong)


def test_the_import_finder_sees_every_form(tmp_path):
    """The rule's finder catches imports inside functions, under TYPE_CHECKING and by
    importlib, not only at the top."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from av.video import VideoFrame\n"
        "def f():\n    import pygame.image\n"
        "def g():\n    import importlib\n    return importlib.import_module('numpy')\n"
        "from . import sibling\n"
    )
    assert _libraries_imported(module) == {"typing", "av", "pygame", "importlib", "numpy"}
