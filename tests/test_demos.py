"""Every demo runs and writes what it says (quick settings, headless)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

# Each test runs a demo script end to end in a fresh interpreter (seconds apiece).
pytestmark = pytest.mark.slow

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=ENV, timeout=600, cwd=ROOT
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_seasons(tmp_path):
    proc = run("demos/seasons.py", "--every", "3", "--out", str(tmp_path))
    assert str(tmp_path) in proc.stdout
    for name in (
        "seasons.png",
        "seasons.json",
        "seasons-chapters.png",
        "seasons-segments.png",
        "seasons-side-by-side.png",
    ):
        assert (tmp_path / name).exists(), name
    assert "Winter" in proc.stdout


def test_compress_with_a_given_photo(tmp_path):
    y, x = np.mgrid[0:120, 0:160]
    photo = np.stack([x * 1.5, y * 2, (x + y)], 2).clip(0, 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "p.png")
    proc = run("demos/compress.py", str(tmp_path / "p.png"), "--out", str(tmp_path / "o"))
    for k in (5, 10, 40):
        assert (tmp_path / "o" / f"k{k}.png").exists()
    assert (tmp_path / "o" / "size-vs-error.png").exists()
    lines = (tmp_path / "o" / "sizes.csv").read_text().splitlines()
    assert len(lines) == 1 + 15 + 3  # header, the 2..256 sweep, plus K = 5, 10 and 40
    assert "| 256 |" in proc.stdout


def test_compress_default_photo(tmp_path):
    pytest.importorskip("sklearn")
    run("demos/compress.py", "--out", str(tmp_path))
    assert (tmp_path / "original-k5-k10-k40.png").exists()


def test_kmeans_explained(tmp_path):
    proc = run("demos/kmeans_explained.py", "--out", str(tmp_path), "--window", "--loops", "1")
    gif = Image.open(tmp_path / "kmeans.gif")
    assert gif.n_frames >= 4
    assert "nothing moved" in proc.stdout and "inertia" in proc.stdout


def test_webcam_demo_on_a_stand_in_camera(tmp_path):
    run(
        "demos/webcam.py",
        "--source",
        "lavfi:testsrc2=size=320x240:rate=25",
        "--every",
        "0.5",
        "--seconds",
        "2",
        "--out",
        str(tmp_path),
    )
    assert list(tmp_path.glob("webcam-*.png")) and list(tmp_path.glob("webcam-*.json"))


def test_webcam_demo_without_a_camera(tmp_path):
    proc = run("demos/webcam.py", "--device", "97", "--out", str(tmp_path), ok=False)
    assert proc.returncode == 2 and "streamspec devices" in proc.stderr
    assert "Traceback" not in proc.stderr
