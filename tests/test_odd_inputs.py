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
