"""The spectrum JSON as the typed decoder reads it: files written by 0.1.0 and by
0.2.0 (the version before the decoder) load, and for any damage the decoder and the
field checker agree -- it never accepts what the checker refuses, and its message is
the checker's, naming the field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamspec.core.errors import InputError
from streamspec.outputs import spectrum_json
from streamspec.outputs.spectrum import Spectrum, Strip

DATA = Path(__file__).parent / "data"
# Real files: `streamspec render --strips 40 -k 6 --axis --segments auto --chapters FILE`
# of the demo film by release 0.1.0 and by 0.2.0 as it was before this reader.
FILES = sorted(DATA.glob("spectrum-*.json"))


def _checked(path: Path) -> Spectrum | str:
    """The spectrum as the field checker reads it (generic JSON, every field checked
    one by one), or its one-line message."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not JSON"
    try:
        return Spectrum.from_json(data, name=repr(str(path)))
    except InputError as exc:
        return str(exc)


def _decoded(path: Path) -> Spectrum | str:
    try:
        return Spectrum.load(path)
    except InputError as exc:
        return "not JSON" if "is not a spectrum JSON file" in str(exc) else str(exc)


def _same(a: Spectrum, b: Spectrum) -> None:
    for f in ("settings", "source", "slots", "partial", "skipped_frames", "warnings"):
        assert getattr(a, f) == getattr(b, f), f
    assert a.chapters == b.chapters and a.segments == b.segments
    assert sorted(a._strips) == sorted(b._strips)
    for s, t in zip(a.strips, b.strips, strict=True):
        assert (s.index, s.target, s.time, s.provisional) == (
            t.index,
            t.target,
            t.time,
            t.provisional,
        )
        assert s.palette.dtype == t.palette.dtype == np.uint8 and s.palette.shape == t.palette.shape
        assert s.counts.dtype == t.counts.dtype == np.int64
        assert np.array_equal(s.palette, t.palette) and np.array_equal(s.counts, t.counts)
        assert (s.column is None) == (t.column is None)
        if s.column is not None:
            assert np.array_equal(s.column, t.column)


def test_both_versions_are_here():
    assert [f.name for f in FILES] == ["spectrum-0.1.0.json", "spectrum-0.2.0.json"]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_old_files_load_by_the_typed_decoder(path, monkeypatch):
    raw = json.loads(path.read_text())
    # The typed path alone: reading generic JSON again would mean it gave up.
    monkeypatch.setattr(spectrum_json, "parse_json", lambda *a, **k: pytest.fail("fell back"))
    spec = Spectrum.load(path)
    assert len(spec) == len(raw["strips"]) == 40
    for s, d in zip(spec.strips, raw["strips"], strict=True):  # against the file's own text
        assert s.index == d["index"] and s.time == d["time"] and s.target == d["target"]
        assert ["#" + bytes(c).hex() for c in s.palette.tolist()] == d["palette"]
        assert s.counts.tolist() == d["counts"]
        assert s.column is not None and s.column.tobytes().hex() == d["column"]
    assert spec.chapters == raw["chapters"] and spec.segments == raw["segments"]
    assert spec.settings == raw["settings"]
    monkeypatch.undo()
    _same(spec, _checked(path))
    spec.render_image(height=50)  # and it draws


