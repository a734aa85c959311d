"""The film's sound in ``play``: the media clocks (injected time), the audio player driven
buffer by buffer as SDL would (real decoding, no device, no wall-clock limits), and whole
sessions headless with SDL's ``disk`` driver recording what is played."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import subprocess_env
from videos import make_film

from streamspec.core.errors import InputError
from streamspec.core.options import ViewOptions
from streamspec.live.clock import SPEEDS, AudioTimeline, MediaClock, next_speed
from streamspec.live.model import LiveModel

RATE = 48000
AUDIO_F32 = 0x8120  # SDL's AUDIO_F32LSB


class FakeTime:
    """A wall clock the test moves by hand."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# -- the video clock ---------------------------------------------------------------------
def test_media_clock_runs_with_speed_and_restarts_after_pause_and_seek():
    now = FakeTime()
    c = MediaClock(now)
    assert not c.started and c.time() is None
    c.start(5.0)
    now.t += 2.0
    assert c.time() == pytest.approx(7.0)
    c.set_speed(2.0)  # no jump, then twice as fast
    assert c.time() == pytest.approx(7.0)
    now.t += 1.0
    assert c.time() == pytest.approx(9.0)
    c.set_paused(True)
    assert c.time() is None  # the picture on screen restarts it on resume
    c.start(9.0)
    c.hold(9.5)  # not ahead of the hold: unchanged
    now.t += 1.0
    c.hold(10.5)  # 11.0 is past the held time
    assert c.time() == pytest.approx(10.5)
    c.seek(30.0)
    assert not c.started


