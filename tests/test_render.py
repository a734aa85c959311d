"""`streamspec render` and the library API: output files, and every bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import subprocess_env
from PIL import Image
from videos import colour_film, make_video, mean_colour

import streamspec
from streamspec.cli import main
from streamspec.outputs.spectrum import Spectrum

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [30, 210, 210]]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("render")
    colour_film(d / "clip.mp4", seconds=10, colours=COLOURS, each=2.0, noise=30, gop=10, bframes=2)
    colour_film(d / "clip.mkv", seconds=10, colours=COLOURS, each=2.0, noise=40, gop=10)
    return d


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_render_writes_png_and_json(clips, tmp_path, capsys):
    out = tmp_path / "s.png"
    code, _stdout, stderr = run(
        ["render", clips / "clip.mp4", "-o", out, "--every", "1", "--height", "100", "-q"], capsys
    )
    assert code == 0, stderr
    img = Image.open(out)
    assert img.size == (10, 100) and img.mode == "RGB"
    assert "streamspec" in img.text["Software"] and "clip.mp4" in img.text["Source"]
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["format"] == "streamspec-spectrum" and data["partial"] is False
    assert data["settings"]["every"] == 1.0 and data["settings"]["k"] == 50
    assert len(data["strips"]) == 10
    for s in data["strips"]:
        assert s["time"] >= s["target"] - 1e-6
        assert sum(s["counts"]) > 0 and len(s["palette"]) == len(s["counts"])
    # The image is the strips, and the JSON alone redraws it exactly.
    redrawn = Spectrum.load(out.with_suffix(".json")).render_image()
    np.testing.assert_array_equal(np.asarray(redrawn), np.asarray(img))
    # Colours land in the right place in time.
    spec = Spectrum.load(out)
    for s in spec.strips:
        want = COLOURS[min(int(s.time // 2), 4)]
        assert np.abs(mean_colour(s) - want).max() < 15
    assert not list(tmp_path.glob(".*part"))


def test_every_mode_and_option(clips, tmp_path, capsys):
    for seek in ("exact", "fast", "keyframes"):
        out = tmp_path / f"{seek}.png"
        code, _, err = run(
            [
                "render",
                clips / "clip.mp4",
                "-o",
                out,
                "--strips",
                "7",
                "--seek",
                seek,
                "--order",
                "luma",
                "--strip-width",
                "3",
                "--colours",
                "8",
                "--start",
                "0:01",
                "--end",
                "9",
                "-q",
            ],
            capsys,
        )
        assert code == 0, err
        assert Image.open(out).size == (21, 400)
        data = json.loads(out.with_suffix(".json").read_text())
        assert data["settings"]["seek"] == seek and len(data["strips"]) == 7
        assert all(len(s["palette"]) <= 8 for s in data["strips"])


def test_library_api(clips, tmp_path):
    spec = streamspec.render(clips / "clip.mp4", every=2.5, height=50)
    assert isinstance(spec, Spectrum) and len(spec.strips) == 4
    assert spec.image.size == (4, 50)
    png = spec._repr_png_()
    assert png.startswith(b"\x89PNG")
    a, b = spec.save(tmp_path / "api.png")
    assert a.exists() and b.exists()
    # Same seed, same strips.
    again = streamspec.render(clips / "clip.mp4", every=2.5, height=50)
    for x, y in zip(spec.strips, again.strips, strict=True):
        np.testing.assert_array_equal(x.palette, y.palette)
        np.testing.assert_array_equal(x.counts, y.counts)


@pytest.mark.slow
def test_demo_film_is_the_default(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["render", "--every", "6", "-q"], capsys)
    assert code == 0, err
    img = Image.open(tmp_path / "demo-spectrum.png")
    assert img.size == (30, 400)
    data = json.loads((tmp_path / "demo-spectrum.json").read_text())
    assert [c["title"] for c in data["chapters"]][:2] == ["Winter", "Spring"]
    assert data["settings"]["crop"] is not None  # the letterbox bars were found
    # A second run never overwrites the first.
    code, _stdout, err = run(["render", "--every", "6", "-q"], capsys)
    assert code == 0 and (tmp_path / "demo-spectrum-2.png").exists()


def test_odd_sources_render(tmp_path, capsys):
    cases = {
        "one.mkv": dict(codec="ffv1", pix_fmt="yuv444p", size=(1, 1)),
        "p10.mkv": dict(pix_fmt="yuv420p10le"),
        "gray.mkv": dict(codec="ffv1", pix_fmt="gray"),
        "rgba.mov": dict(codec="png", pix_fmt="rgba"),
    }
    for name, kw in cases.items():
        size = kw.pop("size", (64, 48))
        src = colour_film(tmp_path / name, seconds=3, colours=COLOURS, size=size, noise=0, **kw)
        out = tmp_path / f"{name}.png"
        code, _, err = run(["render", src, "--every", "1", "-o", out, "-q"], capsys)
        assert code == 0, (name, err)
        assert Image.open(out).size == (3, 400)


@pytest.mark.slow
def test_4k_source(tmp_path, capsys):
    src = colour_film(
        tmp_path / "4k.mp4", seconds=0.6, colours=COLOURS, each=0.2, size=(4096, 2160)
    )
    out = tmp_path / "4k.png"
    code, _, err = run(["render", src, "--every", "0.2", "-o", out, "-q"], capsys)
    assert code == 0, err
    data = json.loads(out.with_suffix(".json").read_text())
    w, h = data["settings"]["analysis_size"]
    assert abs(w * h - 480 * 270) < 1000 and abs(w / h - 4096 / 2160) < 0.01
    assert len(data["strips"]) == 3


def test_rotated_source_renders_upright(tmp_path, capsys):
    def paint(i, t):
        a = np.zeros((48, 64, 3), np.uint8)
        a[:, :32] = [250, 0, 0]
        a[:, 32:] = [0, 0, 250]
        return a

    src = make_video(tmp_path / "rot.mp4", paint, seconds=1, rotation=-90)
    out = tmp_path / "rot.png"
    code, _, err = run(
        ["render", src, "--every", "1", "--mode", "slitscan", "-o", out, "--height", "64", "-q"],
        capsys,
    )
    assert code == 0, err
    # Rotated clockwise, the left (red) half is on top: the centre column shows it.
    col = np.asarray(Image.open(out))[:, 0]
    assert col[5, 0] > 200 and col[-5, 2] > 200


def test_vfr_source(tmp_path, capsys):
    src = colour_film(
        tmp_path / "vfr.mkv",
        colours=COLOURS,
        noise=0,
        seconds=0,
        pts=[0, 100, 200, 1500, 1600, 2500, 3900, 4000, 4900],
    )
    out = tmp_path / "vfr.png"
    code, _, err = run(["render", src, "--every", "1", "-o", out, "-q"], capsys)
    assert code == 0, err
    data = json.loads(out.with_suffix(".json").read_text())
    assert [s["time"] for s in data["strips"]] == [0.0, 1.5, 2.5, 3.9, 4.0]


def test_truncated_file_renders_what_decodes_and_warns(clips, tmp_path, capsys):
    data = (clips / "clip.mkv").read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "cut.png"
    code, _stdout, err = run(["render", cut, "--every", "1", "-o", out, "-q"], capsys)
    assert code == 0
    assert "warning: the video ends early" in err
    assert "Traceback" not in err
    js = json.loads(out.with_suffix(".json").read_text())
    assert 3 <= len(js["strips"]) < 10 and js["warnings"]
    assert Image.open(out).size == (len(js["strips"]), 400)


def test_corrupt_middle_renders_and_reports_skipped(clips, tmp_path, capsys):
    data = bytearray((clips / "clip.mkv").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 3000] = np.random.default_rng(5).integers(0, 256, 3000, np.uint8).tobytes()
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(bytes(data))
    out = tmp_path / "bad.png"
    code, _stdout, err = run(["render", bad, "--every", "1", "-o", out, "-q"], capsys)
    assert code == 0
    js = json.loads(out.with_suffix(".json").read_text())
    assert js["skipped_frames"] > 0
    assert "skipped" in err and len(js["strips"]) >= 8


def _no_frames(path: Path) -> Path:
    """An MP4 whose video track has no samples at all."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
    return path


