"""The live model's parts, each on its own: the viewport's maths, the time axis on
timefmt's one tick rule, the timeline's reveal rules, playback's seeks, the column
cache, the marks, the status line and the segment worker -- and that the model starts
no thread and loads neither PyAV nor pygame."""

from __future__ import annotations

import ast
import itertools
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamspec.analysis.segments import colour_segments
from streamspec.analysis.strip import make_strip
from streamspec.core.timefmt import describe_time, nice_ticks, tick_steps, tick_times
from streamspec.live.axis import LABEL_GAP, TimeAxis, estimated_width
from streamspec.live.columns import PANEL_BG, ColumnCache, provisional_look
from streamspec.live.hud import Stats, StripColours, status_line
from streamspec.live.layout import Rect
from streamspec.live.marks import Chapters, LiveSegments
from streamspec.live.model import LiveModel
from streamspec.live.playback import DEFAULT_FRAME_TIME, Playback, frame_time_of
from streamspec.live.segmenter import SegmentsWorker
from streamspec.live.timeline import StripTimeline
from streamspec.live.viewport import LIVE_PPS, MAX_PPS, MAX_TAPS, Viewport
from streamspec.outputs.spectrum import Spectrum, Strip

PANEL = Rect(8, 400, 1264, 200)
RED = [(220, 30, 30), (200, 60, 40), (160, 20, 20)]
BLUE = [(30, 40, 220), (20, 90, 200), (10, 10, 120)]


def spectrum(slots: int | None = 100, step: float = 2.0, offset: float = 0.0, **settings):
    return Spectrum(
        settings={"start": 0.0, "step": step, "offset": offset, "height": 400, **settings},
        slots=slots,
    )


def strip(i: int, colours=RED, step: float = 2.0, provisional: bool = False) -> Strip:
    return Strip(
        i,
        step * i,
        step * i,
        np.array(colours, np.uint8),
        np.array([50, 30, 20]),
        provisional=provisional,
    )


def timeline(
    slots: int | None = 100, step: float = 2.0, offset: float = 0.0, **settings
) -> StripTimeline:
    duration = None if slots is None else slots * step
    return StripTimeline(spectrum(slots, step, offset, **settings), duration, slots is None)


# -- the viewport ------------------------------------------------------------------------------


@given(
    offset=st.sampled_from([0.0, 0.5]),
    pps=st.floats(0.05, 32.0),
    scroll=st.floats(0.0, 4000.0),
    t=st.floats(0.0, 10_000.0),
)
def test_viewport_time_and_x_round_trip(offset, pps, scroll, t):
    view = Viewport(timeline(5000, 2.0, offset), PANEL, pps)
    view.scroll = scroll
    assert view.time_at_x(view.x_of_time(t)) == pytest.approx(t, abs=1e-6)
    column = view.timeline.grid.column_of_time(t)
    assert view.column_at_x(view.x_of_slot(column)) == pytest.approx(column, abs=1e-9)
    slot = math.floor(column)
    assert view.slot_at_x(view.x_of_slot(slot + 0.5)) == slot
    # A slot's sample time sits `offset` into its column.
    assert view.x_of_time(view.timeline.grid.time(slot)) == pytest.approx(
        view.x_of_slot(slot + offset)
    )


def test_viewport_clamps_time_to_the_film():
    view = Viewport(timeline(100), PANEL)
    assert view.time_at_x(PANEL.x - 500) == 0.0
    assert view.time_at_x(PANEL.right + 500) == 200.0


@given(
    factors=st.lists(st.floats(0.2, 5.0), min_size=1, max_size=8),
    where=st.floats(0.05, 0.95),
)
def test_viewport_zoom_keeps_the_column_under_the_pointer(factors, where):
    view = Viewport(timeline(3600), PANEL)
    x = PANEL.x + where * PANEL.w
    for factor in factors:
        before = view.column_at_x(x)
        view.zoom(factor, x, playhead=0.0)
        assert view.min_pps() <= view.pps <= MAX_PPS
        assert 0.0 <= view.scroll <= view.max_scroll() + 1e-9
        if view.fit:  # zoomed all the way out: the whole film, from its start
            assert view.pps == pytest.approx(PANEL.w / 3600) and view.scroll == 0.0
        elif 0 < view.scroll < view.max_scroll():  # not pushed back at an end
            assert view.column_at_x(x) == pytest.approx(before)