def test_speed_steps():
    assert SPEEDS == (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    assert next_speed(1.0, 1) == 1.25 and next_speed(1.0, -1) == 0.75
    assert next_speed(2.0, 1) == 2.0 and next_speed(0.5, -1) == 0.5
    assert next_speed(1.1, 1) == 1.25  # from between steps to the next one


# -- the audio clock ---------------------------------------------------------------------
def test_audio_timeline_interpolates_between_callbacks_and_waits_on_an_underrun():
    now = FakeTime()
    tl = AudioTimeline(now=now)
    tl.reset(10.0)
    assert tl.time() == 10.0  # held at the start until sound is handed over
    tl.delivered(100.0, 10.0, 0.04, 1.0)
    now.t = 100.02
    assert tl.time() == pytest.approx(10.02)
    tl.delivered(100.04, 10.04, 0.01, 1.0)  # only 10 ms of film audio: an underrun
    now.t = 100.1
    assert tl.time() == pytest.approx(10.05)  # waits at the end of what was handed over
    tl.drained = True  # the end of the sound: the clock runs on with the wall
    assert tl.time() == pytest.approx(10.04 + 0.06)


def test_audio_timeline_latency_tempo_pause():
    now = FakeTime()
    tl = AudioTimeline(latency=0.08, now=now)
    tl.reset(0.0)
    tl.delivered(100.0, 0.0, 0.04, 2.0)  # at 2x, 40 ms of device time is 80 ms of film
    tl.delivered(100.04, 0.08, 0.04, 2.0)
    now.t = 100.05
    assert tl.time() == 0.0  # handed over, not heard yet: two buffers of latency
    now.t = 100.1
    assert tl.time() == pytest.approx(0.04)
    tl.pause()
    now.t = 105.0
    assert tl.paused and tl.time() == pytest.approx(0.04)
    tl.resume()
    assert not tl.paused and tl.time() == pytest.approx(0.04)
    tl.delivered(105.01, 0.04, 0.04, 2.0)
    now.t = 105.01 + 0.08 + 0.02
    assert tl.time() == pytest.approx(0.08)


def test_drained_without_any_sound_runs_from_release():
    now = FakeTime()
    tl = AudioTimeline(now=now)
    tl.reset(50.0)
    tl.drained = True
    now.t += 1.0
    assert tl.time() == 50.0  # not released yet
    tl.run()
    now.t += 0.5
    assert tl.time() == pytest.approx(50.5)


def test_status_line_shows_volume_mute_and_speed():
    from test_live_model import spectrum

    m = LiveModel(spectrum(), duration=200.0, aspect=16 / 9)
    assert "vol" not in m.hud_text() and "speed" not in m.hud_text()
    m.volume, m.speed = 80, 1.5
    assert "vol 80%" in m.hud_text() and "speed 1.5x" in m.hud_text()
    m.muted = True
    assert "muted" in m.hud_text() and "vol" not in m.hud_text()


def test_view_options():
    v = ViewOptions()
    assert v.audio and v.audio_track is None and v.volume == 100
    for bad in ({"volume": 151}, {"volume": -1}, {"audio_track": 0}):
        with pytest.raises(InputError):
            ViewOptions(**bad)


# -- the player, driven buffer by buffer --------------------------------------------------
@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    return make_film(tmp_path_factory.mktemp("a") / "beeps.mp4", seconds=8.0, every=2.0, first=1.0)


def source_beeps(path: Path) -> np.ndarray:
    """Onset times (s) of the beeps in a file's decoded audio."""
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        x = np.concatenate([f.to_ndarray()[0] for f in c.decode(s)])
        return onsets(x, s.rate)


def onsets(x: np.ndarray, rate: int, level: float = 0.05) -> np.ndarray:
    """Start times (s) of bursts louder than ``level`` (gaps of >= 0.5 s between them)."""
    idx = np.flatnonzero(np.abs(x) > level)
    if not len(idx):
        return np.array([])
    return idx[np.r_[True, np.diff(idx) > rate // 2]] / rate


class Driven:
    """An AudioPlayer without a device: the test calls its callback as SDL would, one
    40 ms buffer at a time, at fake wall times, and keeps what it handed over."""

    def __init__(
        self, path: Path, now: FakeTime, start: float = 0.0, end: float | None = None
    ) -> None:
        from streamspec.live.audio import AudioPlayer, audio_track

        self.warnings: list[str] = []
        index = audio_track(str(path), None)
        assert index is not None
        self.p = AudioPlayer(str(path), index, end=end, announce=self.warnings.append, now=now)
        assert self.p.set_format(RATE, 2, AUDIO_F32)
        self.now = now
        self.p.start(start)
        self.out: list[np.ndarray] = []
        self.times: list[float] = []  # the clock's reading at each buffer's first sample

    def wait_queued(self) -> None:
        """Until the decoder filled the queue (or ended): no wall-clock limit here."""
        ev = threading.Event()
        while not ev.wait(0.01):
            with self.p._cond:
                if self.p._queued >= 0.3 * RATE or self.p._eof:
                    return

    def play(self, seconds: float) -> np.ndarray:
        n = round(0.04 * RATE)
        got = []
        for _ in range(round(seconds / 0.04)):
            self.wait_queued()
            buf = bytearray(n * 2 * 4)
            self.p.callback(None, memoryview(buf))
            self.times.append(self.p.time())
            self.now.t += 0.04
            got.append(np.frombuffer(bytes(buf), np.float32).reshape(-1, 2)[:, 0])
        x = np.concatenate(got)
        self.out.append(x)
        return x

    def close(self) -> None:
        self.p.close()


def test_player_plays_the_source_and_its_clock_tells_what_is_heard(film):
    now = FakeTime()
    d = Driven(film, now)
    try:
        assert d.play(0.2).max() == 0  # held: silence until the first picture is up
        assert d.p.time() == 0.0
        d.p.release()
        x = d.play(5.0)
        beeps = onsets(x, RATE)
        assert np.allclose(np.diff(beeps), 2.0, atol=0.002)
        # The clock read at each buffer is the media time of its first sample.
        first = int(beeps[0] * RATE) // 1920
        assert d.times[5 + first] == pytest.approx(first * 0.04, abs=1e-6)
        # And the samples are the source's: correlation with the decoded file.
        with av.open(str(film)) as c:
            src = np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])
        assert best_correlation(x, round(beeps[0] * RATE), src, RATE) > 0.99
        assert np.ptp(x) > 0.9
    finally:
        d.close()


def test_seek_keeps_sound_and_clock_together(film):
    now = FakeTime()
    d = Driven(film, now)
    try:
        d.p.release()
        d.play(0.5)
        d.p.seek(2.3)  # the next beep is at 3.0
        assert d.p.time() == pytest.approx(2.3)
        silent = d.play(0.12)
        assert silent.max() == 0  # held until the picture at 2.3 is up
        d.p.release()
        x = d.play(1.5)
        (beep,) = onsets(x, RATE)[:1]
        clock = d.times[len(d.times) - len(x) // 1920 + int(beep * RATE) // 1920]
        # The clock says 3.0 when the beep at 3.0 is heard: within one buffer.
        assert abs(clock - 3.0) <= 0.04
    finally:
        d.close()


def test_mute_volume_and_speed_change_what_is_played(film):
    now = FakeTime()
    d = Driven(film, now)
    try:
        d.p.release()
        full = np.abs(d.play(2.2)).max()
        d.p.seek(0.0, hold=False)
        d.p.volume = 50
        half = np.abs(d.play(2.2)).max()
        assert half == pytest.approx(full / 2, rel=0.02)
        d.p.muted = True
        assert np.abs(d.play(1.0)).max() == 0
        d.p.muted = False
        d.p.volume = 100
        d.p.seek(0.0, hold=False)
        d.p.set_speed(2.0)
        t0 = d.p.time()
        x = d.play(2.2)  # 4.4 s of the film in 2.2 s
        spacing = np.diff(onsets(x, RATE))
        assert np.allclose(spacing, 1.0, atol=0.01)
        assert d.p.time() - t0 == pytest.approx(4.4, abs=0.05)
        # atempo keeps the pitch: still a 1 kHz tone.
        i = int(onsets(x, RATE)[0] * RATE)
        seg = x[i + 200 : i + 200 + 1024]
        peak = np.argmax(np.abs(np.fft.rfft(seg * np.hanning(len(seg))))) * RATE / len(seg)
        assert abs(peak - 1000) < 60
    finally:
        d.close()


def test_pause_freezes_the_clock_and_plays_silence(film):
    now = FakeTime()
    d = Driven(film, now)
    try:
        d.p.release()
        d.play(1.0)
        t = d.p.time()
        d.p.set_paused(True)
        assert d.play(0.5).max() == 0
        assert d.p.time() == pytest.approx(t)
        d.p.set_paused(False)
        d.play(0.5)
        assert d.p.time() == pytest.approx(t + 0.5, abs=0.041)
    finally:
        d.close()


def test_missing_track_is_an_input_error(film, tmp_path):
    from streamspec.live.audio import audio_track

    assert audio_track(str(film), 1) is not None
    with pytest.raises(InputError, match="the film has 1 audio track"):
        audio_track(str(film), 2)
    silent = make_film(tmp_path / "silent.mp4", seconds=1.0, layout=None)
    assert audio_track(str(silent), None) is None


# -- whole sessions, headless, recorded by SDL's disk driver ------------------------------
def play(path: Path, out: Path, *extra: str, driver: str = "disk", rec: Path | None = None):
    env = subprocess_env(SDL_AUDIODRIVER=driver, SDL_DISKAUDIOFILE=str(rec or out) + ".raw")
    cmd = [sys.executable, "-m", "streamspec", "play", str(path), "-o", str(out)]
    cmd += ["--exit-at-end", "--every", "1", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)


def recorded(out: Path) -> np.ndarray:
    return np.fromfile(str(out) + ".raw", np.float32).reshape(-1, 2)[:, 0]


@pytest.mark.slow
def test_session_records_the_films_beeps(film, tmp_path):
    out = tmp_path / "s.png"
    r = play(film, out)
    assert r.returncode == 0, r.stderr
    assert out.exists() and "sound:" not in r.stdout
    x = recorded(out)
    got = onsets(x, RATE)
    want = source_beeps(film)
    assert len(got) == len(want) == 4
    # The spacing is the source's (a sample's accuracy), and so is the waveform.
    assert np.allclose(np.diff(got), np.diff(want), atol=0.002)
    with av.open(str(film)) as c:
        src = np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])
    assert best_correlation(x, round(got[0] * RATE), src, round(want[0] * RATE)) > 0.99


