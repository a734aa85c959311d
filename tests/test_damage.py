"""Damage reports: clean files of every kind report none; packets really lost are counted.

A warning about damage must mean damage. Each clean clip below is rendered in the three
decoding modes and must report zero skipped frames; a clip with packets removed from the
middle must report about as many as were removed, and still render.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from videos import colour_film, make_video, noisy

import streamspec
from streamspec.media import open_source
from streamspec.media.damage import GapCounter as _GapCounter
from streamspec.pipeline.sampling import sample_frames

# Part of the generated bad-input suite: python -m pytest -m badinput
pytestmark = pytest.mark.badinput

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [30, 210, 210]]
SEEKS = ("exact", "fast", "keyframes")
# B-pyramids: packets arrive far out of presentation order.
PYRAMID = {"x264-params": "bframes=3:b-pyramid=normal"}
# Mostly 25 fps, with a few irregular steps (a pause, a stutter): variable frame rate.
_ODD_STEPS = {30: 1300, 70: 517, 71: 230, 90: 1000}
VFR_PTS = [sum(_ODD_STEPS.get(i, 40) for i in range(n)) for n in range(120)]


def _two_streams(path: Path) -> Path:
    """An MKV with two video streams (the first is the one rendered)."""
    paint = noisy(COLOURS, 1.0)
    with av.open(str(path), "w") as out:
        streams = [out.add_stream("libx264", rate=25) for _ in range(2)]
        for st in streams:
            st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
            st.options = {"preset": "ultrafast", **PYRAMID}
        for i in range(100):
            for st in streams:
                frame = av.VideoFrame.from_ndarray(paint(i, i / 25), format="rgb24")
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = i, Fraction(1, 25)
                for p in st.encode(frame):
                    out.mux(p)
        for st in streams:
            for p in st.encode():
                out.mux(p)
    return path


def _black(i: int, t: float) -> np.ndarray:
    return np.zeros((120, 160, 3), np.uint8)


# name -> how to make it (in a directory)
CLEAN: dict[str, Callable[[Path], Path]] = {
    "x264_pyramid.mp4": lambda d: colour_film(
        d / "x264_pyramid.mp4", seconds=4, colours=COLOURS, size=(160, 120), gop=50, options=PYRAMID
    ),
    "hevc.mkv": lambda d: colour_film(
        d / "hevc.mkv",
        seconds=4,
        colours=COLOURS,
        size=(160, 120),
        gop=25,
        codec="libx265",
        options={"x265-params": "log-level=error"},
    ),
    "vp9.webm": lambda d: colour_film(
        d / "vp9.webm", seconds=4, colours=COLOURS, gop=25, codec="libvpx-vp9"
    ),
    "mpeg4.avi": lambda d: colour_film(
        d / "mpeg4.avi", seconds=4, colours=COLOURS, gop=25, codec="mpeg4"
    ),
    "mjpeg.mkv": lambda d: colour_film(
        d / "mjpeg.mkv", seconds=3, colours=COLOURS, codec="mjpeg", pix_fmt="yuvj420p"
    ),
    "ffv1.mkv": lambda d: colour_film(d / "ffv1.mkv", seconds=3, colours=COLOURS, codec="ffv1"),
    "vfr.mkv": lambda d: colour_film(
        d / "vfr.mkv", seconds=0, colours=COLOURS, pts=VFR_PTS, options=PYRAMID
    ),
    "vfr.mp4": lambda d: colour_film(
        d / "vfr.mp4", seconds=0, colours=COLOURS, pts=VFR_PTS, options=PYRAMID
    ),
    "rotated.mp4": lambda d: colour_film(
        d / "rotated.mp4", seconds=4, colours=COLOURS, rotation=90, options=PYRAMID
    ),
    "interlaced.mp4": lambda d: colour_film(
        d / "interlaced.mp4",
        seconds=4,
        colours=COLOURS,
        size=(160, 120),
        options={"x264-params": "bframes=3:b-pyramid=normal:interlaced=1:tff=1"},
    ),
    "two_streams.mkv": lambda d: _two_streams(d / "two_streams.mkv"),
    "black.mp4": lambda d: make_video(
        d / "black.mp4", _black, seconds=4, size=(160, 120), gop=50, options=PYRAMID
    ),
}
# The quick ones run always; the rest are marked slow.
QUICK = {"x264_pyramid.mp4", "hevc.mkv", "vfr.mkv", "black.mp4"}


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clean")


def _clip(directory: Path, name: str) -> Path:
    path = directory / name
    return path if path.exists() else CLEAN[name](directory)


@pytest.mark.parametrize(
    "name", [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in CLEAN]
)
@pytest.mark.parametrize("seek", SEEKS)
def test_clean_clips_report_no_damage(clean_dir, name, seek):
    path = _clip(clean_dir, name)
    spec = streamspec.render(path, every=0.5, seek=seek, k=4, height=20)
    assert spec.skipped_frames == 0, (name, seek)
    assert not spec.warnings, spec.warnings
    assert len(spec.strips) == spec.slots


@pytest.mark.parametrize("seek", SEEKS)
@pytest.mark.parametrize("end", [1.1, 2.3, 2.7])
def test_stopping_early_is_not_damage(clean_dir, seek, end):
    """--end mid-file leaves B-frames unread in the counter's reorder buffer."""
    path = _clip(clean_dir, "hevc.mkv")
    spec = streamspec.render(path, every=0.5, end=end, seek=seek, k=4, height=20)
    assert spec.skipped_frames == 0 and not spec.warnings, (end, seek, spec.warnings)


