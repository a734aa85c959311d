"""``streamspec video``, ``play --record`` and ``render --html``: the movies decode, have
the right size, rate, length and sound, and show the strips the JSON holds."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import subprocess_env
from videos import beeps, colour_film, make_video, with_sound

from streamspec.analysis.strip import make_strip
from streamspec.cli import main
from streamspec.live.model import PANEL_BG, Layout
from streamspec.live.recorder import AudioSpec, Recorder
from streamspec.media import open_source
from streamspec.media.encode import Pcm
from streamspec.outputs.spectrum import Spectrum

# Two large flat blocks a picture, four pictures of 1.5 s: H.264 keeps flat colour.
PAIRS = [
    ((220, 30, 30), (30, 40, 220)),
    ((30, 200, 40), (240, 240, 240)),
    ((230, 220, 40), (20, 20, 20)),
    ((200, 60, 200), (40, 200, 200)),
]
SIZE = (320, 180)
FPS = 25
SECONDS = 6.0
RATE = 48_000


def blocks(i: int, t: float) -> np.ndarray:
    a, b = PAIRS[min(int(t // 1.5), len(PAIRS) - 1)]
    img = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
    img[:, :200] = a
    img[:, 200:] = b
    return img


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("video")
    picture = make_video(d / "picture.mp4", blocks, seconds=SECONDS, fps=FPS, size=SIZE)
    return with_sound(picture, d / "film.mp4", beeps(SECONDS, RATE), RATE)


def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def sound(path: Path) -> np.ndarray:
    """A file's first sound track as mono float32 at 48 kHz."""
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=RATE)
        parts = [g.to_ndarray()[0] for f in c.decode(audio=0) for g in resampler.resample(f)]
        parts += [g.to_ndarray()[0] for g in resampler.resample(None)]
    return np.concatenate(parts)