def test_strips_of_different_sizes_and_provisional(tmp_path):
    spec = Spectrum(settings={"start": 0.0, "step": 1.0}, slots=5)
    rng = np.random.default_rng(1)
    for i, k in [(4, 1), (0, 3), (2, 7)]:
        pal = rng.integers(0, 256, (k, 3), dtype=np.uint8)
        cnt = rng.integers(0, 9, k).astype(np.int64)
        cnt[0] = 1
        spec.add(Strip(i, i + 0.0, i + 0.25, pal, cnt, provisional=i == 2))
    out = tmp_path / "s.json"
    out.write_text(json.dumps(spec.to_json()))
    back = Spectrum.load(out)
    _same(back, spec)
    assert back.provisional_slots == [2]


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d: d["strips"][3].__setitem__("index", "3"), "strips[3].index must be"),
        (lambda d: d["strips"][3].__setitem__("index", True), "strips[3].index must be"),
        (lambda d: d["strips"][3].__setitem__("time", math.nan), "strips[3].time must be"),
        (lambda d: d["strips"][3].__setitem__("time", math.inf), "strips[3].time must be"),
        (lambda d: d["strips"][3]["palette"].__setitem__(1, "#12345"), "strips[3].palette[1]"),
        (lambda d: d["strips"][3]["palette"].__setitem__(1, "#12 456"), "strips[3].palette[1]"),
        (lambda d: d["strips"][3]["palette"].__setitem__(1, "#12345\u00e9"), "palette[1]"),
        (lambda d: d["strips"][3]["palette"].__setitem__(1, "1234567"), "strips[3].palette[1]"),
        (lambda d: d["strips"][3].__setitem__("counts", [0] * 6), "strips[3].counts are all 0"),
        (lambda d: d["strips"][3]["counts"].__setitem__(0, 2**63), "strips[3].counts[0]"),
        (lambda d: d["strips"][3].__setitem__("column", "abc"), "strips[3].column"),
        (lambda d: d["strips"][3].__setitem__("column", ""), "strips[3].column"),
        (lambda d: d["strips"][3].__setitem__("provisional", 1), "strips[3].provisional"),
        (lambda d: d["strips"][3].__setitem__("palette", []), "strips[3].palette is empty"),
        (lambda d: d["strips"][5].__setitem__("index", 3), "strips[5].index 3 appears twice"),
        (lambda d: d["source"].__setitem__("fps", math.nan), "source.fps"),
        (lambda d: d.__setitem__("skipped_frames", None), "damaged spectrum file"),
        (lambda d: d.__setitem__("image", {"file": 1}), "image.file"),
    ],
)
def test_damage_is_named_as_the_checker_names_it(tmp_path, mutate, words):
    data = json.loads(FILES[-1].read_text())
    mutate(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))  # NaN and Infinity written as Python writes them
    decoded, checked = _decoded(bad), _checked(bad)
    assert isinstance(decoded, str) and words in decoded
    assert decoded == checked
    assert "\n" not in decoded


def test_deep_nesting_is_one_line(tmp_path):
    bad = tmp_path / "deep.json"
    bad.write_text('{"format":"streamspec-spectrum","settings":' + "[" * 100_000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        Spectrum.load(bad)
    bad.write_text(
        '{"strips":[],"format":"streamspec-spectrum","settings":{},"source":{"x":'
        + '{"a":' * 100_000
        + "1"
        + "}" * 100_000
        + "}}"
    )
    with pytest.raises(InputError, match="nested too deeply"):
        Spectrum.load(bad)


def test_reading_is_bounded_by_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(spectrum_json, "MAX_JSON_BYTES", 1000)
    with pytest.raises(InputError, match="larger than"):
        Spectrum.load(FILES[-1])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["#a0b1c2", "#ZZ0000", "a0b1c2", "", "00ff00", "#a0b1c2#000000"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj, prefix: tuple = ()):
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    )
    for k, v in items:
        yield (*prefix, k)
        yield from _paths(v, (*prefix, k))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_decoder_and_checker_agree_on_any_mutation(tmp_path, data):
    """Any one field of a real file replaced by any JSON value (NaN, infinities, huge
    numbers, wrong types, bad colours): the decoder gives the checker's answer."""
    doc = json.loads(data.draw(st.sampled_from(FILES)).read_text())
    doc["strips"] = doc["strips"][:6]
    path = data.draw(st.sampled_from(list(_paths(doc))))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    parent[path[-1]] = data.draw(JSON_VALUES)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(doc))
    decoded, checked = _decoded(bad), _checked(bad)
    if isinstance(checked, str):
        assert decoded == checked
    else:
        assert not isinstance(decoded, str), decoded
        _same(decoded, checked)
