"""Importing streamspec changes nothing outside it: no environment variables, no
warnings filters, no Pillow or NumPy settings, no signal handlers, nothing printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = r"""
import importlib, io, os, pkgutil, signal, sys, warnings, contextlib
# What streamspec builds on, first: their own import-time habits are not ours.
import numpy as np, numba, PIL.Image, av
for name in ("pygame", "pyarrow", "pandas", "dask", "distributed", "tqdm"):
    with contextlib.suppress(ImportError), contextlib.redirect_stdout(io.StringIO()):
        importlib.import_module(name)

def state():
    return (
        dict(os.environ),
        [repr(f) for f in warnings.filters],
        PIL.Image.MAX_IMAGE_PIXELS,
        np.geterr(),
        sys.getrecursionlimit(),
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
    )

before = state()
out = io.StringIO()
import streamspec
names = ["streamspec"] + [
    m.name for m in pkgutil.walk_packages(streamspec.__path__, "streamspec.")
    if m.name != "streamspec.__main__"
]
with contextlib.redirect_stdout(out):
    for name in names:
        importlib.import_module(name)
after = state()
labels = ["environment", "warnings filters", "PIL MAX_IMAGE_PIXELS", "numpy errors",
          "recursion limit", "SIGINT handler", "SIGTERM handler"]
for label, a, b in zip(labels, before, after):
    if a != b:
        if isinstance(a, dict):
            a = {k: v for k, v in a.items() if b.get(k) != v}
            b = {k: v for k, v in b.items() if a.get(k) != v and before[0].get(k) != v}
        print(f"{label} changed: {a!r} -> {b!r}")
if out.getvalue():
    print(f"printed: {out.getvalue()!r}")
print(f"imported {len(names)} modules")
"""


@pytest.mark.slow
def test_importing_every_module_has_no_side_effects():
    # The test session hides pygame's banner for itself; the probe starts without that.
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("imported ") and int(lines[-1].split()[1]) > 40, proc.stdout
    assert lines[:-1] == [], "\n".join(lines[:-1])
