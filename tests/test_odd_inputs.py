"""Inputs that are not quite ordinary films: broadcast captures, cover art, still images,
degenerate files, and sampling options finer than the frames."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from videos import colour_film, noisy

import streamspec
from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.media import open_source
from streamspec.pipeline.sampling import sample_frames

# Part of the generated bad-input suite: python -m pytest -m badinput
pytestmark = pytest.mark.badinput

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [30, 210, 210]]
SEEKS = ("exact", "fast", "keyframes")


def _ts(path: Path, gop: int, offset: str | None = None) -> Path:
    """A 4 s MPEG-TS (libx264, B-frames); ``offset`` shifts its timestamps (seconds)."""
    paint = noisy(COLOURS, 1.0)
    options = {"output_ts_offset": offset} if offset else {}
    with av.open(str(path), "w", format="mpegts", options=options) as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.codec_context.gop_size = gop
        st.options = {"preset": "ultrafast", "x264-params": "bframes=3:b-pyramid=normal"}
        for i in range(100):
            frame = av.VideoFrame.from_ndarray(paint(i, i / 25), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


@pytest.mark.parametrize(("offset", "gop"), [("100", 25), ("100", 250), (None, 250)])
@pytest.mark.parametrize("seek", SEEKS)
def test_transport_stream_renders_from_its_real_start(tmp_path, offset, gop, seek):
    """MPEG-TS has no index: a seek lands on any packet, often past the keyframe needed
    (with one keyframe in the file, past every keyframe: nothing could be sampled)."""
    path = _ts(tmp_path / "capture.ts", gop, offset)
    with av.open(str(path)) as c:  # the clip really starts at 100 s (or 1.4 s)
        assert c.streams.video[0].start_time * c.streams.video[0].time_base >= (99 if offset else 0)
    spec = streamspec.render(path, every=0.5, seek=seek, k=4, height=20)
    assert len(spec.strips) == spec.slots == 8
    assert spec.skipped_frames == 0 and not spec.warnings
    for s in spec.strips:
        assert s.target == pytest.approx(0.5 * s.index)
        if seek == "keyframes":
            keys = np.arange(0, 4, gop / 25)
            assert s.time == pytest.approx(keys[np.argmin(np.abs(keys - s.target))], abs=1e-6)
        else:
            assert s.target - 1e-6 <= s.time < s.target + 0.04 + 1e-6
    assert spec.strips[0].time == 0.0


def test_transport_stream_start_and_end(tmp_path):
    path = _ts(tmp_path / "capture.ts", 250, "100")
    with open_source(path) as src:
        samples = list(sample_frames(src, every=0.5, start=1.3, end=2.4))
    assert [round(s.target, 6) for s in samples] == [1.3, 1.8, 2.3]
    assert [round(s.time, 6) for s in samples] == [1.32, 1.8, 2.32]


def _cover_art(path: Path, with_video: bool = False) -> Path:
    """Audio (MP3, or AAC in MP4) with an attached picture; optionally a real video too."""
    mp3 = path.suffix == ".mp3"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("libmp3lame" if mp3 else "aac", rate=44100, layout="mono")
        video = None
        if with_video:
            video = out.add_stream("libx264", rate=25)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        cover = out.add_stream("mjpeg")
        cover.width, cover.height, cover.pix_fmt = 64, 48, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 200, np.uint8), format="rgb24")
        picture = picture.reformat(format="yuvj420p")
        picture.pts = 0
        for p in [*cover.encode(picture), *cover.encode()]:
            out.mux(p)
        n = 1152 if mp3 else 1024
        sound = av.AudioFrame.from_ndarray(
            np.zeros((1, n), np.float32), format="fltp", layout="mono"
        )
        sound.sample_rate = 44100
        for i in range(40):
            sound.pts = i * n
            for p in audio.encode(sound):
                out.mux(p)
        for p in audio.encode():
            out.mux(p)
        if video is not None:
            paint = noisy(COLOURS, 1.0)
            for i in range(50):
                frame = av.VideoFrame.from_ndarray(paint(i, i / 25), format="rgb24")
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = i, Fraction(1, 25)
                for p in video.encode(frame):
                    out.mux(p)
            for p in video.encode():
                out.mux(p)
    return path


def run(args: list[object], capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", ["song.mp3", "song.mp4"])
def test_cover_art_alone_is_refused_in_one_line(tmp_path, capsys, name):
    path = _cover_art(tmp_path / name)
    with av.open(str(path)) as c:
        assert c.streams.video[0].disposition & av.stream.Disposition.attached_pic
    out = tmp_path / "o.png"
    code, err = run(["render", path, "-o", out, "-q"], capsys)
    assert code == 2, err
    assert err.strip().endswith(f"{str(path)!r} has no video, only cover art"), err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    with pytest.raises(InputError, match="only cover art"):
        open_source(path)


def test_a_video_with_cover_art_renders_the_video(tmp_path):
    path = _cover_art(tmp_path / "film.mp4", with_video=True)
    spec = streamspec.render(path, every=0.5, k=4, height=20)
    assert spec.source["codec"] == "h264" and len(spec.strips) == spec.slots == 4


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "photo.webp", "photo.bmp"])
def test_still_image_points_to_quantize(tmp_path, capsys, name):
    from PIL import Image

    path = tmp_path / name
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(path)
    out = tmp_path / "o.png"
    code, err = run(["render", path, "-o", out, "-q"], capsys)
    assert code == 2, err
    assert f"{str(path)!r} is a still image, not a video; to reduce an image to K colours " in err
    assert "use 'streamspec quantize'" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_animated_images_are_videos(tmp_path):
    from PIL import Image

    frames = [Image.fromarray(np.full((48, 64, 3), c, np.uint8)) for c in COLOURS]
    for name in ("anim.gif", "anim.png"):
        path = tmp_path / name
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=500, loop=0)
        spec = streamspec.render(path, every=0.5, k=4, height=20)
        assert len(spec.strips) == 5, name


@pytest.fixture(scope="module")
def four_seconds(tmp_path_factory) -> Path:
    """4 s at 25 fps: 100 frames."""
    d = tmp_path_factory.mktemp("short")
    return colour_film(d / "four.mp4", seconds=4, colours=COLOURS, gop=25)


@pytest.mark.parametrize("seek", SEEKS)
def test_every_shorter_than_a_frame_samples_every_frame(four_seconds, tmp_path, capsys, seek):
    out = tmp_path / "o.png"
    code, err = run(
        ["render", four_seconds, "--every", "0.000001", "--seek", seek, "-o", out, "-q"], capsys
    )
    assert code == 0, err
    assert "--every 1e-06 is shorter than a frame (0.04 s at 25 fps): sampling every frame" in err
    spec = streamspec.Spectrum.load(out.with_suffix(".json"))
    assert spec.slots == len(spec.strips) == 100  # duration x fps
    assert spec.settings["every"] == pytest.approx(0.04)
    if seek != "keyframes":
        assert [round(s.time, 6) for s in spec.strips] == [round(i * 0.04, 6) for i in range(100)]


@pytest.mark.parametrize("seek", SEEKS)
def test_more_strips_than_frames_gives_one_per_frame(four_seconds, seek):
    spec = streamspec.render(four_seconds, strips=1000, seek=seek, k=2, height=10)
    assert spec.slots == len(spec.strips) == 100
    assert spec.warnings == [
        "--strips 1000 is more than the 100 frames in 4 s: one strip per frame"
    ]
    # Exactly one strip per frame: the last slot (centred on 3.98 s) is the last frame.
    spec = streamspec.render(four_seconds, strips=100, seek=seek, k=2, height=10)
    assert len(spec.strips) == 100 and not spec.warnings, spec.warnings
    if seek != "keyframes":  # the first frame at or after each slot's centre
        assert len({s.time for s in spec.strips}) == 99


def test_sample_frames_is_bounded_by_the_frames_too(four_seconds):
    with open_source(four_seconds) as src:
        assert len(list(sample_frames(src, every=1e-9))) == 100
    with open_source(four_seconds) as src:
        assert len(list(sample_frames(src, every=None, count=10**6, start=1.0, end=2.3))) == 33


@pytest.mark.parametrize(
    ("every", "count"),
    [
        (0, None),
        (-1.0, None),
        (float("nan"), None),
        (float("inf"), None),
        (None, None),
        ("2", None),
        (True, None),
        (None, 0),
        (None, 2.5),
    ],
)
def test_sample_times_refuses_bad_steps(every, count):
    from streamspec.pipeline.sampling import sample_times

    with pytest.raises(InputError):
        sample_times(0.0, 5.0, every, count)


def test_sample_times_refuses_a_zero_step_under_python_o():
    """It used to check with ``assert``: under ``python -O``, a zero step looped forever."""
    import subprocess
    import sys

    code = (
        "from streamspec.core.errors import InputError\n"
        "from streamspec.pipeline.sampling import sample_times\n"
        "try:\n    next(iter(sample_times(0.0, None, 0.0)))\n"
        "except InputError as e:\n    print('refused:', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.stdout.startswith("refused: every must be"), done.stdout + done.stderr


def test_a_pause_across_the_end_is_not_an_early_end(tmp_path):
    """Variable frame rate: a frame held from 1.2 s to 2.5 s, and --end 2.1 in between.
    The samples in the pause take the frame on screen, and nothing is 'ending early'."""
    pts = [i * 40 for i in range(31)] + [2500 + i * 40 for i in range(40)]
    path = colour_film(tmp_path / "pause.mkv", seconds=0, colours=COLOURS, pts=pts)
    for seek in SEEKS:
        spec = streamspec.render(path, every=0.3, end=2.1, seek=seek, k=2, height=10)
        assert len(spec.strips) == spec.slots == 7 and not spec.warnings, spec.warnings
        assert [round(s.time, 2) for s in spec.strips][-2:] == (
            [1.2, 1.2] if seek != "keyframes" else [s.time for s in spec.strips][-2:]
        )


def _raw_h264(path: Path) -> Path:
    """An H.264 elementary stream: no container, no timestamps, no index, no duration."""
    paint = noisy(COLOURS, 0.5)
    with av.open(str(path), "w", format="h264") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.options = {"preset": "ultrafast"}
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(paint(i, i / 25), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


@pytest.mark.parametrize("seek", ["exact", "fast"])
def test_raw_stream_without_timestamps_renders(tmp_path, capsys, seek):
    """Its demuxer cannot seek at all (EPERM): it used to be a traceback."""
    path = _raw_h264(tmp_path / "raw.h264")
    spec = streamspec.render(path, every=0.5, seek=seek, k=4, height=10)
    assert [s.time for s in spec.strips] == pytest.approx([0.0, 0.52, 1.0, 1.52])
    for s in spec.strips:  # the right pictures: colours change every 0.5 s
        want = np.array(COLOURS[min(int(s.time / 0.5), 4)], float)
        w = s.counts / s.counts.sum()
        assert np.abs((s.palette * w[:, None]).sum(axis=0) - want).max() < 20
    code, err = run(["render", path, "--strips", "5", "-o", tmp_path / "o.png", "-q"], capsys)
    assert code == 2 and "--strips needs a known duration" in err and str(path) in err


def test_unknown_codec_is_refused_in_one_line(tmp_path, capsys):
    clip = colour_film(tmp_path / "ok.mkv", seconds=1, colours=COLOURS)
    data = clip.read_bytes()
    assert b"V_MPEG4/ISO/AVC" in data
    odd = tmp_path / "odd.mkv"
    odd.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_QQQQQ/ISO/ZZZ", 1))
    code, err = run(["render", odd, "-o", tmp_path / "o.png", "-q"], capsys)
    assert code == 2, err
    assert err.strip().endswith("its video is in a format FFmpeg cannot decode"), err
    assert len(err.strip().splitlines()) == 1


def test_every_is_bounded_when_the_rate_is_unknown():
    from streamspec.media import DemoSource
    from streamspec.pipeline.rendering import Renderer

    src = DemoSource()
    src.info.fps = None  # as for a stream that declares no rate
    r = Renderer(src, every=1e-6, end=30.0)
    r.close()
    assert r.every == 0.001 and r.total == 30_000  # thirty seconds, one sample a ms
    assert r.spectrum.warnings == [
        "--every 1e-06 is shorter than 1 ms: sampling every 1 ms (the frame rate is unknown)"
    ]


# -- a header that claims more than the film has -------------------------------------------
def _claiming(path: Path, seconds: float, mkv: Path) -> Path:
    """A Matroska copy of ``path`` whose header claims ``seconds`` (its Duration element,
    in the segment's milliseconds, rewritten in place)."""
    import struct
    import subprocess

    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(path), "-c", "copy", str(mkv)],
        check=True,
    )
    data = bytearray(mkv.read_bytes())
    at = data.find(b"\x44\x89")  # Duration
    size = data[at + 2] & 0x7F
    assert data[at + 2] & 0x80 and size in (4, 8)
    data[at + 3 : at + 3 + size] = struct.pack(">d" if size == 8 else ">f", seconds * 1000)
    mkv.write_bytes(bytes(data))
    with av.open(str(mkv)) as c:
        assert c.duration / 1e6 == pytest.approx(seconds)
    return mkv


def test_a_claimed_duration_is_checked_against_the_packets(four_seconds, tmp_path, capsys):
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to remux the clip as Matroska")
    liar = _claiming(four_seconds, 100_000.0, tmp_path / "liar.mkv")
    with open_source(str(liar)) as src:
        assert src.info.duration == pytest.approx(4.0, abs=0.1)
        assert any("though its header says 27:46:40" in w for w in src.info.warnings)
    code, _ = run(["render", liar, "-o", tmp_path / "s.png", "-q"], capsys)
    assert code == 0
    spec = streamspec.Spectrum.load(tmp_path / "s.json")
    assert spec.slots is not None and spec.slots <= 100 and not spec.partial
    # The movie is the film's 4 s, not 100,000 s of its last frame.
    code, _ = run(["video", liar, "-o", tmp_path / "v.mp4", "--size", "320x180", "-q"], capsys)
    assert code == 0
    with av.open(str(tmp_path / "v.mp4")) as c:
        assert c.duration / 1e6 < 6.0


def test_an_honest_header_is_believed(four_seconds):
    with open_source(str(four_seconds)) as src:
        assert src.info.duration == pytest.approx(4.0, abs=0.05)
        assert not any("header says" in w for w in src.info.warnings)