def _undecodable(path: Path, template: Path) -> Path:
    """An MKV with an H.264 track whose every packet is noise: no frame decodes."""
    with av.open(str(template)) as src, av.open(str(path), "w") as out:
        st = out.add_stream_from_template(src.streams.video[0])
        rng = np.random.default_rng(0)
        for i in range(30):
            p = av.Packet(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
            p.stream, p.pts, p.dts = st, i * 512, i * 512
            p.time_base = Fraction(1, 12800)
            out.mux(p)
    return path


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        st = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 44100
        for i in range(10):
            frame.pts = i * 1024
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty", "is empty"),
        ("text", "not a video FFmpeg can read"),
        ("audio", "has no video frames (audio only)"),
        ("no_frames", "has no video frames"),
        ("undecodable", "no decodable video frames"),
        ("every0", "--every must be greater than 0"),
        ("strips0", "--strips must be at least 1"),
        ("k0", "-k must be at least 1, got 0"),
        ("start_after_end", "must be before --end"),
        ("start_after_film", "after the end of the film"),
        ("bad_time", "expected seconds, MM:SS or HH:MM:SS"),
        ("bad_crop", "--crop must be auto, none or W:H:X:Y"),
        ("crop_too_big", "does not fit"),
        ("out_missing_dir", "does not exist"),
        ("out_readonly", "not writable"),
        ("webcam_absent", "streamspec devices"),
    ],
)
def test_bad_input(case, message, clips, tmp_path, capsys, monkeypatch):
    src: Path | str = clips / "clip.mp4"
    args: list[str] = []
    out = tmp_path / "o.png"
    if case == "missing":
        src = tmp_path / "missing.mp4"
    elif case == "directory":
        src = tmp_path
    elif case == "empty":
        src = tmp_path / "empty.mp4"
        src.write_bytes(b"")
    elif case == "text":
        src = tmp_path / "notes.mp4"
        src.write_text("this is not a video\n" * 50)
    elif case == "audio":
        src = _audio_only(tmp_path / "audio.m4a")
    elif case == "no_frames":
        src = _no_frames(tmp_path / "none.mp4")
    elif case == "undecodable":
        src = _undecodable(tmp_path / "noise.mkv", clips / "clip.mp4")
    elif case == "every0":
        args = ["--every", "0"]
    elif case == "strips0":
        args = ["--strips", "0"]
    elif case == "k0":
        args = ["-k", "0"]
    elif case == "start_after_end":
        args = ["--start", "5", "--end", "4"]
    elif case == "start_after_film":
        args = ["--start", "1:00"]
    elif case == "bad_time":
        args = ["--start", "1:xx"]
    elif case == "bad_crop":
        args = ["--crop", "wide"]
    elif case == "crop_too_big":
        args = ["--crop", "100:100:0:0"]
    elif case == "out_missing_dir":
        out = tmp_path / "nope" / "o.png"
    elif case == "out_readonly":
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out = ro / "o.png"
        if os.access(ro, os.W_OK):  # root: mode bits do not stop it; /proc does
            out = Path("/proc/streamspec-test.png")
    elif case == "webcam_absent":
        src = "webcam:97"
    if case.startswith("out_"):
        # The output is checked before the source is even opened.
        def boom(*a, **k):
            raise AssertionError("the source was opened before the output was checked")

        monkeypatch.setattr("streamspec.pipeline.rendering.open_source", boom)
    code, _stdout, err = run(["render", src, "-o", out, "-q", *args], capsys)
    assert code == 2, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists() and not out.with_suffix(".json").exists()


