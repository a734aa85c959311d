"""``--seek fast`` takes the frame ``exact`` takes; its pixels differ only by the
deblocking filter it skips (what the documentation of the decoding modes says)."""

from __future__ import annotations

import numpy as np
import pytest
from videos import make_video

from streamspec.media import open_source
from streamspec.pipeline.rendering import Renderer
from streamspec.pipeline.sampling import sample_frames

# The documented bounds on how far the analysis pixels of a sample (about 480x270)
# decoded in fast mode are from exact mode's, as the mean absolute difference in levels:
# real footage, per sample (measured: at most 2.9); the synthetic worst case (noise
# texture panning through a 10-s GOP), per sample and over a film (measured: at most
# 12.4 and 7.4; the encoder's output varies a little from run to run).
REAL_BOUND = 3.0
SYNTHETIC_BOUND = 14.0
SYNTHETIC_MEAN_BOUND = 8.5

X264 = {"preset": "veryfast", "crf": "26"}
# Whole macroblocks (16x16): x264 then varies less from one encode to the next (with a
# partial one it read bytes beyond the picture and never made the same file twice).
SIZE = (320, 176)


def moving(size=SIZE, seed=0):
    """Texture and gradients panning at different speeds, so an encoder uses B-frames,
    motion vectors and its deblocking filter as on a film."""
    w, h = size
    rng = np.random.default_rng(seed)
    tex = rng.integers(0, 256, (h // 4 + 1, 2 * w // 4 + 1, 3)).astype(np.float32)
    tex = np.kron(tex, np.ones((4, 4, 1), np.float32))  # 4x4 blocks: edges to deblock
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)

    def paint(i: int, t: float) -> np.ndarray:
        shift = int(37 * t) % w
        band = tex[:h, shift : shift + w]
        glow = 127 + 100 * np.sin(x / 40 + 2 * t)[..., None] * np.cos(y / 30 - t)[..., None]
        mix = 0.45 * band + 0.55 * glow * np.array([1.0, 0.7 + 0.3 * np.sin(t), 0.5])
        return mix.clip(0, 255).astype(np.uint8)

    return paint


def _samples(path, mode, every):
    with open_source(path, mode=mode) as src:
        return [(s.time, s.pixels().astype(np.int16)) for s in sample_frames(src, every=every)]


def compare(path, every):
    """Frame times of both modes, and the mean absolute pixel difference per sample."""
    exact, fast = _samples(path, "exact", every), _samples(path, "fast", every)
    assert len(exact) == len(fast)
    times = [(e[0], f[0]) for e, f in zip(exact, fast, strict=True)]
    diffs = [float(np.abs(e[1] - f[1]).mean()) for e, f in zip(exact, fast, strict=True)]
    return times, diffs


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast")
    out = {}
    for name, params, suffix in [
        ("closed GOP", "keyint=48:min-keyint=48:bframes=3:b-pyramid=normal", ".mp4"),
        ("open GOP", "keyint=48:bframes=3:b-pyramid=normal:open-gop=1", ".mp4"),
        ("open GOP, Matroska", "keyint=48:bframes=3:b-pyramid=normal:open-gop=1", ".mkv"),
        ("open GOP, MPEG-TS", "keyint=48:bframes=3:b-pyramid=normal:open-gop=1", ".ts"),
        ("scene cuts", "keyint=250:bframes=3:b-adapt=2:scenecut=40", ".mp4"),
    ]:
        out[name] = make_video(
            d / f"{name.replace(' ', '_').replace(',', '')}{suffix}",
            moving(),
            seconds=12,
            fps=24,
            size=SIZE,
            options={**X264, "x264-params": params},
        )
    return out


@pytest.mark.parametrize("every", [0.29, 2.5])
@pytest.mark.parametrize(
    "name", ["closed GOP", "open GOP", "open GOP, Matroska", "open GOP, MPEG-TS", "scene cuts"]
)
def test_fast_takes_the_frame_exact_takes(films, name, every):
    times, diffs = compare(films[name], every)
    assert [f for _, f in times] == [e for e, _ in times]
    # Deblocking skipped: close, not equal (the test would prove nothing if it were).
    assert max(diffs) <= SYNTHETIC_BOUND, diffs
    assert np.mean(diffs) <= SYNTHETIC_MEAN_BOUND, diffs
    assert max(diffs) > 0


def test_render_records_the_frames_exact_records(films):
    """What a user sees: the strips' frame times of ``render --seek fast``."""
    path = films["open GOP"]
    got = {}
    for seek in ("exact", "fast"):
        spec = Renderer(path, every=0.29, seek=seek, k=4).run()
        got[seek] = [s.time for s in spec.strips]
    assert got["fast"] == got["exact"] and len(got["exact"]) == 42


def test_without_a_deblocking_filter_fast_is_exact(tmp_path):
    """Frames skipped between samples change nothing: on a film encoded without the
    deblocking filter, fast mode's samples are exact mode's, pixel for pixel."""
    path = make_video(
        tmp_path / "nodeblock.mp4",
        moving(),
        seconds=8,
        fps=24,
        size=SIZE,
        options={**X264, "x264-params": "keyint=48:bframes=3:open-gop=1:no-deblock=1"},
    )
    times, diffs = compare(path, 0.37)
    assert [f for _, f in times] == [e for e, _ in times]
    assert max(diffs) == 0


@pytest.mark.parametrize("every", [0.37, 2.0])
def test_real_footage(media_dir, every):
    for path in sorted(media_dir.glob("*.mp4")):
        times, diffs = compare(path, every)
        assert [f for _, f in times] == [e for e, _ in times], path.name
        assert max(diffs) <= REAL_BOUND, (path.name, diffs)
