"""Automatic colour chapters: known boundaries are found, and nothing else."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from videos import make_video

import streamspec
from streamspec.analysis.segments import colour_features, find_segments, segment_spectrum
from streamspec.outputs.spectrum import Strip

CHAPTERS = [  # (seconds, sky, ground, accent): distinct palettes
    (12, (20, 40, 120), (10, 20, 60), (240, 200, 40)),
    (9, (230, 120, 40), (120, 40, 20), (40, 40, 40)),
    (15, (40, 150, 60), (200, 220, 120), (230, 80, 160)),
    (10, (150, 150, 160), (60, 60, 70), (200, 30, 40)),
]


def film_painter(size=(96, 54)):
    """Chapters with a sky, ground and a moving accent, texture, noise and slow drift."""
    w, h = size
    rng = np.random.default_rng(3)
    texture = rng.normal(0, 1, (h, 2 * w))
    bounds = np.cumsum([0] + [c[0] for c in CHAPTERS])

    def paint(i, t):
        k = min(np.searchsorted(bounds, t, side="right") - 1, len(CHAPTERS) - 1)
        _, sky, ground, accent = CHAPTERS[k]
        u = (t - bounds[k]) / CHAPTERS[k][0]
        img = np.empty((h, w, 3))
        img[: h // 2] = np.array(sky) * (0.9 + 0.2 * u)
        img[h // 2 :] = np.array(ground) * (1.1 - 0.2 * u)
        x = int((0.2 + 0.6 * u) * w)
        img[h // 3 : h // 3 + 12, x : x + 14] = accent
        shift = int(t * 7) % w
        img *= 1 + 0.06 * texture[:, shift : shift + w, None]
        img += rng.normal(0, 6, img.shape)
        return img.clip(0, 255).astype(np.uint8)

    return paint, bounds


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    paint, bounds = film_painter()
    path = make_video(
        tmp_path_factory.mktemp("seg") / "chapters.mp4",
        paint,
        seconds=float(bounds[-1]),
        size=(96, 54),
        fps=10,
        gop=20,
    )
    return path, bounds


def boundaries(segments) -> list[int]:
    return [s["first_strip"] for s in segments[1:]]


def test_known_boundaries_are_found_within_one_sample(film):
    path, bounds = film
    spec = streamspec.render(path, every=0.5, seek="exact", segments=True)
    segs = spec.segments
    expected = [round(b / 0.5) for b in bounds[1:-1]]
    found = boundaries(segs)
    assert len(found) == len(expected), (found, expected)  # no extra boundaries
    for f, e in zip(found, expected, strict=True):
        assert abs(f - e) <= 1
    for seg, ch in zip(segs, CHAPTERS, strict=True):
        top = np.array(seg["colours"][0]["rgb"])
        assert min(np.abs(top - np.array(c)).max() for c in ch[1:3]) < 45


def test_demo_film_seasons():
    spec = streamspec.render(None, every=1.0, segments=True)
    found = boundaries(spec.segments)
    assert len(found) == 4, found
    for f, e in zip(found, [36, 72, 108, 144], strict=True):
        assert abs(f - e) <= 1
    assert spec.to_json()["segments"][0]["colours"]


def strip(i: int, rgb) -> Strip:
    return Strip(
        i, float(i), float(i), np.array([rgb, (128, 128, 128)], np.uint8), np.array([90, 10])
    )


def test_features_are_histograms():
    f = colour_features([strip(0, (255, 0, 0)), strip(1, (10, 200, 90))])
    assert f.shape == (2, 64)
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    assert f[0].argmax() == 48  # pure red: bin (3, 0, 0)


def test_find_segments_on_steps_and_constant():
    rng = np.random.default_rng(0)
    x = np.repeat(np.eye(4)[:3], [30, 20, 25], axis=0) + rng.normal(0, 0.05, (75, 4))
    assert find_segments(x, min_length=3) == [0, 30, 50]
    assert find_segments(np.ones((40, 4)) + rng.normal(0, 0.05, (40, 4)), min_length=3) == [0]
    assert find_segments(x[:4], min_length=3) == [0]
    assert find_segments(x, min_length=12) == [0, 30, 50]
    # A minimum length longer than a chapter never gives a shorter segment.
    long = find_segments(x, min_length=22)
    assert all(b - a >= 22 for a, b in itertools.pairwise(long))
    assert all(min(abs(b - t) for t in (0, 30, 50)) <= 3 for b in long)


def test_segment_spectrum_times():
    spec = streamspec.Spectrum(settings={"start": 0.0, "step": 2.0, "offset": 0.0}, slots=40)
    for i in range(40):
        spec.add(strip(i, (250, 20, 20) if i < 25 else (20, 20, 250)))
    segs = segment_spectrum(spec)
    assert [s["first_strip"] for s in segs] == [0, 25]
    # Strip 25 stands for 50-52 s: the segments meet there; the first starts at the start.
    assert segs[1]["start"] == pytest.approx(50.0) and segs[0]["end"] == pytest.approx(50.0)
    assert segs[0]["start"] == 0.0 and segs[1]["end"] == pytest.approx(80.0)
    assert segs[0]["colours"][0]["rgb"] == [250, 20, 20]


def _blocks_spectrum():
    from streamspec.outputs.spectrum import Spectrum

    spec = Spectrum(settings={"start": 0.0, "step": 1.0, "offset": 0.0}, slots=40)
    palettes = [
        np.array([[200, 30, 30], [30, 30, 30]], np.uint8),
        np.array([[30, 160, 40], [220, 220, 200]], np.uint8),
    ]
    for i in range(40):
        spec.add(Strip(i, float(i), float(i), palettes[i // 20], np.array([3, 1])))
    return spec


def test_segments_are_typed_records_found_without_touching_the_spectrum():
    from streamspec.analysis.segments import Segment, SegmentColour, colour_segments

    spec = _blocks_spectrum()
    found = colour_segments(spec.strips, spec.grid)
    assert spec.segments == []  # nothing stored: the caller decides
    assert [(s.first_strip, s.last_strip) for s in found] == [(0, 19), (20, 39)]
    assert all(isinstance(s, Segment) for s in found)
    assert isinstance(found[0].colours[0], SegmentColour)
    with pytest.raises(AttributeError):
        found[0].start = 1.0  # type: ignore[misc]  # frozen
    # segment_spectrum (the storing convenience) gives the JSON form of the same records.
    stored = segment_spectrum(spec)
    assert stored == [s.to_dict() for s in found] and spec.segments == stored
    assert list(stored[0]) == ["start", "end", "first_strip", "last_strip", "colours"]
    assert [Segment.from_dict(d) for d in stored] == found


def test_segments_json_unchanged_on_disk_and_old_files_load(tmp_path):
    import json

    from streamspec.analysis.segments import Segment
    from streamspec.outputs.spectrum import Spectrum

    spec = _blocks_spectrum()
    segment_spectrum(spec)
    spec.save(tmp_path / "s.png")
    data_path = next(tmp_path.glob("*.json"))
    on_disk = json.loads(data_path.read_text())["segments"]
    assert on_disk == spec.segments
    back = Spectrum.load(data_path)
    assert [Segment.from_dict(d) for d in back.segments] == [
        Segment.from_dict(d) for d in spec.segments
    ]
    # A segment as early files wrote it: no strips, no end.
    old = Segment.from_dict({"start": 1.5, "colours": [{"rgb": [1, 2, 3], "share": 0.5}]})
    assert old.end is None and old.first_strip is None
    assert old.to_dict() == {"start": 1.5, "end": None,
                             "colours": [{"rgb": [1, 2, 3], "share": 0.5}]}
