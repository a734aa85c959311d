"""Typed options, one slot grid, and the command line derived from them."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamspec.cli import build_parser, main
from streamspec.core.grid import SlotGrid
from streamspec.core.options import (
    LookOptions,
    OptionError,
    QuantizerOptions,
    RenderOptions,
    SamplingOptions,
    SourceOptions,
    ViewOptions,
)

# -- the slot grid ----------------------------------------------------------------------------
starts = st.floats(0, 1e5, allow_nan=False)
steps = st.floats(1e-3, 1e4, allow_nan=False)


@given(start=starts, step=steps, offset=st.sampled_from([0.0, 0.5]), slot=st.integers(0, 10**6))
def test_slot_and_time_round_trip(start, step, offset, slot):
    g = SlotGrid(start, step, offset)
    t = g.time(slot)
    assert g.slot(t) == pytest.approx(slot, abs=1e-6 * max(1, slot))
    assert g.slot_containing(t) == slot
    lo, hi = g.span(slot)
    assert lo <= t <= hi and hi - lo == pytest.approx(step)
    # A slot's sample time is at `offset` into its column (time is linear in columns),
    # and its span is its column.
    assert g.time_of_column(g.column_of_time(t)) == pytest.approx(t, rel=1e-9, abs=1e-6)
    assert g.column_of_time(t) == pytest.approx(slot + offset, abs=1e-6 * max(1, slot))
    assert g.column_of_time(lo) == pytest.approx(slot, abs=1e-6 * max(1, slot))


@given(start=starts, end_after=st.floats(0.01, 1e5), per=st.floats(1e-4, 2.0))
def test_every_grid_covers_start_to_end(start, end_after, per):
    every = end_after * per  # at most 10,000 slots
    end = start + end_after
    g = SlotGrid.every(start, every, end)
    times = [t for _, t in g.times(end=end)]
    assert len(times) == g.slots
    assert times[0] == start and all(t < end for t in times)
    assert g.time(g.slots) >= end - 1e-6 * max(1.0, end)


@given(start=starts, end_after=st.floats(0.01, 1e5), count=st.integers(1, 5000))
def test_spread_grid_is_centred_in_equal_slots(start, end_after, count):
    end = start + end_after
    g = SlotGrid.spread(start, end, count)
    assert g.offset == 0.5 and g.slots == count
    assert g.span(0)[0] == pytest.approx(start, abs=1e-6 * max(1, end))
    assert g.span(count - 1)[1] == pytest.approx(end, rel=1e-9, abs=1e-6)
    assert len(list(g.times(end=end))) == count


def test_grid_rejects_nonsense():
    with pytest.raises(Exception, match="step"):
        SlotGrid(0.0, 0.0)
    with pytest.raises(Exception, match="offset"):
        SlotGrid(0.0, 1.0, 1.0)


# -- options ---------------------------------------------------------------------------------
def test_defaults_live_in_the_options():
    o = RenderOptions()
    assert (o.look.height, o.look.order, o.look.mode) == (400, "hls", "sorted")
    assert (o.quantizer.k, o.quantizer.seed) == (50, 0)
    assert o.source.seek == "fast" and o.source.crop == "auto"
    assert (o.sampling.every, o.sampling.strips, o.sampling.start) == (None, None, 0.0)
    assert ViewOptions().size == (1280, 720)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: LookOptions(height=0), "height must be at least 1"),
        (lambda: LookOptions(height=10**8), "height must be at most 16,383"),
        (lambda: LookOptions(order="rainbow"), "order must be one of hls"),
        (lambda: LookOptions(strip_width=2.5), "strip_width must be a whole number"),
        (lambda: QuantizerOptions(k=True), "k must be a number"),
        (lambda: QuantizerOptions(k=1000), "k must be at most 256"),
        (lambda: SamplingOptions(every=0), "every must be greater than 0"),
        (lambda: SamplingOptions(every=math.inf), "every must be finite"),
        (lambda: SamplingOptions(every=1, strips=3), "every and strips cannot both"),
        (lambda: SamplingOptions(start=5, end=4), "start (0:05) must be before end"),
        (lambda: SourceOptions(seek="slow"), "seek must be one of exact"),
        (lambda: SourceOptions(crop="1:2"), "crop must be auto, none or W:H:X:Y"),
        (lambda: ViewOptions(size="10x10"), "size must be WxH"),
        (lambda: ViewOptions(zoom=33), "zoom must be at most 32"),
        (lambda: RenderOptions.from_kwargs(colour=3), "colour is not an option"),
    ],
)
def test_validated_once_in_the_librarys_words(make, words):
    with pytest.raises(OptionError) as err:
        make()
    assert words in str(err.value)
    assert "--" not in str(err.value)  # library words, not flags


def test_options_are_frozen_and_replace_checks_again():
    look = LookOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        look.height = 3  # type: ignore[misc]
    assert look.replace(height=50).height == 50
    with pytest.raises(OptionError):
        look.replace(height=-1)


def test_from_kwargs_routes_each_name_to_its_group():
    o = RenderOptions.from_kwargs(every=1.5, k=8, height=120, seek="exact", crop="none")
    assert o.sampling.every == 1.5 and o.quantizer.k == 8 and o.look.height == 120
    assert o.source.seek == "exact" and o.source.crop is None
    assert RenderOptions().override(**o.flat()) == o
    assert o.override(crop=None).source.crop is None  # an explicit None is kept


# -- the command line derives its flags from the options ---------------------------------------
def _flags(command: str) -> dict[str, object]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {
        s: a
        for a in sub.choices[command]._actions  # type: ignore[union-attr]
        for s in a.option_strings
    }


@pytest.mark.parametrize("command", ["render", "play", "redraw"])
def test_every_look_flag_comes_from_the_options(command):
    flags = _flags(command)
    fields = {f.name: f for f in dataclasses.fields(LookOptions)}
    shown = {"render": fields, "redraw": fields, "play": {"order": 0, "mode": 0}}[command]
    for name in shown:
        action = flags["--" + name.replace("_", "-")]
        meta = fields[name].metadata
        assert action.help == meta["help"]
        if meta["choices"]:
            assert tuple(action.choices) == meta["choices"]
        if command != "redraw" and meta["kind"] is not bool:
            assert action.default == fields[name].default


def test_seek_choices_are_the_libraries():
    from streamspec.core.options import SEEK_MODES

    assert tuple(_flags("render")["--seek"].choices) == SEEK_MODES


def test_errors_name_the_flag(tmp_path, capsys):
    code = main(["render", "--strip-width", "999", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and "--strip-width must be at most 256" in err
    code = main(["render", "--start", "5", "--end", "4", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and "--start (0:05) must be before --end (0:04)" in err
