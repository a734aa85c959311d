"""The live view's spectrum panel, without a window: fit, zoom, pan, follow, the axis,
chapters and segments, the tooltip -- the model's geometry and the Painter's picture on
an off-screen surface."""

from __future__ import annotations

import itertools

import numpy as np
import pygame
import pytest

from streamspec.analysis._kernels import mean_rows
from streamspec.analysis.strip import make_strip
from streamspec.core.options import OptionError, ViewOptions, parse_time
from streamspec.live.model import PANEL_BG, LiveModel
from streamspec.live.painter import INK, Painter
from streamspec.outputs.spectrum import Spectrum, Strip

RED = [(220, 30, 30), (200, 60, 40), (160, 20, 20)]
BLUE = [(30, 40, 220), (20, 90, 200), (10, 10, 120)]


def spectrum(slots: int | None, step: float = 2.0, **settings) -> Spectrum:
    return Spectrum(
        settings={"start": 0.0, "step": step, "offset": 0.0, "height": 400, **settings},
        slots=slots,
    )


def strip(i: int, colours=RED, step: float = 2.0) -> Strip:
    return Strip(i, step * i, step * i, np.array(colours, np.uint8), np.array([50, 30, 20]))


def filled(slots: int, colours=lambda i: RED, **kw) -> LiveModel:
    """A model of a film whose every strip is on screen (played to the end)."""
    m = LiveModel(spectrum(slots), duration=2.0 * slots, aspect=16 / 9, **kw)
    for i in range(slots):
        m.add_strip(strip(i, colours(i)))
    m.frame_shown(2.0 * slots - 0.5)
    return m


@pytest.fixture(scope="module", autouse=True)
def fonts():
    pygame.font.init()
    yield


def test_a_file_opens_fitted_and_zooms_around_the_cursor():
    m = LiveModel(spectrum(3600), duration=7200.0, aspect=16 / 9)
    m.resize(1920, 1080)
    p = m.layout.panel
    # Fit: the whole film across the panel, at fractional pixels per strip.
    assert m.fit and m.pps == pytest.approx(p.w / 3600) and m.scroll == 0
    assert m.x_of_slot(0) == p.x and m.x_of_slot(3600) == pytest.approx(p.right)
    assert m.time_at_x(p.right) == pytest.approx(7200.0, abs=2.0)
    # The wheel: the column under the cursor stays under it, in and out.
    for x, factor in [(p.x + 700, 1.25), (p.x + 700, 4.0), (p.x + 1500, 3.0), (p.x + 300, 0.5)]:
        before = m.column_at_x(x)
        m.zoom(factor, x)
        assert m.column_at_x(x) == pytest.approx(before, abs=1e-6)
        assert not m.fit
    for _ in range(20):
        m.zoom(2.0, p.x + 900)
    assert m.pps == 32  # the closest zoom
    # Pan (right-drag, Shift+wheel): what was under the cursor moves with it.
    x = p.x + 900
    before = m.column_at_x(x)
    m.pan(-250)
    assert m.column_at_x(x - 250) == pytest.approx(before)
    m.pan(100)
    assert m.column_at_x(x - 150) == pytest.approx(before)
    # Never past either end of the film.
    m.pan(10**7)
    assert m.scroll == 0
    m.pan(-(10**7))
    assert m.x_of_slot(3600) == pytest.approx(p.right)
    # Back to fit (Ctrl+0, Z, a double click); zooming out below it stays at fit.
    m.fit_view()
    assert m.fit and m.scroll == 0 and m.pps == pytest.approx(p.w / 3600)
    m.zoom(0.25, p.x + 100)
    assert m.fit and m.pps == pytest.approx(p.w / 3600)
    # A fitted view stays fitted when the window changes size.
    m.resize(1000, 700)
    assert m.fit and m.x_of_slot(3600) == pytest.approx(m.layout.panel.right)


