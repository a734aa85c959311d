"""Checks on real footage (../shared/media); skipped cleanly in a clone without it."""

from __future__ import annotations

import numpy as np
import pytest

import streamspec
from streamspec import ColourKMeans
from streamspec.media import open_source
from streamspec.pipeline.sampling import sample_frames

pytestmark = pytest.mark.media


@pytest.mark.parametrize("name", ["bigbuckbunny.mp4", "bikes.mp4"])
def test_render_real_clip_in_every_mode(media_dir, name):
    path = media_dir / name
    if not path.exists():
        pytest.skip(f"{name} is not in {media_dir}")
    specs = {
        seek: streamspec.render(path, every=1.0, seek=seek)
        for seek in ("exact", "fast", "keyframes")
    }
    exact = specs["exact"]
    n = len(exact.strips)
    assert n == exact.slots and n >= 5
    assert [s.time for s in specs["fast"].strips] == [s.time for s in exact.strips]
    assert len(specs["keyframes"].strips) == n
    for s in exact.strips:
        assert s.target <= s.time < s.target + 0.05
        assert 1 < len(s.palette) <= 50 and s.counts.sum() > 0
    assert exact.image.size == (n, 400)


def test_quantizer_on_a_real_frame(media_dir):
    path = media_dir / "bigbuckbunny.mp4"
    if not path.exists():
        pytest.skip("bigbuckbunny.mp4 is not there")
    with open_source(path) as src:
        (sample,) = sample_frames(src, every=None, count=1, size=(1280, 720))
    km = ColourKMeans(50, random_state=0).fit(sample.rgb)
    mse = km.inertia_ / sample.rgb[:, :, 0].size
    psnr = 10 * np.log10(255**2 / mse)
    assert psnr > 20  # 50 colours on a detailed, textured frame
    assert len(km.cluster_centers_) == 50
