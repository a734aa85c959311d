"""The whole film, early: provisional strips (a keyframes pass) in the spectrum, its
files, the live view and ``render --preview``; replaced by exact ones, never saved as
exact."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest
from conftest import subprocess_env
from PIL import Image
from videos import colour_film

import streamspec
from streamspec.analysis.strip import make_strip
from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.live.app import play
from streamspec.live.model import LiveModel, provisional_look
from streamspec.outputs.spectrum import Spectrum, Strip
from streamspec.pipeline.rendering import Renderer

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [200, 200, 200]]


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    """24 s, a keyframe every second: keyframe strips differ from exact ones."""
    d = tmp_path_factory.mktemp("preview")
    return colour_film(
        d / "film.mp4", seconds=24, colours=COLOURS, each=4.0, size=(160, 90), gop=25, bframes=2
    )


def strip(index: int, colour, *, provisional: bool = False) -> Strip:
    palette = np.array([colour, [10, 10, 10]], np.uint8)
    return Strip(
        index, index * 2.0, index * 2.0, palette, np.array([30, 10]), provisional=provisional
    )


def spectrum(slots: int = 4) -> Spectrum:
    return Spectrum(settings={"start": 0.0, "step": 2.0, "height": 40}, slots=slots)


# -- the spectrum ------------------------------------------------------------------------------
def test_exact_replaces_provisional_and_never_the_other_way():
    spec = spectrum()
    assert spec.add(strip(0, [200, 0, 0], provisional=True))
    assert spec.add(strip(0, [0, 200, 0], provisional=True))  # a newer stand-in
    assert spec.get(0).provisional and spec.get(0).palette[0, 1] == 200
    assert spec.add(strip(0, [0, 0, 200]))
    assert not spec.get(0).provisional and spec.get(0).palette[0, 2] == 200
    assert not spec.add(strip(0, [9, 9, 9], provisional=True))
    assert not spec.get(0).provisional and spec.get(0).palette[0, 2] == 200
    assert spec.provisional_slots == []
    spec.add(strip(1, [50, 50, 50], provisional=True))
    assert spec.provisional_slots == [1]
    spec.extend(strip(i, [1, 2, 3]) for i in (2, 3))
    assert not spec.complete  # slot 1 is only provisional
    spec.add(strip(1, [50, 50, 50]))
    assert spec.complete


def test_json_records_provisional_strips_and_old_files_load_as_exact(tmp_path):
    spec = spectrum()
    spec.add(strip(0, [200, 0, 0]))
    spec.add(strip(1, [0, 200, 0], provisional=True))
    data = spec.to_json()
    assert "provisional" not in data["strips"][0]  # exact strips are written as before
    assert data["strips"][1]["provisional"] is True
    back = Spectrum.from_json(json.loads(json.dumps(data)))
    assert [s.provisional for s in back.strips] == [False, True]
    # A file from before the flag: every strip exact.
    del data["strips"][1]["provisional"]
    assert [s.provisional for s in Spectrum.from_json(data).strips] == [False, False]
    data["strips"][1]["provisional"] = "yes"
    with pytest.raises(InputError, match=r"strips\[1\]\.provisional must be true or false"):
        Spectrum.from_json(data)
    # Saved and loaded through the files, then redrawn: still provisional.
    spec.save(tmp_path / "s.png")
    assert [s.provisional for s in Spectrum.load(tmp_path / "s.json").strips] == [False, True]
    assert main(["redraw", str(tmp_path / "s.json"), "-o", str(tmp_path / "r.png")]) == 0
    redrawn = json.loads((tmp_path / "r.json").read_text())
    assert [s.get("provisional", False) for s in redrawn["strips"]] == [False, True]
    # redraw draws them as render does (the plain strip, no marking in the picture).
    img = np.asarray(Image.open(tmp_path / "r.png").convert("RGB"))
    np.testing.assert_array_equal(
        img[:, 1], make_strip(spec.get(1).palette, spec.get(1).counts, 40)
    )


# -- the live model ---------------------------------------------------------------------------
def test_model_shows_provisional_strips_at_once_marked_then_exact_ones():
    spec = spectrum(slots=8)
    m = LiveModel(spec, duration=16.0, aspect=16 / 9)
    m.add_strip(strip(5, [200, 40, 40], provisional=True))  # far ahead of the playhead
    assert 5 in m.visible and m.provisional == {5}
    h = 60
    plain = make_strip(spec.get(5).palette, spec.get(5).counts, h)
    shown = m.column(5, h)
    np.testing.assert_array_equal(shown, provisional_look(plain, 5))
    # It reads as provisional: dimmer than the strip itself, and hatched.
    assert shown.astype(int).sum() < 0.75 * plain.astype(int).sum()
    assert len({tuple(r) for r in shown}) > len({tuple(r) for r in plain})
    assert "1 provisional" in m.hud_text()
    m.add_strip(strip(5, [40, 200, 40]), 3.0)  # the exact strip replaces it
    assert m.provisional == set()
    exact = make_strip(spec.get(5).palette, spec.get(5).counts, h)
    np.testing.assert_array_equal(m.column(5, h), exact)
    m.add_strip(strip(5, [1, 1, 1], provisional=True))  # too late: ignored
    np.testing.assert_array_equal(m.column(5, h), exact)
    assert m.provisional == set()
    # An exact strip ahead of the playhead still waits for it.
    m.add_strip(strip(6, [40, 40, 200]), 3.0)
    assert 6 not in m.visible


# -- render --preview ---------------------------------------------------------------------------
def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


def test_render_preview_writes_a_complete_picture_first_and_then_the_plain_one(film, tmp_path):
    out = tmp_path / "p.png"
    first: dict = {}

    def saved(draft: Spectrum) -> None:
        draft.save(out)
        first["png"] = pixels(out)
        first["json"] = json.loads(out.with_suffix(".json").read_text())

    r = Renderer(film, every=0.5, seek="exact")
    final = r.run_with_preview(saved)
    assert not r.interrupted
    # The first picture: every slot, all provisional (keyframe strips), marked partial.
    data = first["json"]
    assert data["partial"] is True and data["settings"]["seek"] == "keyframes"
    assert [s["index"] for s in data["strips"]] == list(range(48))
    assert all(s.get("provisional") for s in data["strips"])
    assert first["png"].shape == (400, 48, 3)  # complete: no transparent slots
    keyframes = streamspec.render(film, every=0.5, seek="keyframes")
    for s, k in zip(Spectrum.from_json(data).strips, keyframes.strips, strict=True):
        np.testing.assert_array_equal(s.palette, k.palette)
    # The final picture: the same as a render without --preview, pixel for pixel.
    plain = streamspec.render(film, every=0.5, seek="exact")
    final.save(out)
    np.testing.assert_array_equal(pixels(out), np.asarray(plain.image))
    assert not final.partial and final.provisional_slots == []
    assert not np.array_equal(first["png"], pixels(out))  # the first pass was a draft


def test_ctrl_c_in_the_second_pass_keeps_a_complete_picture(film, tmp_path):
    made = []

    def stop_after_ten(s: Strip) -> None:
        made.append(s)
        if len(made) == 10:
            raise KeyboardInterrupt

    r = Renderer(film, every=0.5, seek="exact")
    spec = r.run_with_preview(lambda d: None, on_strip=stop_after_ten)
    assert r.interrupted and spec.partial
    assert sorted(spec._strips) == list(range(48))  # complete
    exact = [s.index for s in spec.strips if not s.provisional]
    assert exact == [s.index for s in made]
    spec.save(tmp_path / "i.png")
    assert pixels(tmp_path / "i.png").shape == (400, 48, 3)
    saved = Spectrum.load(tmp_path / "i.json")
    assert len(saved.provisional_slots) == 48 - len(made)


@pytest.mark.slow
def test_render_preview_cli_interrupted_after_the_first_picture(tmp_path):
    # Long enough that the exact pass is still running when SIGINT comes.
    clip = colour_film(
        tmp_path / "long.mp4", seconds=30, colours=COLOURS, each=6.0, size=(320, 180), gop=50
    )
    out = tmp_path / "cli.png"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamspec", "render", str(clip), "--every", "0.04"),
            *("--seek", "exact", "--preview", "-q", "-o", str(out)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("preview: wrote"), line + proc.stderr.read()
        first = pixels(out)
        assert first.shape == (400, 750, 3)  # every slot, no transparency
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; saved the partial spectrum" in rest
    assert pixels(out).shape == (400, 750, 3)  # still complete
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["partial"] is True and len(data["strips"]) == 750
    flags = [bool(s.get("provisional")) for s in data["strips"]]
    assert any(flags), "interrupted in the exact pass: provisional strips remain"
    assert not list(tmp_path.glob(".*.part"))


def test_render_preview_refuses_jobs(film, tmp_path, capsys):
    code = main(["render", str(film), "--preview", "-j", "2", "-o", str(tmp_path / "j.png")])
    assert code == 2
    assert "--preview renders in one process" in capsys.readouterr().err


# -- play ---------------------------------------------------------------------------------------
def quit_when(cond):
    state: dict = {}

    def tick(w) -> None:
        m = w.model
        if "filled_at" not in state and m.slots and len(m.spectrum) == m.slots:
            state["filled_at"] = m.playhead
            state["provisional"] = len(m.provisional)
        # The end of the film closes the window too (then the test's checks fail).
        if not state.get("quit") and (cond(w, state) or m.ended):
            state["quit"] = m.playhead
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    return tick, state


@pytest.mark.slow
def test_play_fills_every_slot_long_before_playback_and_saves_them_provisional(film, tmp_path):
    tick, state = quit_when(lambda w, st: w.model.playhead > 6.0 and "filled_at" in st)
    result = play(
        film,
        every=0.5,
        output=tmp_path / "p.png",
        on_tick=tick,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    assert result.reason == "closed" and result.filler is not None
    assert result.filler.error is None
    # Every one of the 48 slots held a strip while playback was in its first quarter.
    assert state["filled_at"] < 6.0 and state["provisional"] > 30
    data = json.loads(result.json.read_text())
    assert data["partial"] is True and len(data["strips"]) == 48
    reached = state["quit"]
    keyframes = streamspec.render(film, every=0.5, seek="keyframes")
    exact = streamspec.render(film, every=0.5, seek="exact", end=8.0)
    for s in data["strips"]:
        t = s["target"]
        if t > reached + 1.0:  # not reached by playback: provisional, the keyframe strip
            assert s.get("provisional") is True, s["index"]
            k = keyframes.get(s["index"])
            assert s["palette"][0] == "#" + k.palette[0].tobytes().hex()
        elif t < reached - 1.0:  # played: exact, as render --seek exact makes it
            assert "provisional" not in s, s["index"]
            e = exact.get(s["index"])
            assert s["palette"][0] == "#" + e.palette[0].tobytes().hex()
    with Image.open(result.png) as img:
        assert img.size == (48, 400) and img.mode == "RGB"


@pytest.mark.slow
def test_play_fill_makes_the_exact_strips_of_the_whole_film_in_the_background(film, tmp_path):
    tick, state = quit_when(lambda w, st: w.model.spectrum.complete)
    result = play(
        film,
        every=0.5,
        fill=True,
        output=tmp_path / "f.png",
        on_tick=tick,
        window_size=(480, 360),
        announce=lambda s: None,
    )
    assert result.reason == "closed" and result.filler.error is None
    assert state["quit"] < 12.0  # complete before playback was half-way
    assert result.filler.exact_made > 10
    saved = Spectrum.load(result.json)
    assert not saved.partial and saved.provisional_slots == []
    ref = streamspec.render(film, every=0.5, seek="exact")
    assert [s.index for s in saved.strips] == [s.index for s in ref.strips]
    for a, b in zip(saved.strips, ref.strips, strict=True):
        assert a.time == pytest.approx(b.time)
        np.testing.assert_array_equal(a.palette, b.palette)
        np.testing.assert_array_equal(a.counts, b.counts)


def test_play_without_preview_has_no_background_pass(film, tmp_path):
    tick, state = quit_when(lambda w, st: len(w.model.visible) >= 3)
    result = play(
        film,
        every=0.5,
        preview=False,
        output=tmp_path / "n.png",
        on_tick=tick,
        window_size=(320, 240),
        announce=lambda s: None,
    )
    assert result.filler is None and "filled_at" not in state
    data = json.loads(result.json.read_text())
    assert data["partial"] is True and not any(s.get("provisional") for s in data["strips"])


def test_play_flags(capsys):
    assert main(["play", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--fill" in text and "--no-preview" in text