def test_a_zoomed_view_keeps_its_zoom_when_the_window_grows_past_it():
    m = LiveModel(spectrum(100), duration=200.0, aspect=16 / 9, pixels_per_strip=4)
    m.resize(300, 400)  # fit would be < 3 px per strip
    assert m.pps == 4 and not m.fit
    m.resize(1920, 1080)  # fit is now 19 px per strip: zoom can not be below it
    assert m.fit and m.pps == pytest.approx(m.layout.panel.w / 100)


def test_the_view_follows_the_playhead_until_the_user_pans_away():
    m = LiveModel(spectrum(3600), duration=7200.0, aspect=16 / 9)
    m.resize(1280, 720)
    p = m.layout.panel
    m.zoom(16.0)  # around the playhead (at 0:00)
    assert m.follow and m.playhead_in_view()
    for t in range(0, 3000, 7):  # playback: the playhead never leaves the view
        m.frame_shown(float(t))
        assert m.playhead_in_view()
    assert m.scroll > 0
    assert p.x + 0.7 * p.w <= m.playhead_x <= p.x + 0.9 * p.w  # it rides at 80 %
    # The user pans back in time: the view stays where they put it.
    m.pan(3 * p.w)
    assert not m.follow and not m.playhead_in_view()
    scroll = m.scroll
    for t in range(3000, 3200, 7):
        m.frame_shown(float(t))
    assert m.scroll == scroll
    # Panning the playhead back into view resumes following.
    m.pan(p.x + p.w / 2 - m.playhead_x)
    assert m.playhead_in_view() and m.follow
    # Zooming in far from the playhead (the wheel) looks away from it: no following.
    m.zoom(2.0, p.x + 10)
    if not m.playhead_in_view():
        assert not m.follow
    # A seek brings the view back to the playhead.
    m.pan(5 * p.w)
    m.seeked(6000.0)
    assert m.follow and m.playhead_in_view()
    # So does fit.
    m.pan(5 * p.w)
    m.fit_view()
    assert m.follow and m.fit and m.playhead_in_view()


def test_a_live_source_scrolls_at_its_default_zoom():
    m = LiveModel(spectrum(None, step=1.0), duration=None, aspect=16 / 9, live=True)
    m.resize(1280, 720)
    assert m.pps == 3 and not m.fit
    p = m.layout.panel
    for i in range(2000):
        m.add_strip(strip(i, step=1.0))
        m.frame_shown(float(i))
    assert p.x + 0.7 * p.w <= m.playhead_x <= p.right + 1
    m.fit_view()
    assert m.pps == 3 and m.playhead_in_view()


def _boxes(m: LiveModel, painter: Painter) -> list[tuple[float, float]]:
    boxes = []
    for _, label, left in m.axis_labels():
        w, _ = painter.small.size(label)  # the real font's box
        boxes.append((left, left + w))
    return boxes


@pytest.mark.parametrize("span", [5, 12, 45, 100, 300, 1000, 2400, 3600, 5400, 7200, 14400])
@pytest.mark.parametrize("width", [300, 480, 800, 1280, 1920, 2560, 3840])
def test_axis_labels_never_overlap(span, width):
    """Any span from 5 s to 4 h across any width: the labels, measured with the font
    they are drawn in, lie inside the axis without touching; fitted and zoomed."""
    step = max(span / 3000, 0.5)
    slots = max(1, round(span / step))
    m = LiveModel(spectrum(slots, step=step), duration=slots * step, aspect=16 / 9)
    painter = Painter(m)
    m.resize(width, 600)
    a = m.layout.axis
    for zoom in (1.0, 1.7, 6.0, 40.0):
        if zoom != 1.0:
            m.zoom(zoom, a.x + a.w / 3)
        boxes = _boxes(m, painter)
        assert len(boxes) >= 2, (zoom, m.axis_labels())
        for left, right in boxes:
            assert a.x <= left and right <= a.right
        for (_, r0), (l1, _) in itertools.pairwise(boxes):
            assert l1 >= r0 + 4, boxes
        # Each tick is where its label's time is.
        for x, label, _ in m.axis_labels():
            assert m.time_at_x(x) == pytest.approx(parse_time(label), abs=1e-6)


