"""The modules' names from before the layered layout still import, with a warning."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import subprocess_env

from streamspec._moved import MOVED


def test_every_new_home_exists():
    import importlib

    for new in sorted(set(MOVED.values())):
        importlib.import_module(new)


@pytest.mark.parametrize(
    "old",
    ["streamspec.spectrum", "streamspec.rendering", "streamspec.sources.pyav", "streamspec.demo"],
)
def test_an_old_name_is_the_same_module_with_a_warning(old):
    # A fresh interpreter: the old name must not already be in sys.modules.
    code = f"""
import importlib, warnings
warnings.simplefilter("error", DeprecationWarning)
try:
    importlib.import_module({old!r})
except DeprecationWarning as w:
    print("warned:", w)
warnings.simplefilter("ignore")
old = importlib.import_module({old!r})
new = importlib.import_module({MOVED[old]!r})
print("same:", old is new)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert out.returncode == 0, out.stderr
    # The warning names the old module (or its package, imported first) and its new home.
    assert "warned: streamspec." in out.stdout and " is now streamspec." in out.stdout
    assert "same: True" in out.stdout


def test_names_that_left_a_moved_module_still_come_through_its_old_name():
    code = """
import warnings
warnings.simplefilter("ignore")
from streamspec.sources import sample_frames, open_source
from streamspec.sources.pyav import AVSource
import streamspec.pipeline.sampling as sampling, streamspec.media as media
print(sample_frames is sampling.sample_frames, open_source is media.open_source)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_the_root_names_are_unchanged():
    import streamspec

    for name in streamspec.__all__:
        assert getattr(streamspec, name) is not None
