"""play where no window can be seen: one line and exit 2, not an invisible session."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import subprocess_env

LAVFI = "lavfi:testsrc2=size=160x120:rate=10:duration=1"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="DISPLAY / WAYLAND_DISPLAY are Linux's"
)


def _env(**extra: str) -> dict[str, str]:
    env = subprocess_env(**extra)
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        if name not in extra:
            env.pop(name, None)
    return env


def _play(tmp_path, env, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "streamspec",
            "play",
            LAVFI,
            "-o",
            "out.png",
            "--no-audio",
            "--exit-at-end",
            *more,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # the old code played invisibly until killed
    )


def _refused(run: subprocess.CompletedProcess[str], tmp_path) -> None:
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("streamspec play: error: no display to open the window on")
    assert "streamspec render" in lines[0] and "streamspec video" in lines[0]
    assert run.stdout == ""
    assert not (tmp_path / "out.png").exists()


def test_without_a_display_play_says_so(tmp_path):
    _refused(_play(tmp_path, _env()), tmp_path)


def test_an_unreachable_display_is_no_display(tmp_path):
    # SDL tries the X server, cannot reach it and falls back to its offscreen driver.
    _refused(_play(tmp_path, _env(DISPLAY=":9731")), tmp_path)


@pytest.mark.slow
def test_a_driver_the_user_chose_is_honoured(tmp_path):
    run = _play(tmp_path, _env(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.png").exists() and "saved" in run.stdout


def test_the_library_refuses_too(monkeypatch):
    from streamspec.core.errors import InputError
    from streamspec.live.app import check_display

    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InputError, match="no display"):
        check_display()
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    check_display()  # chosen: honoured
