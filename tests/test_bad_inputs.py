"""Generated bad inputs: absurd sizes, damaged spectrum files, odd requests.

Run alone with ``python -m pytest -m badinput``. Every case must end in one line on
stderr and exit 2 (or succeed) -- never a traceback, never a file outside the outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from videos import make_video, noisy

from streamspec.cli import main
from streamspec.limits import MAX_HEIGHT, MAX_IMAGE_PIXELS, MAX_STRIP_WIDTH

pytestmark = pytest.mark.badinput

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("bad")
    clip = make_video(d / "clip.mp4", noisy(COLOURS, 1.0, size=(64, 48)), seconds=4)
    out = d / "s.png"
    assert (
        main(["render", str(clip), "-o", str(out), "--every", "0.5", "-q", "--height", "60"]) == 0
    )
    return clip, out.with_suffix(".json")


def run(args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- sizes ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, words",
    [
        (["--height", "100000000"], f"at most {MAX_HEIGHT:,}"),
        (["--height", "0"], "at least 1"),
        (["--strip-width", str(MAX_STRIP_WIDTH + 1)], f"at most {MAX_STRIP_WIDTH}"),
        (["--strips", "100000", "--strip-width", "2"], "65,500 px"),
        (["--strips", "20000", "--height", "16000"], f"{MAX_IMAGE_PIXELS:,} pixels"),
        (["-k", "100000"], "at most 256"),
    ],
)
def test_render_refuses_absurd_sizes_before_any_work(rendered, tmp_path, capsys, extra, words):
    clip, _ = rendered
    out = tmp_path / "o.png"
    code, _, err = run(["render", clip, "-o", out, "-q", *extra], capsys)
    assert words in one_line_error(code, err)
    assert list(tmp_path.iterdir()) == []


def test_library_render_refuses_absurd_height(rendered):
    import streamspec
    from streamspec.errors import InputError

    clip, _ = rendered
    with pytest.raises(InputError, match="at most"):
        streamspec.Renderer(clip, height=100_000_000)


def test_redraw_refuses_absurd_sizes(rendered, tmp_path, capsys):
    _, js = rendered
    out = tmp_path / "o.png"
    code, _, err = run(["redraw", js, "-o", out, "--height", "100000000"], capsys)
    assert "height" in one_line_error(code, err)
    data = json.loads(js.read_text())
    data["settings"]["height"] = 100_000_000
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, _, err = run(["redraw", bad, "-o", out], capsys)
    assert "settings.height" in one_line_error(code, err)
    assert not out.exists()


# -- damaged spectrum files --------------------------------------------------------------
def _mutated(js: Path, tmp_path: Path, mutate) -> Path:
    data = json.loads(js.read_text())
    mutate(data)
    p = tmp_path / "mutated.json"
    p.write_text(json.dumps(data))
    return p


DAMAGE = [
    (lambda d: d["settings"].__setitem__("height", "400"), "settings.height"),
    (lambda d: d["settings"].__setitem__("order", 7), "settings.order"),
    (lambda d: d["settings"].__setitem__("step", 0), "settings.step"),
    (lambda d: d["settings"].__setitem__("offset", 3), "settings.offset"),
    (lambda d: d.__setitem__("settings", []), "settings must be an object"),
    (lambda d: d["strips"][0].__setitem__("index", -1), "strips[0].index"),
    (lambda d: d["strips"][1].__setitem__("index", d["strips"][0]["index"]), "appears twice"),
    (lambda d: d["strips"][2].__setitem__("palette", "red"), "strips[2].palette"),
    (lambda d: d["strips"][2]["palette"].__setitem__(0, "#zzzzzz"), "strips[2].palette[0]"),
    (lambda d: d["strips"][2]["counts"].pop(), "strips[2].counts has"),
    (lambda d: d["strips"][2]["counts"].__setitem__(0, -5), "strips[2].counts[0]"),
    (lambda d: d["strips"][0].__setitem__("time", "noon"), "strips[0].time"),
    (lambda d: d["strips"][0].pop("counts"), "strips[0].counts"),
    (lambda d: d.__setitem__("strips", {"0": 1}), "strips must be a list"),
    (lambda d: d.__setitem__("chapters", [{"start": "x"}]), "chapters[0].start"),
    (lambda d: d.__setitem__("segments", [{"start": 0, "colours": [{"rgb": [1]}]}]), "rgb"),
    (lambda d: d.__setitem__("slots", -3), "slots"),
    (lambda d: d.__setitem__("format_version", "one"), "format_version"),
    (lambda d: d.__setitem__("format", "other"), "not a streamspec spectrum"),
]


@pytest.mark.parametrize("mutate, words", DAMAGE, ids=[w for _, w in DAMAGE])
def test_redraw_names_the_damaged_field(rendered, tmp_path, capsys, mutate, words):
    _, js = rendered
    bad = _mutated(js, tmp_path, mutate)
    out = tmp_path / "o.png"
    code, _, err = run(["redraw", bad, "-o", out], capsys)
    assert words in one_line_error(code, err)
    assert not out.exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", "null", '"x"', "[" * 100_000, b"\xff\xfe{"],
    ids=["empty", "open", "list", "null", "string", "deep", "not-utf8"],
)
def test_redraw_unreadable_json(tmp_path, capsys, text):
    bad = tmp_path / "bad.json"
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text)
    code, _, err = run(["redraw", bad, "-o", tmp_path / "o.png"], capsys)
    one_line_error(code, err)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj, prefix: tuple = ()):
    """The key path of every value inside a JSON document."""
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    )
    for k, v in items:
        yield (*prefix, k)
        yield from _paths(v, (*prefix, k))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_redraw_survives_any_json_mutation(rendered, tmp_path, capsys, data):
    """Replace any one field of a good file with any JSON value: redraw either works or
    says what is wrong in one line, and writes nothing but its own outputs."""
    _, js = rendered
    doc = json.loads(js.read_text())
    doc["strips"] = doc["strips"][:3]
    path = data.draw(st.sampled_from(list(_paths(doc))))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    parent[path[-1]] = data.draw(JSON_VALUES)
    mutated = doc
    work = tmp_path / "hyp"
    work.mkdir(exist_ok=True)
    src = work / "in.json"
    src.write_text(json.dumps(mutated))
    out = work / "o.png"
    code = main(["redraw", str(src), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code in (0, 2), err
    if code == 2:
        one_line_error(code, err)
    written = {p.name for p in work.iterdir()} - {"in.json"}
    assert written <= {"o.png", "o.json"}
    for p in work.iterdir():
        if p.name != "in.json":
            p.unlink()


# -- quantize ---------------------------------------------------------------------------
def test_quantize_says_the_image_has_fewer_colours(tmp_path, capsys):
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (40, 3), dtype=np.uint8)
    img = palette[rng.integers(0, 40, (32, 32))]
    src = tmp_path / "few.png"
    Image.fromarray(img, "RGB").save(src)
    code, out, err = run(["quantize", src, "-k", "65536", "-o", tmp_path / "q.png"], capsys)
    assert code == 0, err
    distinct = len(np.unique(img.reshape(-1, 3), axis=0))
    assert f"only {distinct} distinct colours, fewer than the 65536 asked" in out


# -- play options -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, words",
    [
        (["--zoom", "100000"], "--zoom"),
        (["--size", "100000x100000"], "--size"),
        (["--volume", "200"], "--volume"),
        (["--audio-track", "0"], "--audio-track"),
    ],
)
def test_play_refuses_absurd_sizes(rendered, tmp_path, capsys, extra, words):
    clip, _ = rendered
    code, _, err = run(["play", clip, "-o", tmp_path / "o.png", *extra], capsys)
    assert words in one_line_error(code, err)
    assert list(tmp_path.iterdir()) == []


def test_missing_or_null_look_settings_take_the_defaults(rendered, tmp_path, capsys):
    """A file with ``height: null`` (or no look settings at all) redraws with the
    defaults instead of failing inside the drawing code (found by the mutation test)."""
    _, js = rendered
    for mutate in (
        lambda d: d["settings"].update(height=None, strip_width=None, order=None),
        lambda d: [d["settings"].pop(k) for k in ("height", "order", "mode", "strip_width")],
    ):
        bad = _mutated(js, tmp_path, mutate)
        out = tmp_path / "o.png"
        code, _, err = run(["redraw", bad, "-o", out], capsys)
        assert code == 0, err
        assert Image.open(out).size[1] == 400


OPTION_VALUES = {
    "--height": st.one_of(st.integers(-5, 20_000), st.just(10**9), st.text(max_size=4)),
    "--strip-width": st.one_of(st.integers(-2, 300), st.text(max_size=3)),
    "--every": st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["1e-9", "0", "-1", "x"])
    ),
    "--strips": st.one_of(st.integers(-3, 10**7), st.just("many")),
    "-k": st.one_of(st.integers(-1, 70_000), st.just("ten")),
    "--start": st.one_of(st.floats(-10, 10), st.sampled_from(["1:00", "::", "-0:01", "9e99"])),
    "--end": st.one_of(st.floats(-10, 10), st.sampled_from(["0:03", "1:2:3:4", "nan"])),
    "--seek": st.sampled_from(["exact", "fast", "keyframes", "slow", ""]),
    "--crop": st.sampled_from(["auto", "none", "10:10:0:0", "999:999:0:0", "0:1:2:3", "x"]),
    "--order": st.sampled_from(["hls", "luma", "step", "count", "rainbow"]),
    "--mode": st.sampled_from(["sorted", "average", "dominant", "slitscan", "loud"]),
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_render_survives_any_option_values(rendered, tmp_path, capsys, data):
    """Any mix of odd option values: a render either works or says what is wrong in one
    line (exit 2), and writes nothing but its own two outputs."""
    clip, _ = rendered
    chosen = data.draw(
        st.lists(st.sampled_from(sorted(OPTION_VALUES)), min_size=1, max_size=4, unique=True)
    )
    args: list[str] = []
    for flag in chosen:
        args += [flag, str(data.draw(OPTION_VALUES[flag]))]
    if "--every" not in chosen and "--strips" not in chosen:
        args += ["--every", "1"]  # keep each example small
    work = tmp_path / "opts"
    work.mkdir(exist_ok=True)
    out = work / "o.png"
    code = main(["render", str(clip), "-o", str(out), "-q", *args])
    _, err = capsys.readouterr()
    assert code in (0, 2), (args, err)
    if code == 2:
        one_line_error(code, err)
    assert {p.name for p in work.iterdir()} <= {"o.png", "o.json"}, args
    for p in work.iterdir():
        p.unlink()
