"""The test-film factory: one encode per set of parameters, a private copy per call."""

from __future__ import annotations

import av
import numpy as np
import videos
from videos import colour_film, make_video, noisy


def _frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as f:
        return [frame.to_ndarray(format="rgb24") for frame in f.decode(video=0)]


def test_the_same_film_is_encoded_once_and_copied(tmp_path, monkeypatch):
    encoded = []
    real = videos.make_video
    monkeypatch.setattr(videos, "make_video", lambda *a, **k: encoded.append(a) or real(*a, **k))
    params = dict(seconds=1, colours=[(10, 200, 30)], seed=123456789)
    a = colour_film(tmp_path / "a" / "one.mp4", **params)
    b = colour_film(tmp_path / "b" / "two.mp4", **params)
    c = colour_film(tmp_path / "c.mp4", **{**params, "seed": 987654321})
    assert len(encoded) == 2
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    # Each call has its own copy: damaging one leaves the next intact.
    a.write_bytes(b"damaged")
    assert colour_film(tmp_path / "d.mp4", **params).read_bytes() == b.read_bytes()
    assert len(encoded) == 2


def test_the_container_is_part_of_the_key(tmp_path):
    params = dict(seconds=1, colours=[(200, 10, 30)], seed=5)
    mp4 = colour_film(tmp_path / "f.mp4", **params)
    mkv = colour_film(tmp_path / "f.mkv", **params)
    with av.open(str(mp4)) as a, av.open(str(mkv)) as b:
        assert a.format.name != b.format.name


def test_it_is_the_film_make_video_encodes(tmp_path):
    colours = [(220, 30, 30), (30, 40, 220)]
    mine = make_video(
        tmp_path / "mine.mp4", noisy(colours, 0.5, (80, 60), amount=20, seed=3),
        seconds=1, size=(80, 60), gop=5,
    )  # fmt: skip
    made = colour_film(
        tmp_path / "made.mp4", seconds=1, colours=colours, each=0.5, size=(80, 60),
        noise=20, seed=3, gop=5,
    )  # fmt: skip
    ours, theirs = _frames(made), _frames(mine)
    assert len(ours) == len(theirs) == 25
    assert all(np.array_equal(x, y) for x, y in zip(ours, theirs, strict=True))
