"""The real pygame loop, headless (SDL's dummy video driver), driven by injected events.

Every way out of the window must leave a complete, valid spectrum on disk.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygame
import pytest
from conftest import subprocess_env
from PIL import Image
from videos import colour_film

import streamspec
from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.live.app import play
from streamspec.live.checkpoint import find_checkpoint
from streamspec.media import DemoSource

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40]]
LAVFI = "lavfi:testsrc2=size=160x120:rate=25"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("live")
    return colour_film(
        d / "clip.mp4", seconds=6, colours=COLOURS, each=1.5, size=(160, 90), gop=12, bframes=2
    )


class Script:
    """on_tick hook: runs each action when its condition first holds, or (an int) that
    many window ticks after the previous action -- one action per tick at most.

    A script that has not finished ``deadline`` seconds after its first tick closes the
    window (so a test never hangs on a condition that never holds) and records it in
    ``timed_out``; :meth:`check` fails the test then.
    """

    def __init__(self, *steps, deadline: float = 60.0) -> None:
        self.steps = list(steps)
        self.since = 0
        self.deadline = deadline
        self.started: float | None = None
        self.timed_out: str | None = None

    def __call__(self, window) -> None:
        self.since += 1
        now = time.monotonic()
        self.started = self.started or now
        if self.steps and self.timed_out is None and now - self.started > self.deadline:
            self.timed_out = f"{len(self.steps)} steps left after {self.deadline:.0f} s"
            pygame.event.post(pygame.event.Event(pygame.QUIT))
            return
        if not self.steps:
            return
        when, action = self.steps[0]
        due = when(window) if callable(when) else self.since >= when
        if due:
            self.steps.pop(0)
            self.since = 0
            action(window)

    def check(self) -> None:
        """Fail the test if the script ran out of time (its window was closed for it)."""
        assert self.timed_out is None, f"the scripted window timed out: {self.timed_out}"
        assert not self.steps, f"{len(self.steps)} scripted steps never ran"


def key(k):
    return lambda w: pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=""))


def strips_at_least(n):
    return lambda w: len(w.model.visible) >= n


def check_saved(result, *, partial: bool | None = None) -> dict:
    assert result.png is not None and result.png.exists()
    with Image.open(result.png) as img:
        img.verify()
    data = json.loads(result.json.read_text())
    assert len(data["strips"]) == result.strips > 0
    with Image.open(result.png) as img:
        width = img.size[0]
    assert width == max(s["index"] for s in data["strips"]) + 1 or width == data["slots"]
    if partial is not None:
        assert data["partial"] is partial
    assert not list(result.png.parent.glob(".*.part"))
    return data


@pytest.mark.slow
def test_end_of_stream_saves_the_same_strips_as_render(clip, tmp_path):
    result = play(
        clip,
        every=0.5,
        output=tmp_path / "s.png",
        exit_at_end=True,
        window_size=(640, 480),
        announce=lambda s: None,
    )
    assert result.reason == "ended" and result.error is None
    data = check_saved(result, partial=False)
    ref = streamspec.render(clip, every=0.5, seek="exact")
    assert [s["index"] for s in data["strips"]] == [s.index for s in ref.strips]
    saved = streamspec.Spectrum.load(result.json)
    for a, b in zip(saved.strips, ref.strips, strict=True):
        assert a.time == pytest.approx(b.time)
        np.testing.assert_array_equal(a.palette, b.palette)
        np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(np.asarray(Image.open(result.png)), np.asarray(ref.image))
    m = result.model
    # Every frame was either shown or (if drawing fell behind) knowingly dropped.
    assert m.stats.frames_shown + m.stats.frames_dropped == 150
    assert len(m.stats.latencies) == len(ref.strips)


def test_live_lavfi_source_matches_render(tmp_path):
    script = Script(
        (strips_at_least(6), lambda w: pygame.event.post(pygame.event.Event(pygame.QUIT)))
    )
    result = play(
        LAVFI,
        every=0.5,
        output=tmp_path / "live.png",
        on_tick=script,
        window_size=(640, 480),
        announce=lambda s: None,
    )
    script.check()
    assert result.reason == "closed"
    data = check_saved(result, partial=True)
    n = len(data["strips"])
    ref = streamspec.render(LAVFI, every=0.5, end=n * 0.5, seek="exact")
    saved = streamspec.Spectrum.load(result.json)
    assert [s.index for s in saved.strips] == list(range(n))
    for a, b in zip(saved.strips, ref.strips, strict=True):
        np.testing.assert_array_equal(a.palette, b.palette)
        np.testing.assert_array_equal(a.counts, b.counts)


def test_keys_and_mouse(clip, tmp_path):
    seen = {}

    def look(name, fn):
        return lambda w: seen.__setitem__(name, fn(w))

    def click_at_time(t):
        def go(w):
            m = w.model
            x = int(m.x_of_slot(m.slot_of_time(t) + 0.5))
            y = m.layout.panel.y + 5
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1))

        return go

    def hover(w):
        m = w.model
        x = int(m.x_of_slot(0.5))
        pygame.event.post(
            pygame.event.Event(
                pygame.MOUSEMOTION, pos=(x, m.layout.panel.y + 3), rel=(0, 0), buttons=(0, 0, 0)
            )
        )

    def wheel(w):
        pygame.event.post(
            pygame.event.Event(
                pygame.MOUSEWHEEL, x=0, y=-1, precise_x=0.0, precise_y=-1.0, flipped=False
            )
        )

    script = Script(
        (strips_at_least(2), key(pygame.K_h)),
        (1, look("help", lambda w: w.model.show_help)),
        (1, key(pygame.K_h)),
        (1, key(pygame.K_SPACE)),
        (1, look("paused", lambda w: w.model.paused)),
        (1, look("t_paused", lambda w: w.model.playhead)),
        (10, look("t_still", lambda w: w.model.playhead)),
        (1, key(pygame.K_SPACE)),
        (1, key(pygame.K_s)),
        (1, key(pygame.K_RIGHT)),
        (1, look("after_right", lambda w: w.model.playhead)),
        (lambda w: w.model.playhead > 4.0, key(pygame.K_LEFT)),
        (1, look("after_left", lambda w: w.model.playhead)),
        (1, click_at_time(3.0)),
        (1, look("after_click", lambda w: w.model.playhead)),
        (1, hover),
        (2, look("hover", lambda w: w.model.hover_info(*w.model.hover))),
        (1, key(pygame.K_EQUALS)),
        (1, look("zoom", lambda w: (w.model.pps, w.model.fit_pps()))),
        (1, key(pygame.K_c)),
        (1, look("marks", lambda w: w.model.show_marks)),
        (1, key(pygame.K_c)),
        (1, wheel),
        (1, look("wheel", lambda w: w.model.fit)),
        (1, key(pygame.K_f)),
        (3, look("full_on", lambda w: bool(w.screen.get_flags() & pygame.FULLSCREEN))),
        (1, key(pygame.K_f)),
        (3, look("full_off", lambda w: bool(w.screen.get_flags() & pygame.FULLSCREEN))),
        (1, lambda w: w._resized(900, 700)),
        (3, look("layout", lambda w: w.model.layout.window.w)),
        (3, key(pygame.K_q)),
    )
    result = play(
        clip,
        every=0.5,
        output=tmp_path / "k.png",
        on_tick=script,
        window_size=(640, 480),
        announce=lambda s: None,
    )
    assert result.reason == "quit"
    assert seen["help"] is True
    assert seen["paused"] is True and seen["t_still"] == seen["t_paused"]
    assert seen["after_right"] >= min(seen["t_paused"] + 9.0, 5.9)  # clamped at the end
    assert seen["after_left"] <= seen["after_right"] - 1.0
    assert abs(seen["after_click"] - 3.0) < 0.6
    assert seen["hover"] is not None and seen["hover"][0] == "0:00"
    # The film opens fitted; a 12-strip clip fills the panel at more than 32 px per
    # strip, so fit is also the closest zoom.
    assert seen["zoom"][0] == pytest.approx(seen["zoom"][1]) and seen["zoom"][0] > 32
    assert seen["marks"] is False
    assert seen["wheel"] is True
    assert seen["layout"] == 900
    # F toggles the display mode both ways (SDL's dummy driver supports fullscreen).
    assert seen["full_on"] is True and seen["full_off"] is False
    script.check()
    assert list(tmp_path.glob("k-snapshot-*.png")), "S saves a snapshot"
    check_saved(result)


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("q", "quit"),
        ("escape", "quit"),
        ("close", "closed"),
    ],
)
def test_every_window_exit_saves(clip, tmp_path, how, reason):
    action = {
        "q": key(pygame.K_q),
        "escape": key(pygame.K_ESCAPE),
        "close": lambda w: pygame.event.post(pygame.event.Event(pygame.QUIT)),
    }[how]
    result = play(
        clip,
        every=0.5,
        output=tmp_path / f"{how}.png",
        on_tick=(script := Script((strips_at_least(3), action))),
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    assert result.reason == reason
    check_saved(result, partial=True)


class FailingDemo(DemoSource):
    """The demo film, but the 'disk' fails 3 s in."""

    def frames(self, start=0.0, **kw):
        for n, f in enumerate(super().frames(start, **kw)):
            if f.time > 3.0 and n > 0:  # playback, not a one-frame grab (crop detection)
                raise OSError("disk on fire")
            yield f


@pytest.mark.slow
def test_worker_error_is_shown_and_the_spectrum_so_far_saved(tmp_path):
    shown = {}
    script = Script(
        (
            lambda w: w.model.error is not None,
            lambda w: shown.setdefault("hud", w.model.hud_text()),
        ),
        (5, key(pygame.K_q)),
    )
    result = play(
        FailingDemo(),
        every=0.5,
        output=tmp_path / "e.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    assert result.reason == "error" and result.error == "disk on fire"
    assert "disk on fire" in shown["hud"]
    data = check_saved(result, partial=True)
    assert len(data["strips"]) >= 6


def test_a_bug_in_the_window_still_saves(clip, tmp_path):
    def boom(w):
        if len(w.model.visible) >= 2:
            raise RuntimeError("bug")

    out = tmp_path / "bug.png"
    with pytest.raises(RuntimeError, match="bug"):
        play(
            clip,
            every=0.5,
            output=out,
            on_tick=boom,
            window_size=(480, 360),
            announce=lambda s: None,
        )
    assert out.exists() and json.loads(out.with_suffix(".json").read_text())["strips"]


@pytest.mark.slow
def test_default_output_never_overwrites(clip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        r = play(
            clip,
            every=1.0,
            exit_at_end=True,
            end=2.0,
            window_size=(320, 240),
            announce=lambda s: None,
        )
        assert r.reason == "ended"
    assert (tmp_path / "clip-spectrum.png").exists() and (tmp_path / "clip-spectrum-2.png").exists()


def test_absent_webcam_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(InputError, match=r"webcam:97.*streamspec devices"):
        play("webcam:97", output=tmp_path / "w.png")
    code = main(["play", "--webcam", "97", "-o", str(tmp_path / "w.png")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "webcam:97" in err


def test_bad_play_options(tmp_path, capsys):
    for args, msg in [
        (["--every", "0"], "--every must be greater than 0"),
        (["--size", "10x10"], "--size must be WxH"),
        (["--start", "9:00"], "after the end of the film"),
    ]:
        code = main(["play", *args, "-o", str(tmp_path / "x.png")])
        err = capsys.readouterr().err
        assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_save(tmp_path, sig):
    env = subprocess_env()
    out = tmp_path / "sig.png"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamspec", "play", "-o", str(out), "--size", "480x360"),
            *("--checkpoint", "0.2"),  # the strips so far, on disk: the test waits for two
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "playing ..." once the window is up
    assert "playing" in line, proc.stderr.read() if proc.poll() is not None else line
    # A few demo-film strips (one per 0.5 s): waited for, not slept for (CI is loaded).
    deadline = time.monotonic() + 120
    while (find_checkpoint(out) or 0) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "no strips in two minutes"
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "saved" in stdout
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["partial"] is True and len(data["strips"]) >= 2
    assert not data["settings"].get("checkpoint")  # the final save, not a checkpoint
    with Image.open(out) as img:
        img.verify()


# -- the player's controls (issue 12) --------------------------------------------------------
def shown_at(t, tol=0.021):
    """The picture on screen is the frame at ``t``."""
    return lambda w: w._frame is not None and abs(w._frame.time - t) < tol


def key_mod(k, mod):
    return lambda w: pygame.event.post(
        pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="")
    )


def test_paused_seeks_show_the_new_frame_and_frames_step_exactly(clip, tmp_path):
    seen = {}

    def look(name):
        return lambda w: seen.__setitem__(name, (w._frame.time, w.model.playhead, w.model.paused))

    script = Script(
        (strips_at_least(2), key(pygame.K_SPACE)),
        (3, key(pygame.K_5)),  # paused: 50 % of the 6 s clip
        (shown_at(3.0), look("seek")),
        (1, key(pygame.K_PERIOD)),
        (shown_at(3.04), look("fwd")),
        (1, key(pygame.K_PERIOD)),
        (shown_at(3.08), look("fwd2")),
        (1, key(pygame.K_COMMA)),  # back: decoded again from the keyframe before
        (shown_at(3.04), look("back")),
        (1, key(pygame.K_COMMA)),
        (shown_at(3.0), look("back2")),
        (1, key(pygame.K_COMMA)),
        (shown_at(2.96), look("back3")),  # across a GOP boundary (keyframe every 12)
        (1, key(pygame.K_HOME)),
        (shown_at(0.0), look("home")),
        (1, key(pygame.K_PERIOD)),
        (shown_at(0.04), look("home_fwd")),
        (1, key(pygame.K_COMMA)),
        (shown_at(0.0), look("home_back")),
        (1, key(pygame.K_END)),
        (shown_at(6.0 - 0.12), look("end")),
        (1, key(pygame.K_q)),
    )
    result = play(
        clip,
        every=0.5,
        output=tmp_path / "p.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    for name, (frame_t, head, paused) in seen.items():
        assert paused, name  # every step happened while paused
        assert head == pytest.approx(frame_t), name  # the status line says the picture's time
    assert result.reason == "quit"


@pytest.mark.slow
def test_seek_keys_on_a_long_film(tmp_path):
    seen = {}

    def look(name):
        return lambda w: seen.__setitem__(name, w._frame.time)

    script = Script(
        (strips_at_least(1), key(pygame.K_SPACE)),
        (2, key(pygame.K_3)),
        (shown_at(54.0, 0.05), look("30%")),
        (1, key_mod(pygame.K_RIGHT, pygame.KMOD_LSHIFT)),
        (shown_at(114.0, 0.05), look("+60")),
        (1, key_mod(pygame.K_LEFT, pygame.KMOD_RSHIFT)),
        (shown_at(54.0, 0.05), look("-60")),
        (1, key(pygame.K_LEFT)),
        (shown_at(44.0, 0.05), look("-10")),
        (1, key_mod(pygame.K_0, pygame.KMOD_LCTRL)),  # Ctrl+0 is the panel's, not a seek
        (3, look("ctrl0")),
        (1, key(pygame.K_0)),
        (shown_at(0.0, 0.05), look("0%")),
        (1, key(pygame.K_q)),
    )
    play(
        DemoSource(),
        every=2.0,
        output=tmp_path / "d.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    assert seen["ctrl0"] == pytest.approx(44.0, abs=0.05)


def test_held_keys_repeat_and_seeks_coalesce(clip, tmp_path):
    seen = {}

    def hold(w):
        seen["repeat"] = pygame.key.get_repeat()
        w.model.paused = True
        for _ in range(30):  # a held Right: far more seeks than the decoder can follow
            w.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT, mod=0, unicode=""))
            w.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, mod=0, unicode=""))
        w.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_4, mod=0, unicode=""))
        seen["generation"] = w.generation

    script = Script(
        (strips_at_least(1), hold),
        (shown_at(2.4), lambda w: seen.__setitem__("after", w.generation)),
        (1, key(pygame.K_q)),
    )
    play(
        clip,
        every=0.5,
        output=tmp_path / "r.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    assert seen["repeat"][0] > 0 and seen["repeat"][1] > 0
    # 61 seeks asked for; one went to the decoder at once, the newest one after it.
    assert seen["generation"] == 1 and seen["after"] == 2


def test_drag_on_the_spectrum_scrubs(clip, tmp_path):
    seen = {}

    def x_of(w, t):
        m = w.model
        return int(m.x_of_slot(m.slot_of_time(t) + 0.5)), m.layout.panel.y + 5

    def press(t):
        return lambda w: pygame.event.post(
            pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=x_of(w, t), button=1)
        )

    def move(t):
        return lambda w: pygame.event.post(
            pygame.event.Event(pygame.MOUSEMOTION, pos=x_of(w, t), rel=(1, 0), buttons=(1, 0, 0))
        )

    def release(w):
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=x_of(w, 4.0), button=1))

    def near(t):  # a drag lands on the nearest strip's time
        return lambda w: w._frame is not None and abs(w._frame.time - t) < 0.3

    script = Script(
        (strips_at_least(2), press(1.0)),
        (near(1.0), lambda w: seen.__setitem__("down", (w._frame.time, w.model.paused))),
        (1, move(2.5)),
        (near(2.5), lambda w: seen.__setitem__("mid", (w._frame.time, w.model.paused))),
        (1, move(4.0)),
        (near(4.0), lambda w: seen.__setitem__("late", (w._frame.time, w.model.paused))),
        (1, release),
        (1, lambda w: seen.__setitem__("up", w.model.paused)),
        (lambda w: w.model.playhead > 4.5, key(pygame.K_q)),  # playing on after release
    )
    play(
        clip,
        every=0.5,
        output=tmp_path / "g.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    # The picture followed the pointer while the button was down (held, not playing)...
    assert all(seen[k][1] for k in ("down", "mid", "late"))
    assert seen["down"][0] < seen["mid"][0] < seen["late"][0]
    assert seen["up"] is False  # ... and release went back to playing


def test_space_at_the_end_replays(clip, tmp_path):
    seen = {}
    script = Script(
        (strips_at_least(1), key(pygame.K_END)),
        (lambda w: w.model.ended, key(pygame.K_SPACE)),
        (
            lambda w: w._frame is not None and w._frame.time < 1.0,
            lambda w: seen.update(paused=w.model.paused, ended=w.model.ended),
        ),
        (lambda w: w.model.playhead > 1.5, key(pygame.K_q)),
    )
    play(
        clip,
        every=0.5,
        output=tmp_path / "e.png",
        on_tick=script,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    script.check()
    assert seen == {"paused": False, "ended": False}


def test_snapshot_and_checkpoints_are_saved_off_the_window_thread(clip, tmp_path):
    out = tmp_path / "c.png"
    seen = {}
    script = Script(
        (strips_at_least(2), key(pygame.K_s)),
        (1, lambda w: seen.__setitem__("msg", w.message[0])),
        (lambda w: (tmp_path / "c.json").exists(), key(pygame.K_q)),
    )
    lines: list[str] = []
    result = play(
        clip,
        every=0.5,
        output=out,
        on_tick=script,
        window_size=(480, 360),
        checkpoint=0.5,
        announce=lines.append,
    )
    script.check()
    assert seen["msg"].startswith("saving c-snapshot-")  # the window did not wait for it
    assert any(s.startswith("snapshot: /") for s in lines), lines
    assert any(s.startswith(f"saved {out}") for s in lines)  # absolute paths
    data = check_saved(result, partial=True)
    assert "checkpoint" not in data["settings"]  # the final save replaced the checkpoint


def test_a_lavfi_graph_plays_at_its_own_rate(tmp_path):
    seen = {}

    def first(w):
        seen["t0"], seen["m0"] = time.monotonic(), w.model.playhead

    def last(w):
        seen["t1"], seen["m1"] = time.monotonic(), w.model.playhead
        pygame.event.post(pygame.event.Event(pygame.QUIT))

    script = Script(
        (lambda w: w.model.stats.frames_shown > 0, first),
        (lambda w: w.model.playhead > 2.0, last),
    )
    play(
        LAVFI,
        every=0.5,
        output=tmp_path / "l.png",
        on_tick=script,
        window_size=(320, 240),
        announce=lambda s: None,
    )
    script.check()
    # Never faster than real time (unpaced, it ran ~5x faster).
    assert seen["m1"] - seen["m0"] <= (seen["t1"] - seen["t0"]) + 0.2


@pytest.mark.slow
def test_a_killed_session_leaves_its_checkpoint_and_the_next_play_keeps_it(tmp_path):
    out = tmp_path / "k.png"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamspec",
            "play",
            "-o",
            str(out),
            "--size",
            "320x240",
            "--checkpoint",
            "1",
            "--every",
            "0.25",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=tmp_path,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "playing" in proc.stdout.readline()
        n = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # two checkpoints: the second replaced the first
            n = find_checkpoint(out)
            if n is not None and n >= 8:
                break
            time.sleep(0.2)
        assert n is not None and n >= 8, "no checkpoint was written"
    finally:
        proc.kill()  # SIGKILL: nothing runs, nothing more is saved
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = streamspec.Spectrum.load(out)  # whole: PNG and JSON written atomically
    with Image.open(out) as img:
        img.verify()
    assert left.partial and len(left) >= n and left.settings["checkpoint"]
    lines: list[str] = []
    r = play(output=out, end=1.0, exit_at_end=True, size=(320, 240), announce=lines.append)
    kept = tmp_path / "k-interrupted.png"
    assert lines[0] == (
        f"found a checkpoint from an interrupted session at {out} ({len(left)} strips); "
        f"kept it as {kept}"
    )
    assert len(streamspec.Spectrum.load(kept)) == len(left)
    assert r.png == out and len(streamspec.Spectrum.load(out)) == r.strips


@pytest.mark.slow
def test_play_shows_the_demo_films_seasons_and_segments(tmp_path):
    """play --chapters auto --segments auto: the container's chapters (the demo's five
    seasons) and the colour segments, found while it plays, in their bands; C hides them."""
    from streamspec.media.demofilm import DEMO_CHAPTERS

    seen = {}

    def look(name, fn):
        return lambda w: seen.__setitem__(name, fn(w))

    script = Script(
        (strips_at_least(8), look("chapters", lambda w: [c[2] for c in w.model.chapters()])),
        (1, look("bands", lambda w: (w.model.layout.segments.h, w.model.layout.chapters.h))),
        (lambda w: len(w.model.segments) > 0, look("segments", lambda w: w.model.segments)),
        (
            1,
            look(
                "tooltip",
                lambda w: w.model.hover_info(
                    w.model.layout.panel.x + 2, w.model.layout.panel.y + 2
                ),
            ),
        ),
        (1, key(pygame.K_c)),
        (2, look("hidden", lambda w: (w.model.layout.segments.h, w.model.layout.chapters.h))),
        (1, key(pygame.K_q)),
    )
    result = play(
        None,
        every=0.5,
        chapters="auto",
        segments=True,
        output=tmp_path / "d.png",
        on_tick=script,
        window_size=(640, 480),
        announce=lambda s: None,
    )
    script.check()
    assert seen["chapters"] == [title for _, title in DEMO_CHAPTERS]
    assert all(h > 0 for h in seen["bands"]) and seen["hidden"] == (0, 0)
    assert seen["segments"][0]["first_strip"] == 0 and seen["segments"][0]["colours"]
    assert seen["tooltip"].chapter == DEMO_CHAPTERS[0][1]
    data = check_saved(result, partial=True)
    assert data["settings"]["chapters"] == "auto" and data["segments"]
