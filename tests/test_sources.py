"""Frame sources and sampling: timestamps, modes, pictures, damaged input."""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from videos import colour_film, make_video

from streamspec.core.errors import InputError
from streamspec.media import Crop, analysis_size, detect_crop, list_devices, open_source, parse_crop
from streamspec.pipeline.sampling import sample_frames, sample_times

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220], [230, 220, 40], [30, 210, 210]]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """10 s, 25 fps, colour changes every 2 s, GOP 25 with B-frames."""
    d = tmp_path_factory.mktemp("clips")
    return colour_film(d / "clip.mp4", seconds=10, colours=COLOURS, each=2.0, gop=25, bframes=3)


def frame_colour(rgb: np.ndarray) -> np.ndarray:
    return rgb.reshape(-1, 3).mean(axis=0)


def expected(t: float) -> np.ndarray:
    return np.array(COLOURS[min(int(t // 2), 4)], float)


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_exact_and_fast_sample_the_frame_at_or_after_each_time(clip, mode):
    with open_source(clip, mode=mode) as src:
        samples = list(sample_frames(src, every=0.7, mode=mode))
        assert src.errors == 0
    assert [s.index for s in samples] == list(range(15))
    for s in samples:
        assert s.target == pytest.approx(0.7 * s.index)
        assert s.target - 1e-6 <= s.time < s.target + 0.04 + 1e-6  # the next frame at 25 fps
        assert np.abs(frame_colour(s.rgb) - expected(s.time)).max() < 12


def test_fast_mode_samples_the_exact_frames(tmp_path):
    """Fast mode samples the same frames as exact. Only the skipped deblocking filter
    differs (on the reference chain too), which shifts pixels by a level or two."""
    from streamspec.analysis.segments import colour_features
    from streamspec.outputs.spectrum import Strip

    y, x = np.mgrid[0:144, 0:256]

    def paint(i, t):  # moving gradients and edges: deblocking has work to do
        img = np.stack([(x + 3 * i) % 256, (y * 2 + i) % 256, (x + y + 5 * i) % 256], 2)
        img[40:90, (i * 4) % 200 : (i * 4) % 200 + 40] = [240, 200, 30]
        return img.astype(np.uint8)

    def histogram(rgb):
        px = rgb.reshape(-1, 3)
        return colour_features([Strip(0, 0, 0, px, np.ones(len(px), np.int64))])[0]

    clip = make_video(
        tmp_path / "deblock.mp4",
        paint,
        seconds=8,
        size=(256, 144),
        gop=48,
        options={"preset": "veryfast", "crf": "30", "bframes": "3"},
    )
    with open_source(clip, mode="exact") as a, open_source(clip, mode="fast") as b:
        exact = list(sample_frames(a, every=1.3, mode="exact"))
        fast = list(sample_frames(b, every=1.3, mode="fast"))
    assert [s.time for s in exact] == [s.time for s in fast]
    for e, f in zip(exact, fast, strict=True):
        assert np.abs(e.rgb.astype(int) - f.rgb.astype(int)).mean() < 4
        assert np.abs(histogram(e.rgb) - histogram(f.rgb)).sum() < 0.1


def test_keyframes_mode_uses_the_nearest_keyframe(clip):
    with open_source(clip, mode="keyframes") as src:
        samples = list(sample_frames(src, every=0.7, mode="keyframes"))
    keys = np.arange(0, 10, 1.0)  # GOP 25 at 25 fps
    for s in samples:
        nearest = keys[np.argmin(np.abs(keys - s.target))]
        assert s.time == pytest.approx(nearest, abs=1e-6)
    assert len(samples) == 15


def test_count_spreads_samples_over_the_film(clip):
    with open_source(clip) as src:
        samples = list(sample_frames(src, every=None, count=5))
    assert [round(s.target, 6) for s in samples] == [1.0, 3.0, 5.0, 7.0, 9.0]
    for s in samples:
        assert np.abs(frame_colour(s.rgb) - expected(s.time)).max() < 12


def test_start_and_end(clip):
    with open_source(clip) as src:
        samples = list(sample_frames(src, every=1.0, start=3.0, end=6.0))
    assert [s.target for s in samples] == [3.0, 4.0, 5.0]
    assert [s.index for s in samples] == [0, 1, 2]


def test_sample_size_is_applied_in_the_scaler(clip):
    with open_source(clip) as src:
        (s, *_) = sample_frames(src, every=5.0, size=(32, 24))
    assert s.rgb.shape == (24, 32, 3) and s.rgb.flags.c_contiguous


def test_vfr_timestamps_come_from_pts(tmp_path):
    pts = [0, 100, 200, 1500, 1600, 2500, 3900, 4000, 4900]
    path = colour_film(tmp_path / "vfr.mkv", seconds=0, colours=COLOURS, noise=0, pts=pts)
    with open_source(path) as src:
        samples = list(sample_frames(src, every=1.0, end=5.0))
    assert [(s.target, s.time) for s in samples] == [
        (0.0, 0.0),
        (1.0, 1.5),
        (2.0, 2.5),
        (3.0, 3.9),
        (4.0, 4.0),
    ]
    for s in samples:
        assert np.abs(frame_colour(s.rgb) - COLOURS[int(s.time)]).max() < 6


def test_rotation_metadata_gives_upright_frames(tmp_path):
    def paint(i, t):
        a = np.zeros((48, 64, 3), np.uint8)
        a[:24] = [255, 0, 0]  # red on top of the stored picture
        a[24:] = [0, 0, 255]
        return a

    # A display matrix rotating 90 degrees counter-clockwise (as a phone writes it).
    path = make_video(tmp_path / "rot.mp4", paint, seconds=1, rotation=90)
    with open_source(path) as src:
        assert (src.info.width, src.info.height, src.info.rotation) == (48, 64, 90)
        (s,) = sample_frames(src, every=5.0)
    assert s.rgb.shape[:2] == (64, 48)
    assert s.rgb[32, 5, 0] > 200 and s.rgb[32, 5, 2] < 50  # red on the left
    assert s.rgb[32, 42, 2] > 200 and s.rgb[32, 42, 0] < 50  # blue on the right


def test_sample_aspect_ratio_gives_square_pixels(tmp_path):
    path = tmp_path / "anamorphic.mkv"
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.codec_context.sample_aspect_ratio = Fraction(2, 1)
        for i in range(5):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 90, np.uint8), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts = i
            for p in st.encode(f):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    with open_source(path) as src:
        assert (src.info.width, src.info.height) == (128, 48)
        (s,) = sample_frames(src, every=10.0)
    assert s.rgb.shape == (48, 128, 3)


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [
        ("p10.mkv", "libx264", "yuv420p10le"),
        ("gray.mkv", "ffv1", "gray"),
        ("rgba.mov", "png", "rgba"),
        ("yuv444.mkv", "ffv1", "yuv444p"),
        ("bgr0.mkv", "ffv1", "bgr0"),
        ("pal8.mov", "png", "pal8"),
        ("gif.gif", "gif", "pal8"),
    ],
)
def test_pixel_formats(tmp_path, name, codec, pix_fmt):
    path = colour_film(
        tmp_path / name, seconds=3, colours=COLOURS, noise=0, codec=codec, pix_fmt=pix_fmt
    )
    with open_source(path) as src:
        samples = list(sample_frames(src, every=1.0))
    assert len(samples) == 3
    for s in samples:
        want = np.array(COLOURS[int(s.time)], float)
        if pix_fmt == "gray":
            want = np.full(3, want @ [0.299, 0.587, 0.114])
        assert np.abs(frame_colour(s.rgb) - want).max() < 8, (pix_fmt, frame_colour(s.rgb))


def test_letterbox_is_detected_and_cropped(tmp_path):
    def paint(i, t):
        a = np.zeros((90, 160, 3), np.uint8)
        a[20:70] = [200 - 40 * (i % 3), 120, 60]
        a[20:70, ::7] = [40, 60, 200]
        return a

    path = make_video(tmp_path / "bars.mp4", paint, seconds=4, size=(160, 90))
    with open_source(path) as src:
        crop = detect_crop(src)
        assert crop is not None
        assert crop.w == 160 and 48 <= crop.h <= 50 and 20 <= crop.y <= 22
        src.crop = crop
        (s, *_) = sample_frames(src, every=1.0)
    assert s.rgb.shape[0] == crop.h and s.rgb.shape[1] == 160
    assert s.rgb.reshape(-1, 3).min(axis=0).max() > 30  # no black rows left


def test_no_crop_for_full_frame_and_black_frames_do_not_shrink_it(tmp_path):
    def paint(i, t):
        return np.zeros((48, 64, 3), np.uint8) if t < 1 else np.full((48, 64, 3), 150, np.uint8)

    path = make_video(tmp_path / "fade.mp4", paint, seconds=3)
    with open_source(path) as src:
        assert detect_crop(src) is None


def test_parse_crop():
    assert parse_crop("auto") == "auto"
    assert parse_crop("none") is None
    assert parse_crop("100:50:10:20") == Crop(100, 50, 10, 20)
    for bad in ("100x50", "0:10:0:0", "1:2:3"):
        with pytest.raises(InputError):
            parse_crop(bad)


def test_analysis_size_and_sample_times():
    assert analysis_size(1920, 1080) == (480, 270)
    assert analysis_size(64, 48) == (64, 48)  # never upscaled
    assert analysis_size(1, 1) == (1, 1)
    w, h = analysis_size(1080, 1920)
    assert abs(w * h - 480 * 270) < 1000 and h > w
    assert list(sample_times(0, 5, every=2)) == [0, 2, 4]
    assert list(sample_times(1, 3, count=4)) == [1.25, 1.75, 2.25, 2.75]
    with pytest.raises(InputError):
        list(sample_times(0, None, count=3))


def test_lavfi_live_source():
    with open_source("lavfi:testsrc2=size=320x240:rate=30") as src:
        assert src.info.live and src.info.duration is None
        samples = list(sample_frames(src, every=0.5, end=2.0))
    assert [s.target for s in samples] == [0.0, 0.5, 1.0, 1.5]
    assert samples[0].rgb.shape == (240, 320, 3)


def test_demo_source():
    with open_source(None) as src:
        assert src.info.kind == "demo" and src.info.duration == 180
        assert next(c.title for c in src.info.chapters) == "Winter"
        crop = detect_crop(src)
        assert crop is not None and crop.w == 640 and crop.h < 300
        src.crop = crop
        samples = list(sample_frames(src, every=30.0))
    assert len(samples) == 6
    assert all(s.rgb.reshape(-1, 3).min(axis=0).max() > 0 for s in samples)


def test_corrupt_middle_is_skipped_and_counted(tmp_path):
    path = colour_film(tmp_path / "ok.mkv", seconds=10, colours=COLOURS, each=2.0, noise=40, gop=10)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    mid = len(data) // 2
    data[mid : mid + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(bytes(data))
    with open_source(bad) as src:
        samples = list(sample_frames(src, every=1.0))
        assert src.errors > 0
    assert len(samples) >= 8


@pytest.mark.parametrize("suffix", [".mkv", ".ts"])
def test_truncated_file_gives_what_decodes(tmp_path, suffix):
    path = colour_film(
        tmp_path / f"ok{suffix}", seconds=10, colours=COLOURS, each=2.0, noise=40, gop=10
    )
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with open_source(cut) as src:
        samples = list(sample_frames(src, every=1.0))
    assert 3 <= len(samples) <= 6
    assert samples[-1].time < 6


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.mp4", "no such file"),
        ("webcam:97", "not found; list devices with 'streamspec devices'"),
        ("lavfi:", "needs a filter graph"),
        ("lavfi:notafilter=1", "bad lavfi graph"),
    ],
)
def test_open_errors(tmp_path, spec, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        open_source(spec)


def test_list_devices_is_a_list():
    devices = list_devices()
    assert isinstance(devices, list)
    for spec, desc in devices:
        assert spec.startswith("webcam:") and desc
    # On Linux the list is exactly the /dev/video* nodes, camera or not.
    if sys.platform.startswith("linux"):
        nodes = sorted(str(n) for n in Path("/dev").glob("video*"))
        assert sorted(desc.rsplit("(", 1)[-1].rstrip(")") for _, desc in devices) == nodes


def test_gap_counter():
    from streamspec.media.damage import GapCounter as _GapCounter

    g = _GapCounter()
    order = [0, 3, 1, 2, 6, 4, 5]  # B-frame order: decode order is not pts order
    for base in range(0, 40, 7):
        for o in order:
            if base + o not in (22, 23, 24):  # three packets lost
                g.add((base + o) * 512)
    assert g.missing() == 3
    v = _GapCounter()
    for pts in [0, 100, 200, 1500, 1600, 2500, 3900, 4000, 4900, 5000, 5100, 7000]:
        v.add(pts)
    assert v.missing() == 0  # irregular: variable frame rate, not damage


class _Packet:
    def __init__(self, pts, key=False, size=100):
        self.pts, self.dts, self.is_keyframe, self.size = pts, pts, key, size


def _look_ahead(packets):
    from streamspec.media.skipplan import LookAhead as _LookAhead

    return _LookAhead((p for p in packets), lambda p: p.pts)


def _targets(times):
    def next_target(after=-math.inf):
        return next((t for t in times if t >= after), None)

    return next_target


def test_skip_plan():
    from streamspec.media.skipplan import SkipPlan as _SkipPlan

    # Keyframes presented at 0, 10 and 20 s; a frame every 0.04 s (in presentation
    # order here: the plan reads only times and keyframe flags).
    packets = [_Packet(round(i * 0.04, 2), key=i % 250 == 0) for i in range(750)]
    ahead = _look_ahead(packets)
    plan = _SkipPlan(ahead, window=0.08)
    decided = {}
    todo = [12.0, 13.0, 24.0]
    for p in ahead:
        decided[p.pts] = plan.decide(p.pts, _targets(todo))
        # The sampler is served a few frames after a packet goes in.
        todo = [t for t in todo if t > p.pts - 0.2]
    # The packets that may hold a sample are decoded whole, for the samples after the
    # next one too (a frame-threaded decoder takes packets well ahead of its output).
    assert decided[12.0] == decided[12.04] == decided[12.08] == "NONE"
    assert decided[13.0] == decided[13.04] == "NONE"
    # Between samples: only reference frames.
    assert decided[11.96] == decided[12.2] == decided[12.96] == "NONREF"
    # The tail of a GOP whose next keyframe comes before the next sample: nothing,
    # keyframes included when the next one also comes before the sample.
    assert decided[0.0] == decided[8.0] == decided[9.96] == "ALL"
    assert decided[10.0] == decided[11.0] == "NONREF"  # the sample at 12 needs them
    assert decided[13.4] == decided[19.96] == "ALL"
    assert decided[20.0] == "NONREF"  # no keyframe after it: the sample at 24 needs it
    # No timestamp: decode.
    assert plan.decide(None, _targets([12.0])) == "NONE"


def test_skip_plan_reads_keyframe_times_from_the_packets():
    """An open GOP's keyframe is presented after frames decoded after it: its time
    comes from its own packet, never from a decoding-time index."""
    from streamspec.media.skipplan import SkipPlan as _SkipPlan

    # Decoding order: P 9.88, B 9.84, keyframe 10.0 (presented after the Bs that follow),
    # B 9.92, B 9.96.
    packets = [_Packet(9.88), _Packet(9.84), _Packet(10.0, key=True), _Packet(9.92), _Packet(9.96)]
    ahead = _look_ahead(packets)
    plan = _SkipPlan(ahead, window=0.08)
    got = [plan.decide(p.pts, _targets([9.93])) for p in ahead]
    # 9.88 is a reference of the sample at 9.96 (decoded after the keyframe): kept.
    assert got[0] == "NONREF"
    assert got[3] == "NONREF" and got[4] == "NONE"


def test_look_ahead_is_bounded_and_hands_out_every_packet():
    from streamspec.media.skipplan import LookAhead as _LookAhead

    packets = [_Packet(i * 0.04, key=i == 5000) for i in range(6000)]
    ahead = _look_ahead(packets)
    assert ahead.next_key() is None  # beyond the limit: unknown
    assert len(ahead._buf) <= _LookAhead.MAX_PACKETS
    out = [next(ahead) for _ in range(2000)]
    assert ahead.next_key() == pytest.approx(200.0)
    out += list(ahead)
    assert [p.pts for p in out] == [p.pts for p in packets]
    ahead = _look_ahead([_Packet(0.0, key=True), _Packet(0.04)])
    next(ahead)
    assert ahead.next_key() == math.inf  # the stream ends first