def test_the_axis_of_a_short_film_or_a_young_live_source_does_not_pile_up():
    for m in (
        LiveModel(spectrum(8), duration=15.0, aspect=1.5),  # 15 s across 1904 px
        LiveModel(spectrum(None, step=1.0), duration=None, aspect=1.5, live=True),
    ):
        painter = Painter(m)
        m.resize(1920, 1080)
        m.add_strip(strip(0, step=1.0))
        m.add_strip(strip(1, step=1.0))
        m.frame_shown(1.0)
        boxes = _boxes(m, painter)
        assert boxes and all(b[0] >= a[1] + 4 for a, b in itertools.pairwise(boxes))
        labels = [label for _, label, _ in m.axis_labels()]
        assert len(labels) == len(set(labels))  # no "0:000:000:00"


def test_the_panel_image_is_the_strips_at_any_zoom():
    m = filled(40, colours=lambda i: RED if i < 20 else BLUE)
    m.resize(640, 480)
    p = m.layout.panel
    red = make_strip(np.array(RED, np.uint8), np.array([50, 30, 20]), p.h)
    blue = make_strip(np.array(BLUE, np.uint8), np.array([50, 30, 20]), p.h)
    img = m.panel_image()  # fitted: 15.6 px per strip, each pixel shows one strip
    assert img.shape == (p.w, p.h, 3)
    for x in range(p.w):
        slot = m.slot_at_x(p.x + x + 0.5)
        np.testing.assert_array_equal(img[x], red if slot < 20 else blue)
    # Replacing a strip (a provisional one made exact) redraws it.
    m.add_strip(strip(3, BLUE))
    img = m.panel_image()
    np.testing.assert_array_equal(img[round(m.x_of_slot(3.5)) - p.x], blue)
    # Below 1 px per strip a pixel is the mean of the strips it covers.
    many = filled(2 * p.w, colours=lambda i: RED if i % 2 else BLUE)
    many.resize(640, 480)
    assert many.pps == pytest.approx(0.5)
    img = many.panel_image().astype(int)
    mean = (red.astype(int) + blue.astype(int)) // 2
    assert np.abs(img - mean[None]).max() <= 1
    # Empty slots (not played yet) are the panel's background.
    half = LiveModel(spectrum(100), duration=200.0, aspect=1.5)
    half.resize(640, 480)
    half.add_strip(strip(0))
    img = half.panel_image()
    assert (img[0] == red).all() and (img[-1] == PANEL_BG).all()


def _segments_model(show_axis_width: int = 1280) -> tuple[LiveModel, Painter, pygame.Surface]:
    spec = spectrum(60, chapters=True, segments="auto")
    spec.chapters = [{"start": 0.0, "title": "Red Season"}, {"start": 60.0, "title": "Blue"}]
    m = LiveModel(spec, duration=120.0, aspect=16 / 9, segments_in_background=False)
    painter = Painter(m)
    m.resize(show_axis_width, 720)
    for i in range(60):
        m.add_strip(strip(i, RED if i < 30 else BLUE))
    m.frame_shown(119.0)
    m.update_segments(wait=True)
    return m, painter, pygame.Surface((show_axis_width, 720))