@pytest.mark.parametrize("seek", SEEKS)
def test_first_pass_without_crop_detection_is_not_damage(clean_dir, seek):
    """Opening a source decodes its first frame; the packets read for it count too."""
    path = _clip(clean_dir, "black.mp4")
    with open_source(path, mode=seek) as src:
        samples = list(sample_frames(src, every=1.0, mode=seek))
        assert src.errors == 0
    assert len(samples) == 4


def _drop_packets(src: Path, dst: Path, first: int, count: int) -> int:
    """Remux ``src`` to ``dst`` without ``count`` non-key packets from the ``first``-th on
    (a container that lost them without a trace: every packet left is intact)."""
    dropped = 0
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        st = out.add_stream_from_template(inp.streams.video[0])
        for i, packet in enumerate(inp.demux(inp.streams.video[0])):
            if packet.size == 0:
                continue
            if i >= first and dropped < count and not packet.is_keyframe:
                dropped += 1
                continue
            packet.stream = st
            out.mux(packet)
    return dropped


@pytest.mark.parametrize("suffix", [".mp4", pytest.param(".mkv", marks=pytest.mark.slow)])
def test_packets_lost_without_an_error_are_counted(tmp_path, suffix):
    clean = colour_film(
        tmp_path / f"clean{suffix}", seconds=6, colours=COLOURS, gop=50, options=PYRAMID
    )
    lossy = tmp_path / f"lossy{suffix}"
    assert _drop_packets(clean, lossy, 40, 10) == 10
    for seek in SEEKS:
        spec = streamspec.render(lossy, every=0.5, seek=seek, k=4, height=20)
        assert 9 <= spec.skipped_frames <= 11, (seek, spec.skipped_frames)
        assert len(spec.strips) == spec.slots == 12
        assert any("damaged" in w for w in spec.warnings)


def _counter(pts: list[int]) -> _GapCounter:
    g = _GapCounter()
    for p in pts:
        g.add(p)
    g.finish()
    return g


def test_gap_counter_grid():
    # 29.97 fps in 1/1000 s: steps of 33 and 34 ms are one frame each.
    ntsc = [round(i * 1001 / 30) for i in range(300)]
    assert _counter(ntsc).missing() == 0
    assert _counter(ntsc[:100] + ntsc[105:]).missing() == 5
    # 25 fps in 1/25 s: one tick a frame.
    assert _counter(list(range(50)) + list(range(53, 100))).missing() == 3
    # Mostly 25 fps, with steps that are not whole frames: variable frame rate.
    assert _counter(VFR_PTS).missing() == 0
    # A stretch read twice is counted once.
    g = _GapCounter()
    for _ in range(2):
        for p in [*range(0, 40), *range(45, 80)]:
            g.add(p * 512)
        g.restart()
    assert g.missing() == 5


def test_gap_counter_ignores_an_unfinished_reorder_buffer():
    order = [0, 4, 2, 1, 3]  # a B-pyramid's decode order
    g = _GapCounter()
    for base in range(0, 100, 5):
        for o in order:
            g.add((base + o) * 512)
    g.add(104 * 512)  # reading stops here: 101-103 are still to come
    assert g.missing() == 0
    g.restart()  # a seek: those packets were never read
    assert g.missing() == 0


@pytest.mark.media
@pytest.mark.parametrize("seek", SEEKS)
def test_real_clip_reports_no_damage(media_dir, seek):
    path = media_dir / "bikes.mp4"
    if not path.exists():
        pytest.skip("bikes.mp4 is not there")
    spec = streamspec.render(path, every=1.0, seek=seek, k=8, height=20)
    assert spec.skipped_frames == 0 and not spec.warnings, spec.warnings
    with open_source(path, mode=seek) as src:  # no crop detection: no seek back first
        list(sample_frames(src, every=1.0, mode=seek))
        assert src.errors == 0


@pytest.mark.parametrize("name", ["held.png", "held.gif"])
def test_animations_holding_a_frame_are_not_damaged(tmp_path, name):
    """APNG/GIF give each frame its own delay: one shown for 10 frames' time is no loss."""
    from PIL import Image

    frames = [Image.fromarray(np.full((48, 64, 3), i * 12, np.uint8)) for i in range(20)]
    delays = [1000 if i == 5 else 100 for i in range(20)]
    path = tmp_path / name
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=delays, loop=0)
    spec = streamspec.render(path, every=0.5, k=2, height=10)
    assert spec.skipped_frames == 0 and not spec.warnings, spec.warnings