def _progress_then_signal(args: list[str], sig: int, tmp_path: Path) -> tuple[int, str]:
    """Start a render, wait until it has made a few strips, then send ``sig``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamspec", "render", *args, "--progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=subprocess_env(COLUMNS="80"),
    )
    assert proc.stderr is not None
    buf = b""
    deadline = time.monotonic() + 120
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline:
        chunk = proc.stderr.read() or b""
        buf += chunk
        counts = [int(x) for x in __import__("re").findall(rb"(\d+)strip", buf)]
        if counts and max(counts) >= 3:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, (buf + err).decode(errors="replace") + out.decode()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_saves_partial_spectrum(tmp_path, sig):
    out = tmp_path / "live.png"
    code, text = _progress_then_signal(
        ["lavfi:testsrc2=size=160x120:rate=25,realtime", "--every", "0.2", "-o", str(out)],
        sig,
        tmp_path,
    )
    assert code == 130, text
    assert "Traceback" not in text
    js = json.loads(out.with_suffix(".json").read_text())
    assert js["partial"] is True and len(js["strips"]) >= 3
    img = Image.open(out)
    img.load()
    assert img.size == (len(js["strips"]), 400)
    assert img.text["streamspec:partial"] == "yes"


def test_container_chapters_are_read_and_drawn(tmp_path, capsys):
    chapters = [(0.0, 2.0, "Dawn"), (2.0, 4.0, "Noon"), (4.0, 6.0, "Dusk")]
    src = colour_film(tmp_path / "ch.mkv", seconds=6, colours=COLOURS, each=2.0, chapters=chapters)
    out = tmp_path / "ch.png"
    code, _, err = run(
        ["render", src, "--every", "0.5", "-o", out, "--chapters", "auto", "--axis", "-q"], capsys
    )
    assert code == 0, err
    data = json.loads(out.with_suffix(".json").read_text())
    assert [(c["start"], c["title"]) for c in data["chapters"]] == [
        (0.0, "Dawn"),
        (2.0, "Noon"),
        (4.0, "Dusk"),
    ]
    assert data["settings"]["chapters"] == "auto"
    img = Image.open(out)
    assert img.size[0] == 12 and img.size[1] > 400  # the brackets and axis are under it


def test_chapters_file_and_segments_from_the_cli(clips, tmp_path, capsys):
    chap = tmp_path / "chapters.txt"
    chap.write_text("0:00 Red\n0:02 Green\n0:04 Blue\n0:06 Yellow\n0:08 Cyan\n")
    out = tmp_path / "cs.png"
    code, _, err = run(
        [
            "render",
            clips / "clip.mp4",
            "--every",
            "0.25",
            "-o",
            out,
            "--chapters",
            chap,
            "--segments",
            "auto",
            "-q",
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out.with_suffix(".json").read_text())
    assert [c["title"] for c in data["chapters"]] == ["Red", "Green", "Blue", "Yellow", "Cyan"]
    starts = [s["first_strip"] for s in data["segments"]]
    # Five colours, five segments, each starting within a strip of its colour change.
    assert len(starts) == 5, starts
    assert all(abs(s - t) <= 1 for s, t in zip(starts, (0, 8, 16, 24, 32), strict=True))
    bad = tmp_path / "bad.txt"
    bad.write_text("soon Red\n")
    code, _, err = run(
        ["render", clips / "clip.mp4", "-o", tmp_path / "x.png", "--chapters", bad, "-q"], capsys
    )
    assert code == 2 and "line 1" in err and len(err.strip().splitlines()) == 1