def best_correlation(x: np.ndarray, i: int, y: np.ndarray, j: int, n: int = 5 * RATE) -> float:
    """The waveforms' correlation from x[i] and y[j] on, at the best lag within 1 ms
    (an onset is found within a sample or two)."""
    n = min(n, len(x) - i - 48, len(y) - j - 48)
    return max(np.corrcoef(x[i + k : i + k + n], y[j : j + n])[0, 1] for k in range(-48, 49))


@pytest.mark.slow
def test_session_volume(film, tmp_path):
    loud = play(film, tmp_path / "a.png", "--volume", "100")
    soft = play(film, tmp_path / "b.png", "--volume", "25")
    assert loud.returncode == soft.returncode == 0, loud.stderr + soft.stderr
    ratio = np.abs(recorded(tmp_path / "b.png")).max() / np.abs(recorded(tmp_path / "a.png")).max()
    assert ratio == pytest.approx(0.25, rel=0.02)


def damage_audio(path: Path, dest: Path) -> Path:
    """A copy with the audio packets of the second half overwritten with noise."""
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        packets = [(p.pos, p.size) for p in c.demux(s) if p.pos is not None and p.size > 16]
    rng = np.random.default_rng(1)
    for pos, size in packets[len(packets) // 2 :]:
        data[pos + 4 : pos + size] = rng.integers(0, 256, size - 4, np.uint8).tobytes()
    dest.write_bytes(bytes(data))
    return dest


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["silent", "5.1", "mono-8k", "corrupt", "no-audio", "no-device", "dummy"]
)
def test_sessions_play_cleanly_and_save(case, tmp_path):
    path = tmp_path / "f.mp4"
    kw: dict = {"seconds": 3.5, "first": 0.5}
    extra: tuple[str, ...] = ()
    driver = "disk"
    if case == "silent":
        kw["layout"] = None
    elif case == "5.1":
        kw["layout"] = "5.1"
    elif case == "mono-8k":
        kw.update(layout="mono", rate=8000, tone=500.0)
    elif case == "no-audio":
        extra = ("--no-audio",)
    elif case == "no-device":
        driver = "no-such-driver"
    elif case == "dummy":
        driver = "dummy"
    make_film(path, **kw)
    if case == "corrupt":
        path = damage_audio(path, tmp_path / "damaged.mp4")
    out = tmp_path / "s.png"
    r = play(path, out, *extra, driver=driver)
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.with_suffix(".json").exists()
    assert "Traceback" not in r.stderr
    warnings = [line for line in r.stdout.splitlines() if line.startswith("sound:")]
    raw = Path(str(out) + ".raw")
    if case in ("silent", "no-audio"):
        assert not warnings and not raw.exists()  # no device opened at all
    elif case in ("no-device", "dummy"):
        assert len(warnings) == 1 and "playing silent" in warnings[0]
    elif case == "corrupt":
        assert len(warnings) == 1 and "damaged audio" in warnings[0]
        x = recorded(out)
        assert len(onsets(x, RATE)) >= 1  # the first half's beeps were heard
    else:
        assert not warnings
        x = recorded(out)
        assert np.allclose(np.diff(onsets(x, RATE)), 2.0, atol=0.003)


