"""The player's controls and saving, without a window: where seeks go, how they are
coalesced, how a window is fitted to the screen, and the checkpoints' bookkeeping."""

from __future__ import annotations

import dataclasses
import json
import threading

import numpy as np
import pytest
from test_live_model import FakeClock, spectrum, strip

from streamspec.live.checkpoint import Checkpointer, Saver, find_checkpoint, set_aside, snapshot_of
from streamspec.live.model import LiveModel, SeekThrottle, fit_window
from streamspec.outputs.spectrum import Spectrum


def model(duration: float | None = 200.0, fps: float | None = 25.0) -> LiveModel:
    return LiveModel(spectrum(), duration=duration, aspect=16 / 9, fps=fps, live=duration is None)


def test_seek_targets():
    m = model()
    assert m.frame_time == pytest.approx(0.04)
    assert m.last_moment == pytest.approx(200.0 - 0.12)  # End: three frames before the end
    assert m.time_at_fraction(0.0) == 0.0
    assert m.time_at_fraction(0.5) == pytest.approx(100.0)
    assert m.time_at_fraction(0.9) == pytest.approx(180.0)
    assert m.clamp_time(-5) == 0.0 and m.clamp_time(500) == pytest.approx(199.95)
    assert model(fps=None).frame_time == 0.04 and model(fps=5000).frame_time == 0.04
    live = model(duration=None)
    live.playhead = 7.0
    assert live.last_moment == 7.0 and live.time_at_fraction(0.5) == 7.0


def test_seek_throttle_coalesces_until_a_picture_arrives():
    clock = FakeClock()
    th = SeekThrottle(clock, patience=0.5)
    assert th.request(10.0) == 10.0  # nothing in flight: at once
    assert th.request(20.0) is None and th.request(30.0) is None  # queued, newest wins
    assert th.poll() is None  # the first is still in flight
    th.arrived()
    assert th.poll() == 30.0 and th.poll() is None  # 20 was never decoded
    assert th.request(40.0) is None  # 30 is in flight now
    clock.t += 0.6  # its picture never came (e.g. past the end): stop waiting
    assert th.poll() == 40.0
    th.arrived()
    assert th.request(50.0) == 50.0 and th.queued is None


@pytest.mark.parametrize(
    ("size", "screen", "want"),
    [
        ((1280, 720), (1600, 1000), (1280, 720)),  # fits: unchanged
        ((1920, 1080), (1600, 1000), (1600, 900)),  # too wide: aspect kept
        ((1000, 2000), (1600, 1000), (500, 1000)),  # too tall
        ((1920, 1080), (1920, 1080), (1920, 1080)),
        ((1920, 1080), None, (1920, 1080)),  # no screen known
    ],
)
def test_fit_window(size, screen, want):
    got = fit_window(size, screen)
    assert got == want
    if screen:
        assert got[0] <= screen[0] and got[1] <= screen[1]


def filled(n: int) -> Spectrum:
    s = spectrum()
    for i in range(n):
        s.add(strip(i))
    return s


def test_snapshot_is_a_copy_later_strips_do_not_change():
    s = filled(5)
    snap = snapshot_of(s, checkpoint=True)
    s.add(strip(6))
    s.settings["height"] = 10
    assert len(snap) == 5 and snap.settings["height"] == 400
    assert snap.partial and snap.settings["checkpoint"] and not s.partial
    assert "checkpoint" not in s.settings
    # An S snapshot is partial while slots are missing (or provisional), whole after.
    assert snapshot_of(s).partial
    whole = filled(100)
    assert not snapshot_of(whole).partial
    whole.add(dataclasses.replace(strip(7), provisional=True))  # never replaces an exact one
    assert not snapshot_of(whole).partial


def test_checkpointer_saves_when_due_and_only_if_something_is_new(tmp_path):
    clock = FakeClock()
    s = filled(3)
    saver = Saver()
    out = tmp_path / "c.png"
    cp = Checkpointer(s, out, 30.0, saver, clock=clock)
    assert not cp.poll()  # not due yet
    clock.t += 30
    assert cp.poll()
    saver.close()
    assert cp.saved == 1 and cp.error is None
    assert find_checkpoint(out) == 3
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["partial"] is True
    saver = cp.saver = Saver()
    clock.t += 30
    assert not cp.poll()  # nothing new since
    s.add(strip(3))
    assert cp.poll()
    saver.close()
    assert find_checkpoint(out) == 4
    assert not Checkpointer(s, out, 0, saver, clock=clock).poll()  # 0: never


def test_saver_reports_a_failed_save_and_carries_on(tmp_path):
    saver = Saver()
    got: list[tuple] = []
    done = threading.Event()

    def note(png, err):
        got.append((png, err))
        if len(got) == 2:
            done.set()

    saver.submit(filled(2), tmp_path / "no-such-dir" / "x.png", note)
    saver.submit(filled(2), tmp_path / "ok.png", note)
    assert done.wait(60)
    saver.close()
    assert got[0][0] is None and got[0][1]
    assert got[1] == (tmp_path / "ok.png", None)


def test_a_checkpoint_is_found_and_set_aside_never_overwritten(tmp_path):
    out = tmp_path / "film.png"
    assert find_checkpoint(out) is None
    filled(4).save(out)
    assert find_checkpoint(out) is None  # a finished save is not a checkpoint
    snapshot_of(filled(4), checkpoint=True).save(out)
    assert find_checkpoint(out) == 4
    (tmp_path / "film-interrupted.png").write_bytes(b"older")  # taken: not overwritten
    kept = set_aside(out)
    assert kept == tmp_path / "film-interrupted-2.png"
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert (tmp_path / "film-interrupted.png").read_bytes() == b"older"
    back = Spectrum.load(kept)
    assert len(back) == 4 and back.partial
    np.testing.assert_array_equal(back.strips[0].palette, strip(0).palette)
    out.with_suffix(".json").write_text("{not json")
    assert find_checkpoint(out) is None
