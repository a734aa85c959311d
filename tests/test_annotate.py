"""Time axis, chapter brackets and segment bands under a spectrum."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from streamspec.core.errors import InputError
from streamspec.core.timefmt import describe_time, format_hms
from streamspec.outputs.annotate import BACKGROUND, INK, parse_chapters, read_chapters
from streamspec.outputs.spectrum import Spectrum, Strip


def spectrum(n: int = 300, step: float = 2.0, height: int = 200) -> Spectrum:
    spec = Spectrum(
        settings={
            "start": 0.0,
            "step": step,
            "offset": 0.0,
            "height": height,
            "order": "hls",
            "mode": "sorted",
            "strip_width": 1,
        },
        slots=n,
    )
    for i in range(n):
        c = (200, 50, 50) if i < n // 2 else (50, 50, 200)
        spec.add(
            Strip(i, i * step, i * step, np.array([c, (240, 240, 240)], np.uint8), np.array([3, 1]))
        )
    return spec


def test_parse_chapter_lines():
    text = "# seasons\n0:00 Winter\n01:30 Spring, early\n1:02:03.5 Late\n\n"
    assert parse_chapters(text) == [
        {"start": 0.0, "title": "Winter"},
        {"start": 90.0, "title": "Spring, early"},
        {"start": 3723.5, "title": "Late"},
    ]


def test_parse_chapter_csv():
    assert parse_chapters('start,title\n0,Intro\n75.5,"Part two"\n') == [
        {"start": 0.0, "title": "Intro"},
        {"start": 75.5, "title": "Part two"},
    ]
    assert parse_chapters("0:30,B\n0:00,A\n")[0]["title"] == "A"  # sorted by time


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "Winter at dawn\n",
        "0:00 A\nnot a chapter\n",
        "start,title\nsoon,A\n",
    ],
)
def test_bad_chapters(text):
    with pytest.raises(InputError):
        parse_chapters(text)


def test_read_chapters_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_chapters(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_chapters(tmp_path)
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError):
        read_chapters(tmp_path / "bin.txt")


def test_time_formats():
    assert format_hms(3723.4) == "1:02:03" and format_hms(59) == "0:00:59"
    assert describe_time(75) == "1:15" and describe_time(None) == "?"


def test_axis_band_under_an_unchanged_spectrum():
    spec = spectrum()
    bare = np.asarray(spec.render_image())
    img = np.asarray(spec.render_image(axis=True))
    assert img.shape[1] == bare.shape[1] and img.shape[0] > bare.shape[0]
    np.testing.assert_array_equal(img[: bare.shape[0]], bare)
    band = img[bare.shape[0] :]
    assert (band != BACKGROUND).any(axis=2).sum() > 100  # ticks and labels were drawn
    # Ticks every 2 minutes here (slot = t / 2 s): each one on its strip's column.
    ink = set(np.flatnonzero((band[1:5] == INK).all(axis=2).any(axis=0)).tolist())
    assert {0, 60, 120, 180, 240} <= ink


def test_chapter_brackets_start_where_chapters_start():
    spec = spectrum()
    chapters = [{"start": 0.0, "title": "Red"}, {"start": 300.0, "title": "Blue"}]
    bare_h = spec.render_image().size[1]
    img = np.asarray(spec.render_image(chapters=chapters))
    band = img[bare_h:]
    # The bracket row: ink everywhere except a small gap around slot 150's left edge,
    # where the first chapter ends and the second begins.
    row = band[: band.shape[0] // 3]
    ink = (row == INK).all(axis=2).any(axis=0)
    gap = np.flatnonzero(~ink[100:200]) + 100
    assert len(gap) and gap.min() >= 144 and gap.max() <= 156 and gap.min() < 150 <= gap.max()


def test_segments_band_shows_dominant_colours():
    spec = spectrum()
    segs = [
        {"start": 0.0, "end": 299.0, "colours": [{"rgb": [200, 50, 50], "share": 1.0}]},
        {"start": 299.0, "end": 599.0, "colours": [{"rgb": [50, 50, 200], "share": 1.0}]},
    ]
    bare_h = spec.render_image().size[1]
    img = np.asarray(spec.render_image(segments=segs))
    band = img[bare_h:]
    assert (band[:, 20] == [200, 50, 50]).all(axis=1).any()
    assert (band[:, 280] == [50, 50, 200]).all(axis=1).any()


def test_text_scales_with_the_image():
    small = spectrum(height=150).render_image(axis=True, chapters=[{"start": 0, "title": "A"}])
    big = spectrum(height=800).render_image(axis=True, chapters=[{"start": 0, "title": "A"}])
    assert (big.size[1] - 800) > 1.5 * (small.size[1] - 150)


def test_narrow_image_does_not_crash():
    spec = spectrum(n=3)
    img = spec.render_image(
        axis=True,
        chapters=[{"start": 0, "title": "A very long title"}],
        segments=[{"start": 0, "end": 6, "colours": []}],
    )
    assert isinstance(img, Image.Image) and img.size[0] == 3


def test_bands_are_a_function_of_the_grid():
    # The time-to-x mapping lives on the grid: annotate_image of a spectrum and
    # annotate_bands of its grid draw the same pixels, and a picture's end in time is
    # the grid's (the last slot's end, or the film's end when sooner).
    from streamspec.core.grid import SlotGrid
    from streamspec.outputs.annotate import annotate_bands, annotate_image, axis_ticks, grid_ticks

    spec = Spectrum(settings={"start": 0.0, "step": 2.0, "offset": 0.0, "end": 10.5}, slots=6)
    pal = np.array([[200, 30, 30], [30, 30, 200]], np.uint8)
    for i in range(6):
        spec.add(Strip(i, 2.0 * i, 2.0 * i, pal, np.array([3, 1])))
    chapters = [{"start": 0.0, "title": "One"}, {"start": 6.0, "title": "Two"}]
    segments = [{"start": 0.0, "end": 4.0, "colours": [{"rgb": [200, 30, 30], "share": 1.0}]}]
    image = Image.new("RGB", (6 * 40, 100))
    a = annotate_image(image, spec, axis=True, chapters=chapters, segments=segments,
                       strip_width=40)
    grid = spec.grid
    assert grid.picture_end(6, 10.5) == 10.5 and grid.picture_end(6) == 12.0
    assert grid.picture_end(0) == 0.0 and grid.x_of_time(3.0, 40) == 60.0
    b = annotate_bands(image, grid, slots=6, end_time=10.5, axis=True, chapters=chapters,
                       segments=segments, strip_width=40)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert axis_ticks(spec, 240, 40) == grid_ticks(grid, 10.5, 240, 40)
    # A comparison's grid (one slot per pixel column, 10 px a second) maps the same way.
    columns = SlotGrid(start=-1.0, step=0.1)
    assert columns.x_of_time(2.0) == pytest.approx(30.0)


def test_chapter_ends_have_one_rule_and_chapters_a_typed_form():
    from streamspec.media.base import Chapter
    from streamspec.outputs.annotate import chapter_spans
    from streamspec.outputs.compare import _chapters_with_ends

    rows = [{"start": 0.0, "title": "One"}, {"start": 5.0, "title": "Two", "end": 7.0},
            {"start": 9.0, "title": "Three"}]
    spans = chapter_spans(rows, 12.0)
    assert spans == [Chapter(0.0, "One", 5.0), Chapter(5.0, "Two", 7.0),
                     Chapter(9.0, "Three", 12.0)]
    assert [c["end"] for c in _chapters_with_ends(rows, 12.0)] == [5.0, 7.0, 12.0]
    assert [Chapter.from_dict(r).to_dict() for r in rows] == rows  # the JSON form kept
    with pytest.raises(AttributeError):
        spans[0].start = 1.0  # type: ignore[misc]  # frozen
