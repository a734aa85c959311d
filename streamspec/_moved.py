"""The modules' old names, from before the package was split into layers.

``import streamspec.spectrum`` (and every other old name) still works: it gives the
module under its new name (``streamspec.outputs.spectrum``), the same module object,
with a DeprecationWarning. ``streamspec.sources``, some of whose names moved to the
pipeline, is instead a view of ``streamspec.media`` that serves those names too. One
table, one finder; nothing else knows the old names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install"]

MOVED = {
    "streamspec._atomic": "streamspec.core._atomic",
    "streamspec._deprecated": "streamspec.core._deprecated",
    "streamspec._io": "streamspec.core._io",
    "streamspec._kernels": "streamspec.analysis._kernels",
    "streamspec._outputs": "streamspec.core._outputs",
    "streamspec._render_setup": "streamspec.pipeline._render_setup",
    "streamspec._schema": "streamspec.core._schema",
    "streamspec._signals": "streamspec.pipeline._signals",
    "streamspec._text": "streamspec.core._text",
    "streamspec._threads": "streamspec.core._threads",
    "streamspec.align": "streamspec.analysis.align",
    "streamspec.analyze": "streamspec.analysis.analyze",
    "streamspec.annotate": "streamspec.outputs.annotate",
    "streamspec.batch": "streamspec.pipeline.batch",
    "streamspec.cmstable": "streamspec.media.cmstable",
    "streamspec.colour": "streamspec.analysis.colour",
    "streamspec.colournames": "streamspec.analysis.colournames",
    "streamspec.compare": "streamspec.outputs.compare",
    "streamspec.compare_diff": "streamspec.outputs.compare_diff",
    "streamspec.container": "streamspec.core.container",
    "streamspec.corpus": "streamspec.outputs.corpus",
    "streamspec.corpus_build": "streamspec.outputs.corpus_build",
    "streamspec.corpus_schema": "streamspec.outputs.corpus_schema",
    "streamspec.demo": "streamspec.media.demofilm",
    "streamspec.errors": "streamspec.core.errors",
    "streamspec.export": "streamspec.outputs.export",
    "streamspec.export.items": "streamspec.outputs.export.items",
    "streamspec.export.swatches": "streamspec.outputs.export.swatches",
    "streamspec.export.timeline": "streamspec.outputs.export.timeline",
    "streamspec.grid": "streamspec.core.grid",
    "streamspec.kmeans": "streamspec.analysis.kmeans",
    "streamspec.limits": "streamspec.core.limits",
    "streamspec.options": "streamspec.core.options",
    "streamspec.page": "streamspec.outputs.page",
    "streamspec.palettes": "streamspec.analysis.palettes",
    "streamspec.parallel": "streamspec.pipeline.parallel",
    "streamspec.quantize": "streamspec.outputs.quantize",
    "streamspec.raster": "streamspec.outputs.raster",
    "streamspec.redraw": "streamspec.outputs.redraw",
    "streamspec.rendering": "streamspec.pipeline.rendering",
    "streamspec.sampling": "streamspec.pipeline.sampling",
    "streamspec.search": "streamspec.analysis.search",
    "streamspec.segments": "streamspec.analysis.segments",
    "streamspec.shotlist": "streamspec.analysis.shotlist",
    "streamspec.shots": "streamspec.analysis.shots",
    "streamspec.shotsig": "streamspec.analysis.shotsig",
    "streamspec.sources": "streamspec.media",
    "streamspec.sources.audio": "streamspec.media.audio",
    "streamspec.sources.base": "streamspec.media.base",
    "streamspec.sources.colourspace": "streamspec.media.colourspace",
    "streamspec.sources.convert": "streamspec.media.convert",
    "streamspec.sources.crop": "streamspec.media.crop",
    "streamspec.sources.damage": "streamspec.media.damage",
    "streamspec.sources.demo": "streamspec.media.demo",
    "streamspec.sources.devices": "streamspec.media.devices",
    "streamspec.sources.encode": "streamspec.media.encode",
    "streamspec.sources.probe": "streamspec.media.probe",
    "streamspec.sources.pyav": "streamspec.media.pyav",
    "streamspec.sources.skipplan": "streamspec.media.skipplan",
    "streamspec.spectrum": "streamspec.outputs.spectrum",
    "streamspec.spectrum_json": "streamspec.outputs.spectrum_json",
    "streamspec.stats": "streamspec.outputs.stats",
    "streamspec.strip": "streamspec.analysis.strip",
    "streamspec.timefmt": "streamspec.core.timefmt",
    "streamspec.video": "streamspec.live.video",
}

# Names that moved out of a module when it moved (old module -> name -> new module).
MOVED_NAMES = {
    "streamspec.sources": {
        name: "streamspec.pipeline.sampling"
        for name in ("Sample", "fit_to_frames", "sample_frames", "sample_times")
    },
}


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        old = module.__name__
        new = MOVED[old]
        warnings.warn(f"{old} is now {new}", DeprecationWarning, stacklevel=2)
        real = importlib.import_module(new)
        if old in MOVED_NAMES:
            # Some names left the module when it moved: an old-name view serves them.
            module.__getattr__ = _forward(real, MOVED_NAMES[old])  # type: ignore[method-assign]
            module.__dict__.update({k: v for k, v in vars(real).items() if k[:2] != "__"})
            module.__path__ = []  # a package: its old submodule names come through here
            return
        # The import system returns what sys.modules holds under the old name once
        # this returns: the module itself, not a copy.
        sys.modules[old] = real


def _forward(real: ModuleType, names: dict[str, str]) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        return getattr(real, name)

    return get


def install() -> None:
    """Let the old module names import (once per process)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        # First: an old name must never be found as a file left by an older install.
        sys.meta_path.insert(0, _Finder())
