"""The live view's model, tested without a window."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamspec.analysis.strip import make_strip
from streamspec.core.timefmt import nice_ticks
from streamspec.live.model import PANEL_BG, Layout, LiveModel, Rect
from streamspec.outputs.spectrum import Spectrum, Strip


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def spectrum(slots: int | None = 100, step: float = 2.0) -> Spectrum:
    return Spectrum(
        settings={
            "start": 0.0,
            "step": step,
            "offset": 0.0,
            "height": 400,
            "order": "hls",
            "mode": "sorted",
            "strip_width": 1,
        },
        slots=slots,
    )


def strip(i: int, t: float | None = None, colour=(200, 40, 40)) -> Strip:
    pal = np.array([colour, (20, 20, 200), (240, 240, 240)], np.uint8)
    return Strip(i, 2.0 * i, 2.0 * i if t is None else t, pal, np.array([50, 30, 20]))


@pytest.mark.parametrize("mode", ["below", "right"])
@pytest.mark.parametrize(("w", "h"), [(1280, 720), (640, 1000), (200, 150), (3000, 400)])
def test_layout_fits_and_keeps_aspect(mode, w, h):
    L = Layout.compute(w, h, 16 / 9, mode)
    for r in (L.video, L.panel, L.axis, L.hud):
        assert r.x >= 0 and r.y >= 0 and r.right <= w and r.bottom <= h and r.w > 0 and r.h > 0
    assert abs(L.video.w / L.video.h - 16 / 9) < 0.05 or min(L.video.w, L.video.h) < 20
    if mode == "below":
        assert L.panel.y >= L.video.bottom
    else:
        assert L.panel.x >= L.video.right
    assert L.axis.y == L.panel.bottom


def test_nice_ticks():
    assert nice_ticks(0, 60, 8) == [0, 10, 20, 30, 40, 50, 60]
    assert nice_ticks(3, 17, 8) == [4, 6, 8, 10, 12, 14, 16]
    assert nice_ticks(3, 17, 4) == [5, 10, 15]
    ticks = nice_ticks(0, 7200, 6)
    assert ticks == [0, 1800, 3600, 5400, 7200]
    assert len(nice_ticks(0, 10 * 3600, 5)) <= 6


def test_slot_time_and_hit_testing_round_trip():
    m = LiveModel(spectrum(), duration=200.0, aspect=16 / 9, clock=FakeClock())
    m.resize(1280, 720)
    p = m.layout.panel
    # Slot i is drawn over [x_of_slot(i), x_of_slot(i+1)), the times [2i, 2i + 2) s.
    for i in (0, 10, 99):
        x = m.x_of_slot(i + 0.5)
        assert m.slot_at_x(x) == i
        assert m.time_at_x(x) == pytest.approx(2.0 * i + 1.0)
        assert m.time_at_x(m.x_of_slot(i)) == pytest.approx(2.0 * i)
    assert m.click_time(p.x + 30, p.y + 5) == pytest.approx(m.time_at_x(p.x + 30))
    assert m.click_time(p.x + 30, p.y - 50) is None  # on the video, not the spectrum
    assert m.click_time(p.x + 30, m.layout.axis.y + 3) is not None  # the axis counts


def test_strips_show_when_playback_reaches_them():
    m = LiveModel(spectrum(), duration=200.0, aspect=1.5, clock=FakeClock())
    m.add_strip(strip(0))
    m.add_strip(strip(1))
    m.add_strip(strip(2))
    assert m.visible == {0}
    m.frame_shown(2.0)
    assert m.visible == {0, 1}
    m.frame_shown(4.5)
    assert m.visible == {0, 1, 2}
    assert len(m.spectrum) == 3


def test_live_strips_show_at_once():
    m = LiveModel(spectrum(None), duration=None, aspect=1.5, live=True, clock=FakeClock())
    m.add_strip(strip(5))
    assert 5 in m.visible
    assert "live" in m.hud_text()


def test_follow_scrolls_with_the_playhead():
    m = LiveModel(
        spectrum(2000), duration=4000.0, aspect=1.5, pixels_per_strip=4, clock=FakeClock()
    )
    m.resize(1280, 720)
    assert m.scroll == 0
    m.frame_shown(3000.0)  # slot 1500, far beyond the panel
    x = m.playhead_x
    p = m.layout.panel
    assert p.x + 0.7 * p.w <= x <= p.x + 0.9 * p.w
    m.frame_shown(3999.0)
    assert m.scroll == pytest.approx(m.max_scroll())
    first, last = m.visible_range()
    assert last == 2000 and last - first <= p.w / 4 + 2


def test_seek_keeps_strips_and_reveals_those_jumped_over():
    m = LiveModel(spectrum(), duration=200.0, aspect=1.5, clock=FakeClock())
    for i in range(5):
        m.add_strip(strip(i))
    m.seeked(50.0)
    m.frame_shown(50.0)
    assert m.visible == {0, 1, 2, 3, 4}
    m.seeked(0.0)
    m.frame_shown(0.0)
    assert m.visible == {0, 1, 2, 3, 4}  # once seen, always kept


def test_hover_shows_time_and_top_colours():
    m = LiveModel(spectrum(), duration=200.0, aspect=1.5, clock=FakeClock())
    m.resize(1280, 720)
    m.add_strip(strip(0, colour=(1, 2, 3)))
    p = m.layout.panel
    when, colours, chapter = m.hover_info(int(m.x_of_slot(0.5)), p.y + 10)
    assert when == "0:00" and chapter is None
    assert colours[0] == ((1, 2, 3), 0.5) and [c[1] for c in colours] == [0.5, 0.3, 0.2]
    # An empty slot (not there yet) still tells its time.
    # (the pixel at 7 s, or just before it: a time shown is floored, as a clock shows it)
    x = math.ceil(m.x_of_slot(3.5))
    assert m.hover_info(x, p.y + 10) == ("0:07", [], None)
    assert m.hover_info(x - 1, p.y + 10) == ("0:06", [], None)
    assert m.hover_info(p.x, p.y - 20) is None


def test_panel_pixels_are_the_strips():
    m = LiveModel(spectrum(10), duration=20.0, aspect=1.5, clock=FakeClock())
    m.resize(640, 480)
    m.add_strip(strip(0))
    m.frame_shown(0.0)
    img = m.panel_image()  # fitted: 10 slots across the panel, x first
    p = m.layout.panel
    expected = make_strip(strip(0).palette, strip(0).counts, p.h)
    np.testing.assert_array_equal(img[0], expected)
    np.testing.assert_array_equal(img[p.w // 10 - 1], expected)
    assert (img[p.w // 10 + 1 :] == PANEL_BG).all()  # the other nine are empty
    assert not m.dirty


def test_latency_from_sample_frame_to_strip_on_screen():
    clock = FakeClock()
    m = LiveModel(spectrum(), duration=200.0, aspect=1.5, clock=clock)
    m.add_strip(strip(1))  # made ahead of playback
    clock.t += 5
    m.sample_shown(1)
    m.frame_shown(2.0)
    clock.t += 0.004
    m.presented()
    assert m.stats.latencies == [pytest.approx(0.004)]
    # A strip that arrives after its frame was shown waits for it.
    m.sample_shown(2)
    m.frame_shown(4.0)
    m.presented()
    clock.t += 0.25
    m.add_strip(strip(2))
    m.presented()
    assert m.stats.latencies[-1] == pytest.approx(0.25)


def test_zoom_and_hud():
    m = LiveModel(spectrum(), duration=200.0, aspect=1.5, clock=FakeClock())
    fit = m.layout.panel.w / 100  # opens fitted: 100 slots across the panel
    assert m.fit and m.pps == pytest.approx(fit)
    m.zoom(2.0)
    assert m.pps == pytest.approx(2 * fit) and not m.fit
    m.zoom(0.5)
    assert m.pps == pytest.approx(fit) and m.fit
    for _ in range(10):
        m.zoom(0.5)
    assert m.pps == pytest.approx(fit)  # never below fit
    for _ in range(10):
        m.zoom(2.0)
    assert m.pps == 32
    m.add_strip(strip(0), quantize_ms=9.5)
    m.paused = True
    text = m.hud_text()
    assert "0:00 / 3:20" in text and "1/100 samples" in text and "9.5 ms" in text
    assert "paused" in text


def test_rect():
    r = Rect(10, 20, 30, 40)
    assert r.contains(10, 20) and not r.contains(40, 20) and r.right == 40 and r.bottom == 60


@pytest.mark.slow
def test_a_long_live_session_grows_by_its_strips_only():
    import tracemalloc

    rng = np.random.default_rng(0)
    m = LiveModel(
        spectrum(None, step=1.0), duration=None, aspect=16 / 9, live=True, clock=FakeClock()
    )
    m.resize(1280, 720)

    def real_strip(i: int) -> Strip:
        # The size of a real one: 50 colours, counts, and a 270-row centre column.
        return Strip(
            i,
            float(i),
            float(i),
            rng.integers(0, 256, (50, 3), dtype=np.uint8),
            rng.integers(1, 5000, 50).astype(np.int64),
            rng.integers(0, 256, (270, 3), dtype=np.uint8),
        )

    for i in range(500):  # warm up: caches and containers reach their working size
        m.add_strip(real_strip(i))
        m.frame_shown(float(i))
        m.panel_pixels32()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    n = 3000
    for i in range(500, 500 + n):
        m.add_strip(real_strip(i))
        m.frame_shown(float(i))
        if i % 10 == 0:
            m.panel_pixels32()
            m.presented()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    per_strip = grown / n
    assert per_strip < 2500, f"{per_strip:.0f} bytes per strip"
    # 10 hours at one sample a second:
    assert per_strip * 36000 < 100e6


@pytest.mark.parametrize("offset", [0.0, 0.5])
def test_time_under_a_slot_is_its_sample_time(offset):
    """Slot i's sample time is `offset` into its column (its left edge for --every, its
    centre for --strips): time_at_x and slot_time agree."""
    spec = spectrum(slots=40, step=2.0)
    spec.settings["offset"] = offset
    m = LiveModel(spec, duration=80.0, aspect=16 / 9, pixels_per_strip=4)
    m.scroll = 0.0
    for i in (0, 3, 17):
        x = m.layout.panel.x + (i + offset) * m.pps
        assert m.time_at_x(x) == pytest.approx(spec.slot_time(i))
        assert m.slot_at_x(x) == i
        assert m.slot_of_time(spec.slot_time(i)) == pytest.approx(i)