@pytest.mark.slow
def test_a_missing_audio_track_is_one_line_and_exit_2(film, tmp_path):
    r = play(film, tmp_path / "s.png", "--audio-track", "3", driver="dummy")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "--audio-track" in r.stderr and "1 audio track" in r.stderr


def test_the_sound_stops_where_the_pictures_do(film):
    """``--end``: no sound past it; the clock then runs on with the wall."""
    now = FakeTime()
    d = Driven(film, now, end=2.5)
    try:
        d.p.release()
        x = d.play(4.0)
        assert len(onsets(x, RATE)) == 1  # the beep at 1.0; not the one at 3.0
        assert d.p.timeline.drained
        assert d.times[-1] == pytest.approx(3.96, abs=0.05)
    finally:
        d.close()


def test_sound_keys_in_the_window(film, tmp_path, monkeypatch):
    """M, Up/Down, [ ] and Backspace in a real window with a real (disk) device: the
    player, the clock and the status line follow."""
    import pygame
    from test_live_window import Script, key

    from streamspec.live.app import play as play_in_process
    from streamspec.live.audio import AudioClock

    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")  # read when the sound starts
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(tmp_path / "rec.raw"))
    seen: dict = {}

    def look(w) -> None:
        seen.update(clock=w.clock, volume=w.audio.volume, muted=w.audio.muted, tempo=w.audio._tempo)
        seen["hud"] = w.model.hud_text()

    def speed_back(w) -> None:
        seen["reset"] = (w.model.speed, w.clock.speed)

    script = Script(
        (lambda w: w.model.stats.frames_shown > 0, key(pygame.K_UP)),
        (1, key(pygame.K_UP)),
        (1, key(pygame.K_m)),
        (1, key(pygame.K_RIGHTBRACKET)),
        (1, key(pygame.K_RIGHTBRACKET)),
        (2, look),
        (1, key(pygame.K_BACKSPACE)),
        (2, speed_back),
        (1, key(pygame.K_DOWN)),
        (2, lambda w: pygame.event.post(pygame.event.Event(pygame.QUIT))),
    )
    messages: list[str] = []
    result = play_in_process(
        str(film), every=1.0, output=tmp_path / "s.png", on_tick=script, announce=messages.append
    )
    script.check()
    assert result.png is not None and result.png.exists()
    assert isinstance(seen["clock"], AudioClock), messages
    assert (seen["volume"], seen["muted"], seen["tempo"]) == (120, True, 1.5)
    assert "muted" in seen["hud"] and "speed 1.5x" in seen["hud"]
    assert seen["reset"] == (1.0, 1.0)
    m = result.model
    assert m is not None and (m.volume, m.muted) == (110, False)  # Down unmutes too
    assert "vol 110%" in m.hud_text()