def test_chapters_and_segments_are_drawn_and_c_hides_them():
    m, painter, screen = _segments_model()
    assert [s["first_strip"] for s in m.segments] == [0, 30]
    L = m.layout
    assert L.segments.h > 0 and L.chapters.h > 0 and L.axis.y == L.chapters.bottom
    painter.draw(screen, None)
    band_y = L.segments.y + L.segments.h // 2
    left = screen.get_at((round(m.x_of_slot(10)), band_y))[:3]
    right = screen.get_at((round(m.x_of_slot(50)), band_y))[:3]
    reds = {tuple(c["rgb"]) for c in m.segments[0]["colours"]}
    blues = {tuple(c["rgb"]) for c in m.segments[1]["colours"]}
    assert left in reds and right in blues
    assert max(left) == left[0] and max(right) == right[2]  # red, then blue
    # The boundary between them, and the chapters' names in their band.
    bx = round(m.x_of_slot(30))
    assert any(screen.get_at((x, band_y))[:3] == INK for x in range(bx - 1, bx + 2))
    chap = screen.subsurface((L.chapters.x, L.chapters.y, L.chapters.w, L.chapters.h))
    ink = pygame.surfarray.array3d(chap)
    lit = np.flatnonzero((ink.sum(axis=2) > 500).any(axis=1))  # x of bright pixels
    mid = round(m.x_of_time(30.0)) - L.chapters.x
    assert lit.size and (np.abs(lit - mid) < 60).any()  # "Red Season" under its middle
    # The tooltip names the chapter.
    assert m.hover_info(round(m.x_of_slot(45)), L.panel.y + 5).chapter == "Blue"
    # C hides both bands: the strips take their place.
    m.toggle_marks()
    L2 = m.layout
    assert L2.segments.h == 0 and L2.chapters.h == 0 and L2.axis.y == L2.panel.bottom
    assert L2.video.h > L.video.h  # the bands took the picture's room, now given back
    painter.draw(screen, None)
    x = round(m.x_of_slot(50.5))
    strips = m.panel_image()
    assert L2.panel.y <= band_y < L2.panel.bottom
    assert screen.get_at((x, band_y))[:3] == tuple(strips[x - L2.panel.x, band_y - L2.panel.y])
    assert m.hover_info(round(m.x_of_slot(45)), L2.panel.y + 5).chapter is None


def test_segments_follow_the_strips_as_they_arrive():
    spec = spectrum(60, segments="auto")
    clock = [0.0]
    m = LiveModel(
        spec, duration=120.0, aspect=1.5, clock=lambda: clock[0], segments_in_background=False
    )
    for i in range(20):
        m.add_strip(strip(i, RED))
    m.frame_shown(40.0)
    m.update_segments()
    assert len(m.segments) == 1
    for i in range(20, 60):
        m.add_strip(strip(i, BLUE))
    m.frame_shown(119.0)
    m.update_segments()  # within a second of the last run: not yet
    assert len(m.segments) == 1
    clock[0] = 1.5
    m.presented()  # the window's tick runs it
    assert [s["first_strip"] for s in m.segments] == [0, 20]


def test_the_tooltip_tells_the_time_over_any_point():
    m = LiveModel(spectrum(100), duration=200.0, aspect=1.5)
    m.resize(1280, 720)
    p = m.layout.panel
    m.zoom(8.0, p.x)  # 101 px per strip at most: times within a strip
    info = m.hover_info(p.x + 5, p.y + 5)
    assert info is not None and info.colours == [] and info.time == "0:00"
    x = round(m.x_of_time(7.0))
    assert m.hover_info(x, p.y + 5).time == "0:07"
    m.add_strip(strip(3))  # at 6 s: shows once played
    m.frame_shown(7.0)
    info = m.hover_info(round(m.x_of_slot(3.5)), p.y + 5)
    assert info.time == "0:06" and [c[0] for c in info.colours] == RED


def test_zoom_option():
    assert ViewOptions().zoom == "fit"
    assert ViewOptions(zoom="4").zoom == 4.0 and ViewOptions(zoom=2.5).zoom == 2.5
    for bad, words in [(33, "at most 32"), ("0.5", "at least 1"), ("wide", "fit or a number")]:
        with pytest.raises(OptionError, match=words):
            ViewOptions(zoom=bad)