def test_viewport_fit_follow_and_pan():
    view = Viewport(timeline(2000), PANEL)
    assert view.fit and view.pps == pytest.approx(PANEL.w / 2000) and view.scroll == 0
    view.zoom(16.0, PANEL.x, playhead=0.0)
    assert not view.fit and view.follow
    # Playing on: the playhead rides at 80 % of the panel.
    for t in np.arange(0.0, 1000.0, 0.5):
        moved = view.timeline.grid.slot(t) - view.timeline.grid.slot(t - 0.5)
        view.keep_in_sight(t, moved)
        assert view.in_view(t)
    assert view.x_of_time(999.5) == pytest.approx(PANEL.x + 0.8 * PANEL.w, abs=2 * view.pps)
    # Panning the playhead out of view stops following; fit_view resumes it.
    view.pan(PANEL.w, playhead=999.5)
    assert not view.follow and not view.in_view(999.5)
    view.keep_in_sight(1000.0, 1.0)
    assert not view.in_view(1000.0)
    view.fit_view(playhead=1000.0)
    assert view.fit and view.follow and view.scroll == 0


def test_a_live_viewport_scrolls_at_its_default_zoom():
    line = timeline(None, 1.0)
    view = Viewport(line, PANEL)
    assert not view.fit and view.pps == LIVE_PPS
    for i in range(1000):
        line.arrive(strip(i, step=1.0), float(i))
        view.clamp()
        view.keep_in_sight(float(i), 1.0)
    assert view.in_view(999.0) and view.max_scroll() == 1000 - PANEL.w / LIVE_PPS
    view.pan(-10 * PANEL.w, playhead=999.0)  # forward, past the newest strip
    assert view.scroll == view.max_scroll()


@pytest.mark.parametrize("pps", [40.0, 3.0, 1.0, 0.7, 0.5, 0.26, 0.05])
def test_viewport_taps_cover_each_pixels_span(pps):
    view = Viewport(timeline(50_000), PANEL, pps)
    view.scroll = 37.25
    taps = view.taps()
    m = min(max(math.ceil(1 / pps - 1e-9), 1), MAX_TAPS)
    assert taps.shape == (m, PANEL.w)
    for px in range(0, PANEL.w, 7):
        x = PANEL.x + px
        if m == 1:  # the slot under the pixel's centre
            assert taps[0, px] == view.slot_at_x(x + 0.5)
        else:  # spread over the pixel's span of strips, in order
            lo, hi = view.column_at_x(x), view.column_at_x(x + 1)
            assert math.floor(lo) <= taps[0, px] and taps[-1, px] < hi
            assert (np.diff(taps[:, px]) >= 0).all()
    # Outside the timeline: -1 (the first pixel's span all before slot 0).
    view.scroll = -1.0 / pps
    assert (view.taps()[:, 0] == -1).all()


# -- the time axis: timefmt's tick rule --------------------------------------------------------


def test_tick_steps_are_one_rule():
    steps = tick_steps()
    first = [next(steps) for _ in range(22)]
    assert first[:6] == [1, 2, 5, 10, 15, 30]
    assert first[6:12] == [60, 120, 300, 600, 900, 1800]
    assert first[12:18] == [3600, 7200, 10800, 21600, 43200, 86400]
    assert first[18:] == [2 * 86400, 4 * 86400, 8 * 86400, 16 * 86400]
    assert next(tick_steps(16)) == 30 and next(tick_steps(30)) == 30
    assert next(tick_steps(3 * 86400)) == 4 * 86400
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError):
            next(tick_steps(bad))
    assert tick_times(3.0, 17.0, 5) == [5, 10, 15]
    assert tick_times(0.0, 20.0, 10) == [0, 10, 20]
    assert tick_times(21.0, 29.0, 10) == []


