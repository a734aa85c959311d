"""Shared test set-up: headless SDL, paths, and small helpers."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No display in CI: pygame must never try to open a real window or sound device.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def _table_code() -> str:
    """A hash of the code HDR colour tables are computed by: the table module and every
    module of this package it takes a function from (the transfer and gamut maths)."""
    import hashlib
    import inspect

    from streamspec.media import cmstable

    modules = {cmstable} | {
        m
        for v in vars(cmstable).values()
        if (m := inspect.getmodule(v)) is not None and m.__name__.startswith("streamspec.")
    }
    h = hashlib.sha256()
    for m in sorted(modules, key=lambda m: m.__name__):
        h.update(Path(inspect.getfile(m)).read_bytes())
    return h.hexdigest()[:16]


# Folders of tables made by older versions of the colour code kept beside the current one
# (several checkouts may share a machine); at most 8 tables of 6.4 MB each in a folder.
KEEP_TABLE_FOLDERS = 4


def _prune(parent: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used folders in ``parent`` (a run that
    still reads one only recomputes its tables: the cache tolerates a vanished folder)."""
    folders = sorted((p for p in parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def _test_cache() -> str:
    """A folder the suite keeps its HDR colour tables in from run to run: the tests'
    own, never the user's ``~/.cache/streamspec``. Sharing it is safe: a table's file
    name is a hash of what it maps (matrix, range, transfer, peak...) and the folder's
    name a hash of the code that computes it, so an edit to the colour maths starts a
    new folder instead of finding tables made by the old code. Where the home folder
    cannot be written, a folder for this run alone."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "streamspec-tests", "colour-tables", _table_code())
    try:
        os.makedirs(folder, exist_ok=True)
        os.utime(folder)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
        _prune(Path(folder).parent, keep=KEEP_TABLE_FOLDERS)
    except OSError:
        folder = tempfile.mkdtemp(prefix="streamspec-test-cache-")
        atexit.register(shutil.rmtree, folder, True)
    return folder


# HDR colour tables take seconds each to compute: every test and every command a test
# starts (they inherit the environment) shares one cache for the whole session and,
# unless STREAMSPEC_CACHE says otherwise, with the runs after it.
if "STREAMSPEC_CACHE" not in os.environ:
    os.environ["STREAMSPEC_CACHE"] = _test_cache()

# The suite runs on loaded machines (CI shares two cores): Hypothesis's per-example
# deadline and its too-slow health check measure the machine, not the code.
settings.register_profile("streamspec", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("streamspec")

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The shared real footage; tests using it skip cleanly when it is absent."""
    if not MEDIA.is_dir() or not any(MEDIA.glob("*.mp4")):
        pytest.skip("real footage (../shared/media) is not available")
    return MEDIA


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for running ``python -m streamspec`` in a test: this checkout's
    package first on the path (whatever an editable install points at), headless SDL."""
    old = os.environ.get("PYTHONPATH")
    path = str(ROOT) + (os.pathsep + old if old else "")
    return {
        **os.environ,
        "PYTHONPATH": path,
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        # A crash (a segfault in native code) prints every thread's Python stack.
        "PYTHONFAULTHANDLER": "1",
        **extra,
    }