@pytest.mark.parametrize("tempo", [0.5, 1.5, 2.0])
def test_at_other_speeds_the_clock_still_tells_what_is_heard(film, tempo):
    """atempo sounds half its window ahead of its sample count; the labels allow for it:
    each beep is heard when the clock reads its time (within 15 ms of film)."""
    now = FakeTime()
    d = Driven(film, now)
    try:
        d.p.release()
        d.p.set_speed(tempo)
        x = d.play(5.0 / tempo)
        heard = []
        for i in (onsets(x, RATE) * RATE).astype(int):
            heard.append(d.times[i // 1920] + (i % 1920) / RATE * tempo)
        assert len(heard) >= 2
        assert np.allclose(heard, np.round(heard), atol=0.015), heard
    finally:
        d.close()


@pytest.mark.slow
def test_record_keeps_the_sound_heard_in_step_with_the_pictures(film, tmp_path):
    """play --record with a (disk) sound device: the movie's sound track holds the
    film's beeps, each within a few movie frames of its flash on screen."""
    out, movie = tmp_path / "r.png", tmp_path / "r.mp4"
    r = play(film, out, "--record", str(movie), "--size", "320x240")
    assert r.returncode == 0, r.stderr
    assert "sound:" not in r.stdout
    with av.open(str(movie)) as c:
        assert c.streams.audio, "the recording has a sound track"
        v = c.streams.video[0]
        flashes, prev = [], False
        for f in c.decode(v):
            rgb = f.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            bright = rgb[h // 8 : h // 3, w // 3 : 2 * w // 3].mean() > 128  # the picture
            if bright and not prev:
                flashes.append(float(f.time))
            prev = bright
    with av.open(str(movie)) as c:
        a = c.streams.audio[0]
        x = np.concatenate([f.to_ndarray()[0] for f in c.decode(a)])
        start = float(a.start_time * a.time_base) if a.start_time is not None else 0.0
        beeps = onsets(x, a.rate) + start
    assert len(flashes) == len(beeps) == 4, (flashes, beeps)
    # A picture is shown at the window's next frame and recorded at 30 fps: a few
    # movie frames at most between a flash and its beep.
    assert np.abs(np.array(flashes) - beeps).max() < 0.12, (flashes, beeps)