@pytest.mark.parametrize("m", [2, 3, 5, 8])
def test_mean_rows_kernel_matches_numpy(m):
    rng = np.random.default_rng(m)
    rows = rng.integers(0, 256, (50, 36), dtype=np.uint8)
    taps = rng.integers(0, 50, (m, 17))
    out = np.empty((17, 36), np.uint8)
    mean_rows(rows, taps, out)
    # The reference: the sum over the taps, divided, rounded half up.
    expected = (rows[taps].astype(np.int64).sum(axis=0) + m // 2) // m
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("mode", ["below", "right"])
@pytest.mark.parametrize(("w", "h"), [(1280, 720), (640, 1000), (200, 150), (3000, 400)])
def test_the_bands_fit_in_any_window(mode, w, h):
    from streamspec.live.model import CHAPTERS_H, SEGMENTS_H, Layout

    L = Layout.compute(w, h, 16 / 9, mode, SEGMENTS_H, CHAPTERS_H)
    stack = [L.panel, L.segments, L.chapters, L.axis]
    for r in (L.video, *stack, L.hud):
        assert r.x >= 0 and r.y >= 0 and r.right <= w and r.bottom <= h and r.w > 0 and r.h > 0
    for upper, lower in itertools.pairwise(stack):
        assert lower.y == upper.bottom and lower.w == upper.w
    assert L.axis.bottom <= L.hud.y


def test_the_windows_wheel_drag_and_keys_drive_the_view():
    """The window's events (without opening it): wheel zoom around the cursor, right-drag
    and Shift+wheel pan, Ctrl+0 / Z / double click fit, C toggles the bands."""
    from streamspec.live.view import LiveWindow

    pygame.display.init()
    m = LiveModel(spectrum(3600, chapters=True), duration=7200.0, aspect=16 / 9)
    m.spectrum.chapters = [{"start": 0.0, "title": "All"}]
    m.resize(1280, 720)
    w = LiveWindow(m, pipeline=None, title="t")  # type: ignore[arg-type]
    p = m.layout.panel
    x, y = p.x + 400, p.y + 20

    def ev(kind, **kw):
        return w.handle(pygame.event.Event(kind, **kw))

    ev(pygame.MOUSEMOTION, pos=(x, y), rel=(0, 0), buttons=(0, 0, 0))
    before = m.column_at_x(x)
    ev(pygame.MOUSEWHEEL, x=0, y=3, precise_x=0.0, precise_y=3.0, flipped=False)
    assert not m.fit and m.pps == pytest.approx(m.fit_pps() * 1.25**3)
    assert m.column_at_x(x) == pytest.approx(before)
    ev(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=3)
    ev(pygame.MOUSEMOTION, pos=(x - 100, y), rel=(-100, 0), buttons=(0, 0, 1))
    ev(pygame.MOUSEBUTTONUP, pos=(x - 100, y), button=3)
    assert m.column_at_x(x - 100) == pytest.approx(before)  # dragged along
    ev(pygame.MOUSEWHEEL, x=2, y=0, precise_x=2.0, precise_y=0.0, flipped=False)
    assert m.column_at_x(x - 180) == pytest.approx(before)  # sideways: forward in time
    ev(pygame.KEYDOWN, key=pygame.K_0, mod=pygame.KMOD_LCTRL, unicode="0")
    assert m.fit
    m.zoom(4.0, x)
    ev(pygame.KEYDOWN, key=pygame.K_z, mod=0, unicode="z")
    assert m.fit
    m.zoom(4.0, x)
    assert w._view_event(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1)) is False
    assert w._view_event(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1))
    assert m.fit  # a double click
    assert m.show_marks and m.layout.chapters.h
    ev(pygame.KEYDOWN, key=pygame.K_c, mod=0, unicode="c")
    assert not m.show_marks and m.layout.chapters.h == 0


@pytest.mark.badinput
def test_a_60000_character_chapter_title_is_drawn_in_a_few_measurements():
    """The title is fitted by a binary search: a frame never waits on a long title."""
    m, painter, screen = _segments_model()
    m.spectrum.chapters[0]["title"] = "W" * 60_000
    real = painter.small
    calls = []

    class Counting:
        def size(self, text):
            calls.append(len(text))
            return real.size(text)

        def render(self, *args):
            return real.render(*args)

        def __getattr__(self, name):
            return getattr(real, name)

    painter.small = Counting()
    fitted = painter._fit("W" * 60_000, 300.0)
    assert fitted is not None and fitted.get_width() <= 300
    assert len(calls) <= 14 and max(calls) <= 1_001
    painter.draw(screen, None)  # the whole panel, with the long title