def best_lag(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    """The lag (samples) at which ``a`` best matches ``b``, and the normalised peak."""
    m = 1 << (len(a) + len(b)).bit_length()
    x = np.fft.irfft(np.fft.rfft(a, m) * np.conj(np.fft.rfft(b, m)), m)
    k = int(np.argmax(x))
    peak = float(x[k] / math.sqrt(float((a**2).sum() * (b**2).sum())))
    return (k - m if k > m // 2 else k), peak


def movie_facts(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        audio = [s.codec_context.name for s in c.streams.audio]
        return {
            "size": (v.width, v.height),
            "rate": v.average_rate,
            "frames": frames,
            "pix_fmt": v.codec_context.pix_fmt,
            "codec": v.codec_context.name,
            "audio": audio,
            "duration": c.duration / 1e6 if c.duration else None,
        }


# -- the movie ------------------------------------------------------------------------------
def test_movie_decodes_with_its_size_rate_length_and_sound(film, tmp_path, capsys):
    out = tmp_path / "building.mp4"
    code, text, err = run(["video", film, "-o", out, "--every", "0.5", "--size", "480x270"], capsys)
    assert code == 0, err
    assert "wrote" in text and "with sound" in text
    facts = movie_facts(out)
    assert facts["size"] == (480, 270)
    assert facts["rate"] == FPS
    assert facts["frames"] == round(SECONDS * FPS)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["audio"] == ["aac"]
    assert facts["duration"] == pytest.approx(SECONDS, abs=0.05)
    # The sound is the film's, in step with the picture.
    lag, peak = best_lag(sound(out), sound(film)[: round(SECONDS * RATE)])
    assert abs(lag) <= RATE * 0.002, f"sound is {lag / RATE * 1000:.1f} ms off"
    assert peak > 0.9
    # faststart: the index comes before the data
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (
        head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")
    )
    assert not list(tmp_path.glob(".*.part"))


def test_start_end_size_and_fps(film, tmp_path, capsys):
    out = tmp_path / "part.mp4"
    args = ["video", film, "-o", out, "--every", "0.5", "--start", "1", "--end", "4.5"]
    code, _, err = run([*args, "--size", "321x241", "--fps", "10", "--layout", "right"], capsys)
    assert code == 0, err
    facts = movie_facts(out)
    assert facts["size"] == (320, 240)  # rounded down to even
    assert facts["rate"] == 10
    assert facts["frames"] == 35
    assert facts["duration"] == pytest.approx(3.5, abs=0.11)
    lag, peak = best_lag(sound(out), sound(film)[RATE : round(4.5 * RATE)])
    assert abs(lag) <= RATE * 0.002 and peak > 0.9


def frame_at(path: Path, t: float) -> tuple[float, np.ndarray]:
    """The movie's picture at ``t`` s as sRGB, decoded by streamspec's own source (it
    reads the BT.709 tags)."""
    with open_source(str(path)) as src:
        for f in src.frames(0.0):
            if f.time >= t - 1e-6:
                return f.time, f.to_rgb()
    raise AssertionError(f"no frame at {t}")


def test_the_spectrum_in_the_movie_is_the_one_render_makes(film, tmp_path, capsys):
    spec_png = tmp_path / "spec.png"
    code, _, err = run(
        ["render", film, "-o", spec_png, "--every", "0.5", "--seek", "exact"], capsys
    )
    assert code == 0, err
    spectrum = Spectrum.load(spec_png.with_suffix(".json"))
    out = tmp_path / "m.mp4"
    size = (640, 360)
    code, _, err = run(["video", film, "-o", out, "--every", "0.5", "--size", "640x360"], capsys)
    assert code == 0, err
    panel = Layout.compute(*size, SIZE[0] / SIZE[1], "below").panel
    zoom = panel.w / spectrum.slots  # fit: the whole film across the panel
    look = spectrum.look
    t = 3.3  # slots 0..6 (sampled at 0, 0.5, .. 3.0) are shown; 7.. are not yet
    shown_at, rgb = frame_at(out, t)
    assert shown_at == pytest.approx(t, abs=0.03)
    checked = 0
    playhead_x = panel.x + (shown_at / 0.5) * zoom  # time is linear: slot i is [0.5i, 0.5i+0.5)
    for strip in spectrum.strips:
        x0 = panel.x + strip.index * zoom
        if x0 - 2 <= playhead_x <= x0 + zoom + 2:
            continue  # under the playhead line
        # The middle of the column (away from the playhead line and chroma edges).
        left, right = math.ceil(x0) + 3, math.floor(x0 + zoom) - 3
        got = rgb[panel.y : panel.y + panel.h, left:right].astype(float)
        if strip.time <= shown_at - 0.1:
            want = make_strip(
                strip.palette, strip.counts, panel.h, order=look.order, mode=look.mode
            ).astype(float)
            diff = np.abs(got - want[:, None, :]).mean()
            assert diff < 4.0, f"slot {strip.index}: mean difference {diff:.1f} levels"
            checked += 1
        elif strip.time > shown_at + 0.1:
            assert np.abs(got - np.array(PANEL_BG, float)).mean() < 3.0, (
                f"slot {strip.index} ({strip.time} s) shows before its time"
            )
    assert checked == 6  # slots 0..5; slot 6 (3.0-3.5 s) is under the playhead at 3.3 s


def test_film_without_sound_gives_a_silent_movie(tmp_path, capsys):
    picture = make_video(tmp_path / "mute.mp4", blocks, seconds=2, fps=FPS, size=SIZE)
    out = tmp_path / "silent.mp4"
    code, text, err = run(["video", picture, "-o", out, "--size", "320x180"], capsys)
    assert code == 0, err
    assert "silent" in text
    facts = movie_facts(out)
    assert facts["audio"] == [] and facts["frames"] == 2 * FPS


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_a_playable_movie_or_nothing(tmp_path, sig):
    colours = [c for pair in PAIRS for c in pair]
    long = colour_film(tmp_path / "long.mp4", seconds=20, colours=colours, each=3, size=SIZE)
    out = tmp_path / "cut.mp4"
    cmd = [sys.executable, "-m", "streamspec", "video", str(long), "-o", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--size", "640x360", "--preset", "medium", "-q"],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # Wait for some progress: the temp movie beside the output has grown.
    while time.monotonic() < deadline and proc.poll() is None:
        parts = list(tmp_path.glob(".cut.mp4.*.part"))
        if parts and parts[0].exists() and parts[0].stat().st_size > 50_000:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the movie was finished before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert not list(tmp_path.glob(".*.part"))
    assert out.exists(), "some frames were made: the movie of them must be there"
    facts = movie_facts(out)
    assert 0 < facts["frames"] < 20 * FPS
    assert "interrupted" in stdout
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "case",
    [
        "missing film",
        "unwritable output",
        "output is input",
        "bad extension",
        "size too small",
        "size too big",
        "live source",
    ],
)
def test_bad_input_is_one_line_and_exit_2(case, film, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    args = {
        "missing film": ["video", tmp_path / "nope.mp4", "-o", out],
        "unwritable output": ["video", film, "-o", tmp_path / "no" / "such" / "dir.mp4"],
        "output is input": ["video", film, "-o", film],
        "bad extension": ["video", film, "-o", tmp_path / "o.avi"],
        "size too small": ["video", film, "-o", out, "--size", "100x50"],
        "size too big": ["video", film, "-o", out, "--size", "8000x4000"],
        "live source": ["video", "lavfi:testsrc2=size=160x120:rate=25", "-o", out],
    }[case]
    before = film.stat().st_size
    code, _, err = run(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamspec")
    assert film.stat().st_size == before
    assert not out.exists() and not list(tmp_path.glob(".*.part"))


# -- the recorder ----------------------------------------------------------------------------
def test_recorder_takes_pushed_sound(tmp_path):
    tone = beeps(2.0, RATE)
    with Recorder(tmp_path / "r.mp4", (160, 120), 25, audio=AudioSpec(RATE, "stereo")) as r:
        for i in range(50):
            r.add_frame(np.full((120, 160, 3), (i * 5, 80, 160), np.uint8))
            chunk = tone[:, i * 1920 : (i + 1) * 1920].T  # (n, channels), interleaved
            r.add_audio(np.ascontiguousarray(chunk))
    facts = movie_facts(tmp_path / "r.mp4")
    assert facts["frames"] == 50 and facts["audio"] == ["aac"]
    lag, peak = best_lag(sound(tmp_path / "r.mp4"), tone.mean(axis=0))
    assert abs(lag) <= 0.002 * RATE and peak > 0.9


def test_recorder_places_sound_by_time(tmp_path):
    # Sound for 0-1 s and 2-3 s (a pause between): the hole is silence in the movie.
    tone = beeps(3.0, RATE, seed=3)
    with Recorder(tmp_path / "p.mp4", (160, 120), 25, audio=AudioSpec(RATE, "stereo")) as r:
        r.add_frame(np.zeros((120, 160, 3), np.uint8), 75)
        r.add_audio(np.ascontiguousarray(tone[:, :RATE].T), at=0.0)
        r.add_audio(np.ascontiguousarray(tone[:, 2 * RATE :].T), at=2.0)
        r.add_audio(np.ascontiguousarray(tone[:, 2 * RATE : 2 * RATE + 4800].T), at=2.0)  # late
    want = tone.mean(axis=0).copy()
    want[RATE : 2 * RATE] = 0
    got = sound(tmp_path / "p.mp4")
    assert len(got) == pytest.approx(3 * RATE, abs=1100)
    lag, peak = best_lag(got, want)
    assert abs(lag) <= 0.002 * RATE and peak > 0.9
    assert np.abs(got[RATE + 2000 : 2 * RATE - 2000]).max() < 0.01  # the pause is silent


@pytest.mark.parametrize("kind", ["blocks", "pyav frames"])
def test_recorder_pulls_sound_from_a_feed(tmp_path, kind):
    """A feed of planar sound blocks (what the film's decoder gives), or of PyAV audio
    frames as before blocks existed, is encoded in time with the picture, all through
    it (the feed runs 1 s longer than the 2 s picture)."""
    tone = beeps(3.0, RATE, seed=5).astype(np.float32)

    def feed():
        for i in range(0, tone.shape[1], 1000):
            block = Pcm(np.ascontiguousarray(tone[:, i : i + 1000]), "fltp", "stereo", RATE)
            yield block if kind == "blocks" else block.frame()

    out = tmp_path / "f.mp4"
    spec = AudioSpec(RATE, "stereo")
    with Recorder(out, (160, 120), 25, audio=spec, audio_feed=feed()) as r:
        r.add_frame(np.zeros((120, 160, 3), np.uint8), 50)
    got = sound(out)
    assert len(got) >= 2 * RATE - 1100
    lag, peak = best_lag(got[: 2 * RATE], tone.mean(axis=0)[: 2 * RATE])
    assert abs(lag) <= 0.002 * RATE and peak > 0.9


def test_recorder_without_frames_or_aborted_leaves_nothing(tmp_path):
    empty = Recorder(tmp_path / "empty.mp4", (160, 120), 25)
    assert empty.close() is None
    gone = Recorder(tmp_path / "gone.mp4", (160, 120), 25)
    gone.add_frame(np.zeros((120, 160, 3), np.uint8), 10)
    gone.abort()
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="even"):
        Recorder(tmp_path / "odd.mp4", (161, 120), 25)


def test_screen_recorder_paces_by_the_wall_clock(tmp_path):
    import pygame

    from streamspec.live.recorder import ScreenRecorder

    now = [0.0]
    rec = ScreenRecorder(tmp_path / "s.mp4", (161, 120), fps=10, clock=lambda: now[0])
    assert rec.size == (160, 120)
    screen = pygame.Surface((161, 120))  # a window of odd width: scaled to the movie's
    shown = [
        (0.0, (200, 30, 30)),
        (0.35, (30, 200, 30)),
        (0.36, (30, 30, 200)),
        (1.0, (240, 240, 40)),
    ]
    for t, colour in shown:
        now[0] = t
        screen.fill(colour)
        rec(screen)
    assert rec.close() == tmp_path / "s.mp4"
    with open_source(str(tmp_path / "s.mp4")) as src:
        got = [tuple(int(v) for v in f.to_rgb()[60, 80]) for f in src.frames(0.0)]
    # 0 s: one frame; 0.35 s: frames 1-3 (due by then); 0.36 s: none due, dropped;
    # 1.0 s: frames 4-10.
    want = [(200, 30, 30)] + [(30, 200, 30)] * 3 + [(240, 240, 40)] * 7
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert max(abs(a - b) for a, b in zip(g, w, strict=True)) <= 6, (got, want)


# -- play --record ---------------------------------------------------------------------------
@pytest.mark.slow
def test_play_record_writes_the_session(film, tmp_path):
    import pygame
    from test_live_window import Script, key

    from streamspec.live.app import play

    movie = tmp_path / "session.mp4"
    started = time.monotonic()
    script = Script(
        (lambda w: w.model.playhead > 1.0, key(pygame.K_SPACE)),  # pause ...
        (15, key(pygame.K_SPACE)),  # ... resume
        (lambda w: w.model.playhead > 2.0, lambda w: w.seek(4.5)),  # and seek
    )
    result = play(
        str(film),
        output=tmp_path / "s.png",
        size=(320, 240),
        exit_at_end=True,
        record=str(movie),
        on_tick=script,
        announce=lambda s: None,
    )
    took = time.monotonic() - started
    script.check()
    assert result.reason == "ended"
    facts = movie_facts(movie)
    assert facts["size"] == (320, 240) and facts["rate"] == 30
    seconds = facts["frames"] / 30
    # The whole session (its first flip to its last), not the film's length.
    assert 1.0 < seconds <= took + 0.5
    assert not list(tmp_path.glob(".*.part"))


def test_play_record_bad_output_fails_before_the_window(film, tmp_path, capsys):
    code, _, err = run(
        ["play", film, "-o", tmp_path / "s.png", "--record", tmp_path / "s.gif"], capsys
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run(["play", film, "-o", tmp_path / "s.png", "--record", film], capsys)
    assert code == 2 and "--record" in err


# -- render --html ---------------------------------------------------------------------------
def test_render_html_writes_the_page(film, tmp_path, capsys):
    from streamspec.outputs.page import write_page

    out = tmp_path / "r.png"
    code, text, err = run(["render", film, "-o", out, "--every", "0.5", "--html"], capsys)
    assert code == 0, err
    page = tmp_path / "r.html"
    assert f"wrote {page}" in text
    # The very page `streamspec page` writes from the saved JSON.
    again = write_page(out.with_suffix(".json"), tmp_path / "again.html")
    assert page.read_text() == again.read_text()
    data = json.loads(out.with_suffix(".json").read_text())
    assert f'"strips":{len(data["strips"])}' in page.read_text()
    code, _, err = run(
        ["render", film, "-o", tmp_path / "b.png", "--html", tmp_path / "b.txt"], capsys
    )
    assert code == 2 and "--html" in err and not (tmp_path / "b.png").exists()
