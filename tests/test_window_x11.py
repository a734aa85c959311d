"""The live window under a real X server (Xvfb, started here): its size on the screen,
fullscreen both ways, and saving when the X connection is lost.

Skipped, with the reason, where Xvfb or xdotool is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pygame
import pytest
from conftest import subprocess_env
from test_live_window import COLOURS, Script, key, strips_at_least
from videos import colour_film
from xserver import start_xvfb

from streamspec.live.app import play

SCREEN = (1600, 1000)

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (apt-get install xvfb xdotool)",
)


@pytest.fixture(scope="module")
def xserver():
    """A private Xvfb display (its number chosen by Xvfb itself); yields ':N'."""
    started = start_xvfb(SCREEN)
    if started is None:
        pytest.skip("Xvfb did not start")
    proc, display = started
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def x11(xserver, monkeypatch):
    monkeypatch.setenv("DISPLAY", xserver)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    return xserver


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("x11")
    return colour_film(d / "clip.mp4", seconds=6, colours=COLOURS, each=1.5, size=(160, 90))


def geometry(display: str) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the pygame window as the X server has it (xdotool)."""
    wid = pygame.display.get_wm_info()["window"]
    out = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", str(wid)],
        capture_output=True,
        text=True,
        env={**os.environ, "DISPLAY": display},
        check=True,
    ).stdout
    v = dict(line.split("=", 1) for line in out.split())
    return int(v["X"]), int(v["Y"]), int(v["WIDTH"]), int(v["HEIGHT"])


def title(display: str) -> str:
    wid = pygame.display.get_wm_info()["window"]
    return subprocess.run(
        ["xdotool", "getwindowname", str(wid)],
        capture_output=True,
        text=True,
        env={**os.environ, "DISPLAY": display},
        check=True,
    ).stdout.strip()


def on_screen(g: tuple[int, int, int, int]) -> bool:
    x, y, w, h = g
    return x >= 0 and y >= 0 and x + w <= SCREEN[0] and y + h <= SCREEN[1]


def test_a_window_larger_than_the_screen_is_fitted_to_it(x11, clip, tmp_path):
    seen = {}
    script = Script(
        (3, lambda w: seen.update(geo=geometry(x11), layout=w.model.layout, title=title(x11))),
        (1, key(pygame.K_q)),
    )
    play(
        clip, output=tmp_path / "f.png", on_tick=script, size=(1920, 1080), announce=lambda s: None
    )
    script.check()
    w, h = seen["geo"][2:]
    assert (w, h) == (1600, 900)  # 1920x1080 shrunk to the screen's width, aspect kept
    assert on_screen(seen["geo"])
    L = seen["layout"]
    assert (L.window.w, L.window.h) == (w, h) and L.hud.bottom <= h and L.axis.bottom <= h
    assert seen["title"] == "clip.mp4 - streamspec"  # the film's name, not its path


def test_fullscreen_on_and_off_restores_the_window(x11, clip, tmp_path):
    seen = {}

    def look(name):
        return lambda w: seen.__setitem__(
            name,
            (
                geometry(x11),
                w.fullscreen,
                w.screen.get_size(),
                (w.model.layout.window.w, w.model.layout.window.h),
            ),
        )

    def settled(size):  # the window has its new size and the layout follows it
        return lambda w: (
            w.screen.get_size() == size
            and (
                w.model.layout.window.w,
                w.model.layout.window.h,
            )
            == size
        )

    script = Script(
        (strips_at_least(1), look("before")),
        (1, key(pygame.K_f)),
        (settled(SCREEN), lambda w: None),
        (10, look("full")),  # X applies the new geometry a moment later
        (1, key(pygame.K_f)),
        (settled((800, 500)), lambda w: None),
        (10, look("back")),
        (30, look("later")),
        (1, key(pygame.K_f)),
        (settled(SCREEN), lambda w: None),
        (10, look("full2")),
        (1, key(pygame.K_q)),  # quitting from fullscreen saves as ever
    )
    result = play(
        clip,
        every=0.5,
        output=tmp_path / "fs.png",
        on_tick=script,
        size=(800, 500),
        announce=lambda s: None,
    )
    script.check()
    before, full, back, later = seen["before"], seen["full"], seen["back"], seen["later"]
    assert before[0][2:] == (800, 500) and not before[1] and on_screen(before[0])
    assert full[0] == (0, 0, *SCREEN) and full[1] and full[3] == SCREEN
    # Back at the earlier size and place, the whole layout (axis, status line) on screen.
    assert back[0] == before[0] and not back[1] and back[3] == (800, 500)
    assert later[0] == before[0]
    assert seen["full2"][0] == (0, 0, *SCREEN)
    assert result.reason == "quit" and result.png is not None and result.png.exists()


