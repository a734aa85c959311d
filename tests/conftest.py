"""Shared test set-up: headless SDL, paths, and small helpers."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# No display in CI: pygame must never try to open a real window or sound device.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# HDR colour tables are cached per test session, never in the user's ~/.cache.
if "STREAMSPEC_CACHE" not in os.environ:
    os.environ["STREAMSPEC_CACHE"] = tempfile.mkdtemp(prefix="streamspec-test-cache-")
    atexit.register(shutil.rmtree, os.environ["STREAMSPEC_CACHE"], True)

import pytest
from hypothesis import HealthCheck, settings

# The suite runs on loaded machines (CI shares two cores): Hypothesis's per-example
# deadline and its too-slow health check measure the machine, not the code.
settings.register_profile(
    "streamspec", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
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
