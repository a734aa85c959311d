"""Inputs that are not quite ordinary films: broadcast captures, cover art, still images,
degenerate files, and sampling options finer than the frames."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from videos import noisy

import streamspec
from streamspec.cli import main
from streamspec.errors import InputError
from streamspec.sources import open_source, sample_frames

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