@pytest.mark.slow
def test_losing_the_x_connection_saves_before_exit(xserver, clip, tmp_path):
    out = tmp_path / "lost.png"
    env = {**subprocess_env(), "DISPLAY": xserver, "SDL_VIDEODRIVER": "x11"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamspec",
            "play",
            str(clip),
            "-o",
            str(out),
            "--size",
            "640x400",
            "--every",
            "0.25",
            "--checkpoint",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "playing" in line, proc.stderr.read() if proc.poll() is not None else line
        deadline = time.monotonic() + 60
        while not out.with_suffix(".json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the first checkpoint: strips exist
        wid = subprocess.run(
            ["xdotool", "search", "--pid", str(proc.pid)],
            capture_output=True,
            text=True,
            env=env,
        ).stdout.split()
        assert wid, "the window was not found"
        subprocess.run(["xdotool", "windowkill", wid[0]], env=env, check=True)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, stderr  # as Xlib would, but after saving
    assert "the display connection was lost" in stdout and f"saved {out}" in stdout, stdout
    assert "Traceback" not in stderr
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["partial"] is True and len(data["strips"]) >= 1
    assert "checkpoint" not in data["settings"]  # the final save, not the checkpoint


def test_resizing_from_outside_keeps_every_part_on_screen(x11, clip, tmp_path):
    seen = {}

    def resize(w):
        wid = pygame.display.get_wm_info()["window"]
        subprocess.run(["xdotool", "windowsize", str(wid), "500", "420"], check=True)

    script = Script(
        (strips_at_least(1), resize),
        (lambda w: w.model.layout.window.w == 500, lambda w: None),
        (3, lambda w: seen.update(layout=w.model.layout, size=w.screen.get_size())),
        (1, key(pygame.K_q)),
    )
    play(
        clip,
        every=0.5,
        output=tmp_path / "r.png",
        on_tick=script,
        size=(800, 500),
        announce=lambda s: None,
    )
    script.check()
    L = seen["layout"]
    assert seen["size"] == (500, 420) and (L.window.w, L.window.h) == (500, 420)
    for r in (L.video, L.panel, L.axis, L.hud):
        assert r.x >= 0 and r.y >= 0 and r.right <= 500 and r.bottom <= 420


def test_real_key_presses_seek_step_and_repeat(x11, clip, tmp_path):
    """Keys typed through the X server (XTEST, as a keyboard would): a paused seek shows
    its picture, frames step both ways, and a held key repeats."""
    seen = {}
    procs: list[subprocess.Popen] = []

    def xdo(*args):
        def run(w):
            wid = pygame.display.get_wm_info()["window"]
            subprocess.run(["xdotool", "windowfocus", "--sync", str(wid)], check=False)
            procs.append(subprocess.Popen(["xdotool", *args]))  # the window keeps running

        return run

    def at(t):
        return lambda w: w._frame is not None and abs(w._frame.time - t) < 0.021

    def look(name):
        return lambda w: seen.__setitem__(name, (w._frame.time, w.model.paused))

    script = Script(
        (strips_at_least(2), xdo("key", "space")),
        (lambda w: w.model.paused, xdo("key", "5")),
        (at(3.0), look("seek")),
        (1, xdo("key", "period")),
        (at(3.04), look("fwd")),
        (1, xdo("key", "comma")),
        (at(3.0), look("back")),
        (1, xdo("key", "Home")),
        (at(0.0), look("home")),
        # "." held for 1.5 s: the first press, then a repeat every 40 ms after 400 ms.
        (1, xdo("keydown", "period", "sleep", "1.5", "keyup", "period")),
        (lambda w: procs[-1].poll() is not None, lambda w: None),
        (5, look("held")),
        (1, key(pygame.K_q)),
    )
    play(
        clip,
        every=0.5,
        output=tmp_path / "k.png",
        on_tick=script,
        size=(640, 400),
        announce=lambda s: None,
    )
    script.check()
    assert seen["seek"] == (3.0, True) and seen["fwd"] == (3.04, True)
    assert seen["back"] == (3.0, True) and seen["home"] == (0.0, True)
    assert seen["held"][0] >= 0.2 and seen["held"][1]  # many steps: the key repeated