def _steps_below(step: float) -> list[int]:
    """The nice steps finer than ``step``."""
    return list(itertools.takewhile(lambda s: s < step - 1e-6, tick_steps()))


def _old_nice_ticks(t0: float, t1: float, max_ticks: int) -> list[float]:
    """nice_ticks as it was before the rule had one home (whole hours above 6 h)."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
    span = max(t1 - t0, 1e-9)
    step = next((s for s in steps if span / s <= max_ticks), None)
    if step is None:
        step = 3600 * math.ceil(span / max_ticks / 3600)
    first = math.ceil(t0 / step - 1e-9) * step
    return [first + i * step for i in range(int((t1 - first) // step) + 1)]


@given(
    t0=st.floats(0.0, 1e5),
    span=st.floats(0.1, 1e6),
    max_ticks=st.integers(1, 40),
)
def test_nice_ticks_keep_their_steps_up_to_six_hours(t0, span, max_ticks):
    t1 = t0 + span
    ticks = nice_ticks(t0, t1, max_ticks)
    if span / max_ticks <= 21600:
        assert ticks == _old_nice_ticks(t0, t1, max_ticks)
    assert len(ticks) <= max_ticks + 1
    if len(ticks) > 1:
        step = ticks[1] - ticks[0]
        assert next(tick_steps(step - 1e-6)) == pytest.approx(step)  # a step of the rule
        finer = _steps_below(step)
        assert not finer or span / finer[-1] > max_ticks  # the finest that is few enough


def _layout_at(view: Viewport, axis: Rect, step: float) -> list[tuple[float, float]]:
    """Label boxes every ``step`` s, centred on their ticks and kept inside the axis
    (what the axis would draw at that step)."""
    grid = view.timeline.grid
    t0 = max(view.time_at_x(axis.x), grid.start)
    t1 = min(view.time_at_x(axis.right), view.timeline.end_time())
    boxes = []
    for k in range(math.ceil(t0 / step - 1e-9), math.floor(t1 / step + 1e-9) + 1):
        x = view.x_of_time(k * step)
        if axis.x <= x <= axis.right:
            w = estimated_width(describe_time(k * step))
            left = min(max(x - w / 2, axis.x), axis.right - w)
            boxes.append((left, left + w))
    return boxes


def _touch(boxes: list[tuple[float, float]], axis: Rect) -> bool:
    apart = all(b[0] >= a[1] + LABEL_GAP for a, b in itertools.pairwise(boxes))
    return not apart or any(left < axis.x for left, _ in boxes)


@pytest.mark.parametrize(
    ("slots", "step"),
    [(8, 2.0), (300, 0.5), (3000, 1.0), (3600, 2.0), (5000, 30.0), (4000, 600.0)],
)
@pytest.mark.parametrize("width", [300, 1264, 3000])
def test_axis_labels_are_the_finest_nice_step_that_fits(slots, step, width):
    line = timeline(slots, step)
    axis = Rect(8, 600, width, 20)
    for zoom in (1.0, 3.0, 25.0):
        view = Viewport(line, Rect(8, 400, width, 200))
        view.zoom(zoom, axis.x + width / 3, playhead=0.0)
        labels = TimeAxis().labels(view, axis)
        times = [view.time_at_x(x) for x, _, _ in labels]
        assert [label for _, label, _ in labels] == [describe_time(t) for t in times]
        if len(times) < 2:
            continue
        used = round(times[1] - times[0], 6)
        assert next(tick_steps(used - 1e-6)) == pytest.approx(used)  # a step of the rule
        # Every multiple of the step in view has its label, and none touch.
        boxes = [(left, left + estimated_width(label)) for _, label, left in labels]
        assert boxes == _layout_at(view, axis, used)
        assert not _touch(boxes, axis)
        # The next finer nice step leaves less room than a label and a half (one
        # pushed in from an edge) and the gap: its labels could touch.
        finer = _steps_below(used)
        if finer:
            widest = max(right - left for left, right in _layout_at(view, axis, finer[-1]))
            px_per_s = view.pps / line.grid.step
            assert finer[-1] * px_per_s < 1.5 * widest + LABEL_GAP


def test_a_long_live_axis_steps_in_days_by_the_same_rule():
    line = timeline(None, 3600.0)
    for i in range(5000):  # 208 days of one strip an hour
        line.reveal(i)
    view = Viewport(line, PANEL, 1.0)  # the farthest zoom of a live source
    view.fit_view(playhead=5000 * 3600.0)
    view.zoom(0.1, None, playhead=5000 * 3600.0)
    assert view.pps == 1.0
    labels = TimeAxis().labels(view, Rect(PANEL.x, PANEL.bottom, PANEL.w, 20))
    times = [view.time_at_x(x) for x, _, _ in labels]
    assert len(times) >= 2
    # Doubling after a day: 4 or 8 days here (1 week before the rule had one home).
    steps = {round(b - a) for a, b in itertools.pairwise(times)}
    assert steps in ({4 * 86400}, {8 * 86400})


def test_the_axis_measures_again_with_a_new_font():
    view = Viewport(timeline(3600), PANEL)
    axis = Rect(PANEL.x, PANEL.bottom, PANEL.w, 20)
    ruler = TimeAxis()
    narrow = ruler.labels(view, axis)
    ruler.text_width = lambda text: 30.0 * len(text)  # a much wider font
    wide = ruler.labels(view, axis)
    assert len(wide) < len(narrow)


# -- the timeline and playback ------------------------------------------------------------------


def test_the_timeline_shows_strips_when_playback_reaches_them():
    line = timeline(10)
    assert line.arrive(strip(0), playhead=0.0) == "shown"
    assert line.arrive(strip(3), playhead=0.0) == "waiting"
    assert line.arrive(strip(2), playhead=0.0) == "waiting"
    assert line.arrive(strip(5, provisional=True), playhead=0.0) == "shown"  # a first pass
    assert line.provisional == {5}
    assert line.arrive(strip(5), playhead=0.0) == "shown"  # replaces the one on screen
    assert line.provisional == set()  # the exact strip replaced it
    assert line.arrive(strip(5, provisional=True), playhead=0.0) == "ignored"
    assert line.reach(6.0) == [2, 3]
    assert line.visible == {0, 2, 3, 5}
    assert line.strip(3) is line.spectrum.get(3) and line.strip(4) is None
    # The snapshot is the strips on screen, and stays as it was.
    snap = line.snapshot()
    assert [s.index for s in snap] == [0, 2, 3, 5]
    line.arrive(strip(1), playhead=10.0)
    assert len(snap) == 4 and line.visible == {0, 1, 2, 3, 5}


def test_a_live_timeline_grows_with_its_newest_strip():
    line = timeline(None, 1.0)
    assert line.total_slots() == 1 and line.end_time() == 1.0
    assert line.arrive(strip(41, step=1.0), playhead=0.0) == "shown"  # live: at once
    assert line.total_slots() == 42 and line.end_time() == 42.0


def test_playback_seeks_stay_inside_the_film():
    play = Playback(0.0, 100.0, frame_time_of(25.0), playhead=10.0)
    assert play.clamp_time(-5) == 0.0 and play.clamp_time(500) == pytest.approx(99.95)
    assert play.last_moment == pytest.approx(100.0 - 3 / 25)
    assert play.time_at_fraction(0.5) == 50.0 and play.time_at_fraction(2.0) == 99.95
    live = Playback(0.0, None, playhead=12.0)
    assert live.last_moment == 12.0 and live.time_at_fraction(0.3) == 12.0
    assert live.clamp_time(500.0) == 500.0 - 0.05  # no end: as far as asked (50 ms back)
    for fps in (None, 0, -3, 5000, math.inf):
        assert frame_time_of(fps) == DEFAULT_FRAME_TIME
    assert frame_time_of(50) == 0.02


# -- the panel's pixels ---------------------------------------------------------------------------


def test_the_column_cache_draws_shown_strips_in_the_surfaces_byte_order():
    line = timeline(4)
    cache = ColumnCache(line, line.spectrum.look)
    line.arrive(strip(0), 0.0)
    line.arrive(strip(1, BLUE, provisional=True), 0.0)
    red = make_strip(np.array(RED, np.uint8), np.array([50, 30, 20]), 50)
    blue = provisional_look(make_strip(np.array(BLUE, np.uint8), np.array([50, 30, 20]), 50), 1)
    taps = np.array([[0, 1, 2, -1]])
    for order in [(0, 1, 2), (2, 1, 0)]:
        cache.channel_bytes = order
        px = cache.pixels(taps, 50).view(np.uint8).reshape(4, 50, 4)[:, :, list(order)]
        np.testing.assert_array_equal(px[0], red)
        np.testing.assert_array_equal(px[1], blue)
        assert (px[2] == PANEL_BG).all() and (px[3] == PANEL_BG).all()
    # A strip replaced is drawn again once forgotten; the rows come back for it.
    line.arrive(strip(0, BLUE), 0.0)
    cache.forget(0)
    px = cache.pixels(taps, 50).view(np.uint8).reshape(4, 50, 4)[:, :, [2, 1, 0]]
    assert px[0].tolist() == make_strip(np.array(BLUE, np.uint8), [50, 30, 20], 50).tolist()
    # Two taps a pixel: their mean (rounded half up).
    px = cache.pixels(np.array([[0], [1]]), 50).view(np.uint8).reshape(1, 50, 4)[0]
    exact = make_strip(np.array(BLUE, np.uint8), [50, 30, 20], 50).astype(int)
    np.testing.assert_array_equal(px[:, [2, 1, 0]], (exact + blue + 1) // 2)


# -- marks and the status line -------------------------------------------------------------------


def test_chapters_end_where_the_next_begins():
    spec = spectrum(60, chapters=True)
    spec.chapters = [{"start": 30.0, "title": "Two"}, {"start": 0.0, "title": "One"}]
    marks = Chapters(spec)
    assert marks.spans(120.0) == [(0.0, 30.0, "One"), (30.0, 120.0, "Two")]
    assert marks.at(29.9, 120.0) == "One" and marks.at(120.0, 120.0) is None
    spec.settings["chapters"] = None  # not asked for: none drawn
    assert marks.spans(120.0) == []


def test_segments_run_on_the_worker_and_match_the_synchronous_ones():
    def model(**kw) -> LiveModel:
        m = LiveModel(spectrum(60, segments="auto"), duration=120.0, aspect=1.5, **kw)
        for i in range(60):
            m.add_strip(strip(i, RED if i < 25 else BLUE))
        m.frame_shown(119.0)
        return m

    here = model()  # no runner: found in the caller's thread
    here.update_segments()
    assert [s["first_strip"] for s in here.segments] == [0, 25]
    worker = SegmentsWorker()
    there = model(segments_runner=worker)
    before = threading.active_count()
    there.update_segments()
    worker.wait()
    assert there.segments == []  # found, not taken yet
    there.dirty = False
    there.update_segments()
    assert there.segments == here.segments and there.dirty
    assert threading.active_count() <= before
    worker.close()
    assert worker.error is None
    # Wait: a job under way is finished and taken before returning.
    worker = SegmentsWorker()
    again = model(segments_runner=worker)
    again.update_segments()
    again.update_segments(wait=True)
    assert again.segments == here.segments and not worker.busy
    worker.close()


def test_a_model_without_a_runner_starts_no_thread():
    m = LiveModel(spectrum(60, segments="auto"), duration=120.0, aspect=1.5)
    names = {t.name for t in threading.enumerate()}
    for i in range(60):
        m.add_strip(strip(i))
    m.frame_shown(119.0)
    m.presented()
    assert {t.name for t in threading.enumerate()} <= names
    assert len(m.segments) == 1


def test_the_segment_worker_keeps_a_failure_and_stops_when_closed():
    worker = SegmentsWorker()
    got: list[object] = []

    def broken() -> list:
        raise ValueError("no strips")

    worker.submit(broken, got.append)
    worker.wait()
    assert worker.error == "no strips" and got == []
    line = timeline(20, segments="auto")
    for i in range(20):
        line.arrive(strip(i, RED if i < 10 else BLUE), 100.0)
    look = line.spectrum.look
    found = LiveSegments(look, lambda: 0.0, worker)
    assert not found.update(line)  # started
    worker.wait()
    assert found.update(line)  # taken
    made = colour_segments(line.snapshot(), line.grid, min_seconds=look.min_segment)
    assert found.found == [s.to_dict() for s in made]
    assert len(found.found) == 2
    worker.close()
    worker.submit(lambda: [], got.append)  # after close: nothing starts
    worker.wait()
    assert got == [] and not worker.busy


def test_status_line_and_tooltip_colours():
    line = timeline(100)
    play = Playback(0.0, 200.0, playhead=65.0, volume=80, speed=1.5, paused=True)
    stats = Stats()
    line.arrive(strip(0), 65.0)
    line.arrive(strip(1, provisional=True), 65.0)
    stats.quantize_ms.extend([4.0, 9.0, 5.0])
    stats.decoded.extend([0.0, 0.5, 1.0])
    text = status_line(play, line, stats)
    for part in ("1:05 / 3:20", "2/100 samples", "1 provisional", "decode 2.0 fps"):
        assert part in text
    for part in ("quantize 5.0 ms", "vol 80%", "speed 1.5x", "paused"):
        assert part in text
    play.muted, play.error = True, "gone"
    assert "muted" in status_line(play, line, stats)
    assert status_line(play, line, stats).endswith("error: gone")
    # Near-duplicate colours merge into one, with their shares summed.
    colours = StripColours()
    twin = Strip(
        0,
        0.0,
        0.0,
        np.array([(200, 40, 40), (201, 40, 40), (0, 0, 255)], np.uint8),
        np.array([30, 30, 40]),
    )
    listed = colours.of(0, twin)
    assert len(listed) == 2 and sum(share for _, share in listed) == pytest.approx(1.0)
    assert colours.of(0, twin) is listed  # the same strip: remembered


# -- the model is pure ----------------------------------------------------------------------------

MODEL_PARTS = [
    "model",
    "timeline",
    "playback",
    "viewport",
    "columns",
    "axis",
    "marks",
    "hud",
    "layout",
]
NOT_IN_THE_MODEL = {
    "threading",
    "_thread",
    "concurrent",
    "multiprocessing",
    "asyncio",
    "av",
    "pygame",
}
# The layers the model must not reach into (so the package can be split along them).
NOT_FROM_STREAMSPEC = {
    "rendering",
    "sampling",
    "sources",
    "pipeline",
    "view",
    "painter",
    "app",
    "fill",
    "recorder",
    "audio",
    "segmenter",
    "video",
    "cli",
}


@pytest.mark.parametrize("name", MODEL_PARTS)
def test_the_models_parts_import_no_threads_pygame_pyav_or_pipeline(name):
    path = Path(__file__).resolve().parent.parent / "streamspec" / "live" / f"{name}.py"
    for node in ast.walk(ast.parse(path.read_text())):  # inside functions too
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] + [
                f"{node.module}.{a.name}" if node.module else a.name for a in node.names
            ]
            if node.level == 0 and not (node.module or "").startswith("streamspec"):
                modules = [node.module or ""]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            assert parts[0] not in NOT_IN_THE_MODEL, f"{name} imports {module}"
            assert not set(parts) & NOT_FROM_STREAMSPEC, f"{name} imports {module}"
