"""Times as people type and read them: one parser, one set of labels, and pictures whose
axis reaches the film's end."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.core.timefmt import parse_time
from streamspec.outputs.annotate import parse_chapters


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("90", 90.0),
        ("2.5", 2.5),
        ("1:30", 90.0),
        ("1:59.5", 119.5),
        ("75:30", 4530.0),  # the leading field has no upper bound
        ("1:02:03", 3723.0),
        ("10:59:59.25", 39599.25),
        ("0:00:00", 0.0),
    ],
)
def test_parse_time_reads_clock_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1:99", "seconds must be below 60"),
        ("1:60", "seconds must be below 60"),
        ("0:59.99999:00", "expected"),
        ("1:60:00", "minutes must be below 60"),
        ("1:00:60", "seconds must be below 60"),
        ("1:", "expected"),
        (":30", "expected"),
        ("1:2:3:4", "expected"),
        ("1:-5", "expected"),
        ("-1", "0 or more"),
        ("nan", "expected"),
        ("inf", "expected"),
        ("1.5:00", "expected"),
    ],
)
def test_parse_time_refuses_what_is_not_a_time(text, why):
    with pytest.raises(ValueError, match=why):
        parse_time(text)


def test_start_1_99_is_refused_in_one_line(capsys):
    assert main(["render", "--start", "1:99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--start" in err and "seconds must be below 60" in err and "'1:99'" in err


def test_chapters_use_the_same_rule():
    assert parse_chapters("0:00 One\n1:30 Two\n")[1]["start"] == 90.0
    with pytest.raises(InputError, match="line 2: seconds must be below 60"):
        parse_chapters("0:00 One\n1:99 Two\n")
    with pytest.raises(InputError, match="line 2: bad time"):
        parse_chapters("start,title\n1:99,Two\n")


# -- one clock ----------------------------------------------------------------------------
CLOCK_TABLE = [
    # (seconds, decimals, hours, trim) -> text: floored at the shown precision
    ((4.52, 0, None, False), "0:04"),
    ((4.9999, 0, None, False), "0:04"),
    ((5.0, 0, None, False), "0:05"),
    ((59.999, 0, None, False), "0:59"),
    ((3599.9, 0, None, False), "59:59"),
    ((3600, 0, None, False), "1:00:00"),
    ((75.5, 0, True, False), "0:01:15"),
    ((4530, 0, False, False), "75:30"),
    ((65.25, 1, None, False), "1:05.2"),
    ((0.29, 2, None, False), "0:00.29"),
    ((1.5, 2, None, True), "0:01.5"),
    ((2.0, 2, None, True), "0:02"),
    ((7322.04, 2, None, True), "2:02:02.04"),
    ((-3, 0, None, False), "0:00"),
    ((None, 0, None, False), "?"),
    ((float("nan"), 0, None, False), "?"),
]


@pytest.mark.parametrize(("args", "text"), CLOCK_TABLE)
def test_clock_floors_like_a_player(args, text):
    from streamspec.core.timefmt import clock

    seconds, decimals, hours, trim = args
    assert clock(seconds, decimals, hours, trim=trim) == text


def test_the_status_line_floors_the_position():
    """A frame at 4.52 s of a 5.28-s film: 0:04 / 0:05 (was 0:05 / 0:05), as mpv shows."""
    from streamspec.live.model import LiveModel
    from streamspec.live.video import _VideoModel
    from streamspec.outputs.spectrum import Spectrum

    spec = Spectrum(settings={"start": 0.0, "step": 0.04, "offset": 0.0}, slots=132)
    for model in (LiveModel, _VideoModel):
        m = model(spec, duration=5.28, aspect=16 / 9)
        m.frame_shown(4.52)
        assert m.hud_text().startswith("0:04 / 0:05"), m.hud_text()


# -- the axis reaches the end ---------------------------------------------------------------
def _every(slots: int, step: float, end: float | None = None):
    from streamspec.outputs.spectrum import Spectrum

    settings = {"start": 0.0, "step": step, "offset": 0.0, "every": step}
    if end is not None:
        settings["end"] = end
    return Spectrum(settings=settings, slots=slots)


@pytest.mark.parametrize(
    ("slots", "step", "end", "width", "strip_width"),
    [
        (5, 2.0, 10.0, 300, 60),  # a 10-s film every 2 s: was 0:00 .. 0:08, then 0:09
        (250, 0.04, 10.0, 250, 1),  # every frame at 25 fps
        (6, 2.0, 10.5, 6, 1),  # the last slot stands for 10-10.5 s
    ],
)
def test_the_axis_reaches_the_films_end(slots, step, end, width, strip_width):
    from streamspec.outputs.annotate import axis_ticks

    ticks = axis_ticks(_every(slots, step, end), width, strip_width)
    assert ticks[0] == (0, 0.0)
    assert ticks[-1] == (width - 1, pytest.approx(end))
    for x, t in ticks[:-1]:  # each tick in the column of the strip standing for its time
        assert x == math.floor(t / step + 1e-6) * strip_width


def test_the_axis_picture_ends_with_the_end_label():
    from PIL import Image

    from streamspec.outputs.annotate import INK, annotate_image

    spec = _every(5, 2.0, 10.0)
    img = annotate_image(
        Image.new("RGB", (300, 100), (90, 90, 90)), spec, axis=True, strip_width=60
    )
    px = img.load()
    tick_rows = range(102, 106)
    for x in (0, 60, 120, 180, 240, 299):  # every 2 s, and the end in the last column
        assert any(px[x, y] == INK for y in tick_rows), x


# -- one segment, one block -------------------------------------------------------------------
def test_one_segment_is_drawn_as_one_block():
    from PIL import Image

    from streamspec.outputs.annotate import annotate_image

    spec = _every(5, 2.0, 10.0)
    colours = [
        {"rgb": [200, 30, 30], "share": 0.4},
        {"rgb": [30, 200, 30], "share": 0.3},
        {"rgb": [30, 30, 200], "share": 0.2},
        {"rgb": [200, 200, 30], "share": 0.06},
        {"rgb": [30, 200, 200], "share": 0.04},
    ]
    seg = [{"start": 0.0, "end": 10.0, "colours": colours, "first_strip": 0, "last_strip": 4}]
    img = annotate_image(
        Image.new("RGB", (300, 400), (90, 90, 90)), spec, segments=seg, strip_width=60
    )
    band = np.asarray(img)[400:]
    painted = [row for row in band if tuple(row[150]) in {tuple(c["rgb"]) for c in colours}]
    assert len({tuple(r[150]) for r in painted}) >= 3  # the colours, stacked
    for row in painted:  # each row one colour across the whole segment: one block
        assert (row == row[150]).all()


def test_the_live_view_draws_one_segment_as_one_block():
    import pygame

    from streamspec.live.model import LiveModel
    from streamspec.live.painter import Painter
    from streamspec.outputs.spectrum import Spectrum, Strip

    pygame.font.init()
    spec = Spectrum(
        settings={"start": 0.0, "step": 2.0, "offset": 0.0, "height": 400, "segments": "auto"},
        slots=30,
    )
    m = LiveModel(spec, duration=60.0, aspect=16 / 9, segments_in_background=False)
    painter = Painter(m)
    m.resize(1280, 720)
    palette = np.array([(220, 30, 30), (30, 200, 40), (20, 20, 160)], np.uint8)
    for i in range(30):
        m.add_strip(Strip(i, 2.0 * i, 2.0 * i, palette, np.array([50, 30, 20])))
    m.frame_shown(59.0)
    m.update_segments(wait=True)
    assert len(m.segments) == 1
    screen = pygame.Surface((1280, 720))
    painter.draw(screen, None)
    band = m.layout.segments
    x0, x1 = round(m.x_of_slot(0)) + 2, round(m.x_of_slot(30)) - 2
    rows = pygame.surfarray.array3d(screen)[x0:x1, band.y + 1 : band.bottom - 1]
    xs = np.arange(x0, x1)
    rows = rows[np.abs(xs - m.playhead_x) > 3]  # not under the playhead's line
    colours = {tuple(c) for c in rows[0]}
    assert len(colours) >= 2  # stacked colours
    assert (rows == rows[0]).all()  # every column the same: one block


def test_the_live_axis_reaches_the_end():
    from streamspec.live.model import LiveModel

    m = LiveModel(_every(5, 2.0, 10.0), duration=10.0, aspect=16 / 9)
    m.resize(1280, 720)
    labels = [label for _, label in m.ticks()]
    assert labels[0] == "0:00" and labels[-1] == "0:10", labels
