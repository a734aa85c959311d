"""Generated bad inputs: absurd sizes, damaged spectrum files, odd requests.

Run alone with ``python -m pytest -m badinput``. Every case must end in one line on
stderr and exit 2 (or succeed) -- never a traceback, never a file outside the outputs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import subprocess_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from videos import colour_film

from streamspec.cli import main
from streamspec.core.errors import InputError, OutputError
from streamspec.core.limits import MAX_HEIGHT, MAX_IMAGE_PIXELS, MAX_STRIP_WIDTH

pytestmark = pytest.mark.badinput

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("bad")
    clip = colour_film(d / "clip.mp4", seconds=4, colours=COLOURS)
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
    from streamspec.core.errors import InputError

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


@pytest.mark.slow
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
@pytest.mark.slow
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


# == Crafted inputs, by class ===========================================================
# Each class is fixed once (a helper every command uses) and tested here on the cases
# that found it.


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err, err


# -- an output never replaces an input, whatever its role ---------------------------------
@pytest.mark.parametrize("default_page", [False, True])
def test_render_page_never_replaces_the_chapters_file(rendered, tmp_path, capsys, default_page):
    clip, _ = rendered
    chapters = tmp_path / ("s.html" if default_page else "chap.html")
    chapters.write_text("0:00 Intro\n0:02 Two\n")
    before = chapters.read_bytes()
    html = [] if default_page else [chapters]
    code, _, err = run(
        ["render", clip, "-o", tmp_path / "s.png", "--chapters", chapters, "--html", *html, "-q"],
        capsys,
    )
    assert "is the chapters file" in one_line_error(code, err)
    assert chapters.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [chapters.name]


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_render_page_never_replaces_the_chapters_file_through_a_link(
    rendered, tmp_path, capsys, link
):
    clip, _ = rendered
    chapters = tmp_path / "chap.txt"
    chapters.write_text("0:00 Intro\n0:02 Two\n")
    page = tmp_path / "page.html"
    (page.symlink_to if link == "symlink" else page.hardlink_to)(chapters)
    code, _, err = run(
        ["render", clip, "-o", tmp_path / "s.png", "--chapters", chapters, "--html", page, "-q"],
        capsys,
    )
    assert "is the chapters file" in one_line_error(code, err)
    assert chapters.read_text() == "0:00 Intro\n0:02 Two\n"


@pytest.mark.slow
def test_batch_film_named_like_the_batch_files_keeps_its_data(rendered, tmp_path, capsys):
    clip, _ = rendered
    films = tmp_path / "films"
    films.mkdir()
    for name in ("batch.mp4", "corpus.mp4", "corpus-films.mp4"):
        (films / name).write_bytes(clip.read_bytes())
    out = tmp_path / "out"
    code, _, err = run(["batch", films, "-o", out, "--every", "1", "--jobs", "1", "-q"], capsys)
    assert code == 0, err
    summary = json.loads((out / "batch.json").read_text())
    assert summary["format"] == "streamspec-batch"
    outputs = {Path(f["input"]).name: Path(f["output"]).name for f in summary["films"]}
    assert outputs["batch.mp4"] == "batch-2.png"
    from streamspec.outputs.spectrum import Spectrum, image_mismatch

    for png in outputs.values():
        assert len(Spectrum.load(out / png)) == 4
        assert image_mismatch(out / png) is None


def test_batch_output_never_replaces_a_list_it_reads(rendered, tmp_path, capsys):
    clip, _ = rendered
    out = tmp_path / "out"
    out.mkdir()
    listing = out / "clip.json"  # a list of films that a film's data would be named like
    listing.write_text(f"{clip}\n")
    code, _, err = run(
        ["batch", f"@{listing}", "-o", out, "--every", "1", "--jobs", "1", "-q"], capsys
    )
    assert code == 0, err
    assert listing.read_text() == f"{clip}\n"
    assert (out / "clip-2.png").exists() and (out / "clip-2.json").exists()


# -- a picture and its data are one unit ---------------------------------------------------
def _spectrum(height: int, strips: int = 6, noise: bool = False):
    from streamspec.outputs.spectrum import Spectrum, Strip

    rng = np.random.default_rng(height)
    spec = Spectrum(
        settings={
            "start": 0.0,
            "step": 1.0,
            "height": height,
            "order": "hls",
            "mode": "sorted",
            "strip_width": 1,
        },
        slots=strips,
    )
    for i in range(strips):
        k = 256 if noise else 3
        palette = rng.integers(0, 256, (k, 3), dtype=np.uint8)
        counts = rng.integers(1, 100, k).astype(np.int64)
        column = rng.integers(0, 256, (height, 3), dtype=np.uint8) if noise else None
        spec.add(Strip(i, float(i), float(i), palette, counts, column))
    if noise:
        spec.settings["mode"] = "slitscan"
    return spec


@pytest.fixture()
def small_disk(tmp_path):
    """A 4 MiB file system of its own (tmpfs), to fill for real."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_keeps_the_earlier_picture_and_data_together(small_disk):
    from streamspec.outputs.spectrum import Spectrum

    out = small_disk / "s.png"
    _spectrum(20).save(out)
    before = (out.read_bytes(), out.with_suffix(".json").read_bytes())
    # Leave room for the new data and half its picture: either fits, both do not.
    bigger = _spectrum(2000, strips=120, noise=True)
    json_size = len(json.dumps(bigger.to_json(), separators=(",", ":")))
    buf = io.BytesIO()
    bigger.image.save(buf, format="PNG", compress_level=3)
    png_size = len(buf.getvalue())
    free = os.statvfs(small_disk)
    room = free.f_bavail * free.f_frsize
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * max(0, room - json_size - png_size // 2))
    with pytest.raises(OutputError, match="cannot write"):
        bigger.save(out)
    assert (out.read_bytes(), out.with_suffix(".json").read_bytes()) == before
    assert Spectrum.load(out).look.height == 20
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "s.json", "s.png"]
    from streamspec.outputs.spectrum import image_mismatch

    assert image_mismatch(out) is None


def test_a_second_writer_of_an_output_is_refused_in_one_line(rendered, tmp_path):
    from streamspec.core._io import output_lock

    clip, _ = rendered
    out = tmp_path / "s.png"
    with output_lock(out):  # another streamspec is writing s.png
        done = subprocess.run(
            [sys.executable, "-m", "streamspec", "render", str(clip), "-o", str(out), "-q"],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "is being written by another streamspec" in done.stderr
    assert f"(process {os.getpid()})" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the lock is gone too


_WRITER = """
import sys
from streamspec.core.errors import OutputError
sys.path.insert(0, {tests!r})
from test_bad_inputs import _spectrum
spec = _spectrum({height}, strips=60, noise={height} > 1000)
refused = 0
for _ in range(20):
    try:
        spec.save({out!r})
    except OutputError:
        refused += 1
print(refused)
"""


@pytest.mark.slow
def test_two_writers_never_leave_a_picture_and_data_that_disagree(tmp_path):
    from streamspec.outputs.spectrum import Spectrum

    out = tmp_path / "s.png"
    tests = str(Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER.format(tests=tests, height=h, out=str(out))],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in (100, 2000)
    ]
    for p in procs:
        _, stderr = p.communicate(timeout=240)
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
    height = Spectrum.load(out).look.height
    assert Image.open(out).size[1] == height
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    from streamspec.outputs.spectrum import image_mismatch

    assert image_mismatch(out) is None


_KILLED_IN_SAVE = """
import os, signal, sys
real = os.replace
def replace(src, dst, *a, **kw):
    real(src, dst, *a, **kw)
    if os.path.basename(str(dst)) in ("clip.png", "clip.json"):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of the save
os.replace = replace
from streamspec.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_9_during_a_save_then_resume_redoes_the_torn_film(rendered, tmp_path, capsys):
    from streamspec.outputs.spectrum import Spectrum

    clip, _ = rendered
    out = tmp_path / "out"
    batch = ["batch", str(clip), "-o", str(out), "--every", "1", "--jobs", "1", "-q"]
    code, _, err = run([*batch, "--height", "60"], capsys)
    assert code == 0, err
    log = tmp_path / "killed.log"
    with open(log, "w") as fh:
        killed = subprocess.Popen(
            [sys.executable, "-c", _KILLED_IN_SAVE, *batch, "--height", "80"],
            env=subprocess_env(),
            stdout=fh,
            stderr=fh,
            start_new_session=True,  # its pool's processes too are ended below
        )
        try:
            killed.wait(timeout=240)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(killed.pid, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL, log.read_text()
    # Torn: one of the two files is the new one.
    assert Spectrum.load(out / "clip.json").look.height != Image.open(out / "clip.png").size[1]
    assert [p for p in out.iterdir() if p.name.endswith(".part")]  # the killed one's temp
    code, stdout, err = run([*batch, "--height", "80"], capsys)
    assert code == 0, err
    assert "1 done, 0 skipped" in stdout
    spec = Spectrum.load(out / "clip.json")
    assert spec.look.height == 80 and Image.open(out / "clip.png").size[1] == 80
    assert not [p for p in out.iterdir() if p.name.endswith((".part", ".probe", ".lock"))]
    from streamspec.outputs.spectrum import image_mismatch

    assert image_mismatch(out / "clip.png") is None


def test_a_picture_replaced_behind_its_data_is_told_apart(rendered, tmp_path):
    from streamspec.outputs.spectrum import image_mismatch

    out = tmp_path / "s.png"
    _spectrum(20).save(out)
    _spectrum(30).render_image().save(out)  # a picture that is not the one saved
    assert "not the one its data was saved with" in image_mismatch(out)
    out.unlink()
    assert image_mismatch(out) == "its picture is missing"


def test_temp_names_fit_the_name_limit_and_name_their_writer(tmp_path):
    from streamspec.core._io import clean_stale, make_temp

    target = tmp_path / ("é" * 120 + ".json")  # 245 bytes: legal
    fd, tmp = make_temp(target)
    os.close(fd)
    assert len(Path(tmp).name.encode()) <= 255 and f".{os.getpid()}-" in Path(tmp).name
    assert clean_stale(target) == []  # ours, and we are alive
    # One left by a process that is gone is removed; another file is never touched.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    left = Path(tmp.replace(f".{os.getpid()}-", f".{dead}-"))
    os.rename(tmp, left)
    other = tmp_path / ".someone-elses.part"
    other.write_text("x")
    assert clean_stale(target) == [left]
    assert other.exists()


# -- reads and work are bounded -------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["redraw", "/dev/zero", "-o", "{tmp}/r.png"],
        ["page", "/dev/zero", "-o", "{tmp}/p.html"],
        ["render", "{clip}", "-o", "{tmp}/c.png", "--chapters", "/dev/zero", "-q"],
        ["batch", "@/dev/zero", "-o", "{tmp}/out"],
    ],
)
def test_dev_zero_is_refused_as_soon_as_it_is_read(rendered, tmp_path, capsys, command):
    clip, _ = rendered
    args = [a.format(tmp=tmp_path, clip=clip) for a in command]
    code, _, err = run(args, capsys)
    assert code == 2 and "'/dev/zero' is binary" in err, err
    _no_traceback(err)
    assert list(tmp_path.iterdir()) == []


def test_corpus_refuses_dev_zero(tmp_path, capsys):
    code, _, err = run(["corpus", "/dev/zero", "-o", tmp_path / "c.parquet"], capsys)
    assert code == 2 and "'/dev/zero' is binary" in err, err
    _no_traceback(err)


def test_a_pipe_is_read_by_bytes_read_not_by_its_size(rendered, tmp_path, capsys):
    from streamspec.core.limits import MAX_TEXT_BYTES

    clip, _ = rendered
    fifo = tmp_path / "chapters.fifo"
    os.mkfifo(fifo)
    line = b"0:01 a chapter\n"

    def feed() -> None:  # more than the limit, for as long as it is read
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as fh:
            for _ in range(MAX_TEXT_BYTES // len(line) + 1000):
                fh.write(line)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    code, _, err = run(["render", clip, "-o", tmp_path / "c.png", "--chapters", fifo, "-q"], capsys)
    writer.join(timeout=60)
    assert f"is larger than {MAX_TEXT_BYTES // 2**20} MiB" in one_line_error(code, err)


def test_a_long_chapter_title_is_fitted_in_few_measurements():
    from streamspec.outputs.annotate import fit_text

    calls = []

    def measure(text: str) -> float:
        calls.append(text)
        return 7.0 * len(text)

    title = "x" * 60_000
    fitted = fit_text(title, 300.0, measure)
    assert fitted.endswith("…") and measure(fitted) <= 300.0 < measure(fitted + "x")
    assert len(calls) <= 2 + 12  # a binary search over at most 1,000 characters
    assert fit_text("short", 300.0, measure) == "short"
    assert fit_text("anything", 3.0, measure) == ""


def test_render_with_a_60000_character_chapter_title(rendered, tmp_path, capsys):
    clip, _ = rendered
    chapters = tmp_path / "c.txt"
    chapters.write_text("0:00 " + "W" * 60_000 + "\n0:02 Two\n")
    code, _, err = run(
        ["render", clip, "-o", tmp_path / "s.png", "--chapters", chapters, "--every", "0.5", "-q"],
        capsys,
    )
    assert code == 0, err


def test_glob_through_symlink_loops_ends(rendered, tmp_path, capsys, monkeypatch):
    clip, _ = rendered
    loop = tmp_path / "loop"
    (loop / "d").mkdir(parents=True)
    (loop / "d" / "film.mp4").write_bytes(clip.read_bytes())
    for name in ("a", "b", "c"):  # 3 ** 40 paths for a search that follows them all
        (loop / "d" / name).symlink_to("..")
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(
        ["batch", "loop/**/*.mp4", "-o", "out", "--every", "1", "--jobs", "1", "-q"], capsys
    )
    assert code == 0 and "1 done" in stdout, err
    # And a search is bounded by the files it looks at, in one line.
    from streamspec.pipeline import films

    monkeypatch.setattr(films, "MAX_FILES_SEEN", 3)
    code, _, err = run(["batch", "loop/**/*.mp4", "-o", "out2"], capsys)
    assert "more than 3 files looked at" in one_line_error(code, err)


@pytest.mark.parametrize(
    "command, words",
    [
        (
            ["render", "{clip}", "-o", "{tmp}/j.png", "--jobs", "100000"],
            "--jobs 100,000 is too many",
        ),
        (["batch", "{clip}", "-o", "{tmp}/out", "--jobs", "100000"], "--jobs 100,000 is too many"),
        (["batch", "{clip}", "-o", "{tmp}/out", "--timeout", "inf"], "--timeout must be"),
        (["batch", "{clip}", "-o", "{tmp}/out", "--timeout", "nan"], "--timeout must be"),
        (["quantize", "{png}", "-o", "{tmp}/q.png", "--seed", "-1"], "--seed must be at least 0"),
        (["video", "{clip}", "-o", "{tmp}/v.mp4", "--fps", "1e-5"], "--fps must be at least 1"),
    ],
)
def test_counts_and_numbers_are_bounded_in_one_line(rendered, tmp_path, capsys, command, words):
    clip, js = rendered
    args = [a.format(tmp=tmp_path, clip=clip, png=js.with_suffix(".png")) for a in command]
    code, _, err = run(args, capsys)
    assert words in one_line_error(code, err)
    assert list(tmp_path.iterdir()) == []


# -- names reaching a terminal are escaped -------------------------------------------------
EVIL = "evil\x1b]0;owned\x07\x1b[2J\u202e\x9b\nbatch: 9 done, all good"


def test_shown_escapes_every_control_character():
    from streamspec.core._io import shown

    text = shown(EVIL)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text)
    assert "\\x1b]0;owned\\x07" in text and "\\n" in text and "\\x9b" in text
    assert shown("Amélie — 天気の子.mp4") == "Amélie — 天気の子.mp4"


def _assert_safe(text: str) -> None:
    # (tqdm moves its own bar with \r)
    assert not any((ord(c) < 32 and c not in "\n\r") or 0x7F <= ord(c) <= 0x9F for c in text), text
    assert "\u202e" not in text
    assert not any(line.startswith("batch: 9 done") for line in text.splitlines()), text


def test_batch_and_render_print_names_escaped(rendered, tmp_path, capsys):
    clip, _ = rendered
    films = tmp_path / "films"
    films.mkdir()
    evil = films / f"{EVIL}.mp4"
    evil.write_bytes(clip.read_bytes())
    code, stdout, err = run(
        ["batch", films, "-o", tmp_path / "out", "--every", "1", "--jobs", "1"], capsys
    )
    assert code == 0, err
    _assert_safe(stdout + err)
    assert "\\x1b]0;owned" in err  # the progress line names it, escaped
    code, stdout, err = run(
        ["render", evil, "-o", tmp_path / "s.png", "--every", "1", "--progress"], capsys
    )
    assert code == 0, err
    _assert_safe(stdout + err)
    (films / "bad.mp4").write_bytes(b"not a film")
    code, stdout, err = run(
        ["batch", films / "bad.mp4", films / f"{EVIL}.mkv", "-o", tmp_path / "out2", "--jobs", "1"],
        capsys,
    )
    _assert_safe(stdout + err)


# -- tracebacks --------------------------------------------------------------------------------
def test_deeply_nested_json_is_one_line_everywhere(rendered, tmp_path, capsys):
    clip, _ = rendered
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for args in (
        ["redraw", deep, "-o", tmp_path / "r.png"],
        ["page", deep, "-o", tmp_path / "p.html"],
    ):
        code, _, err = run(args, capsys)
        assert "nested too deeply" in one_line_error(code, err)
    # A batch resuming in a folder holding such a file leaves it alone.
    out = tmp_path / "out"
    out.mkdir()
    (out / "clip.json").write_text(deep.read_text())
    code, _, err = run(["batch", clip, "-o", out, "--every", "1", "--jobs", "1", "-q"], capsys)
    assert code == 0, err
    _no_traceback(err)
    assert (out / "clip.json").read_text() == deep.read_text()
    assert (out / "clip-2.png").exists()


# -- what it writes, it reads --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, words",
    [
        ("start,title\nnan,A\n", "line 2: bad time 'nan'"),
        ("start,title\ninf,A\n", "line 2: bad time 'inf'"),
        ("start,title\n-5,A\n", "line 2: bad time '-5'"),
        ("start,title\n" + "".join(f"{i},c\n" for i in range(100_001)), "at most 100,000"),
    ],
)
def test_chapters_are_checked_by_the_readers_rules(rendered, tmp_path, capsys, text, words):
    clip, _ = rendered
    chapters = tmp_path / "c.csv"
    chapters.write_text(text)
    code, _, err = run(
        ["render", clip, "-o", tmp_path / "s.png", "--chapters", chapters, "-q"], capsys
    )
    assert words in one_line_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]


def test_library_chapters_are_checked_by_the_readers_rules(rendered):
    import streamspec

    clip, _ = rendered
    with pytest.raises(InputError, match="start must be"):
        streamspec.Renderer(clip, chapters=[{"start": float("nan"), "title": "x"}])


def test_what_render_writes_every_reader_reads(rendered, tmp_path, capsys):
    clip, _ = rendered
    chapters = tmp_path / "c.csv"
    chapters.write_text("start,title\n0,A\n1.5,B\n")
    out = tmp_path / "s.png"
    code, _, err = run(["render", clip, "-o", out, "--chapters", chapters, "-q"], capsys)
    assert code == 0, err
    for args in (
        ["redraw", out, "-o", tmp_path / "r.png"],
        ["page", out, "-o", tmp_path / "p.html"],
        ["corpus", tmp_path / "s.json", "-o", tmp_path / "c.parquet", "-q"],
    ):
        code, _, err = run(args, capsys)
        assert code == 0, err


def test_a_nan_duration_is_refused_not_drawn_as_a_page_that_never_draws(rendered, tmp_path, capsys):
    _, js = rendered
    data = json.loads(js.read_text())
    data["source"]["duration"] = float("nan")
    bad = tmp_path / "nan.json"
    bad.write_text(json.dumps(data))  # Python writes NaN; JSON.parse refuses it
    code, _, err = run(["page", bad, "-o", tmp_path / "p.html"], capsys)
    assert "source.duration must be" in one_line_error(code, err)
    assert not (tmp_path / "p.html").exists()


# -- messages blame the right thing ----------------------------------------------------------
@pytest.mark.slow
def test_a_piped_film_is_refused_as_a_pipe(rendered, tmp_path):
    clip, _ = rendered
    with open(clip, "rb") as film:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "streamspec",
                "render",
                "/dev/stdin",
                "-o",
                str(tmp_path / "s.png"),
                "-q",
            ],
            stdin=film,  # a file: /dev/stdin is then a regular file, and renders
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    cat = subprocess.Popen(["cat", str(clip)], stdout=subprocess.PIPE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamspec",
            "render",
            "/dev/stdin",
            "-o",
            str(tmp_path / "p.png"),
            "-q",
        ],
        stdin=cat.stdout,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    cat.stdout.close()
    cat.wait()
    assert done.returncode == 2
    assert "'/dev/stdin' is a pipe" in one_line_error(done.returncode, done.stderr)
    assert "is empty" not in done.stderr


def test_a_legal_long_film_name_renders(rendered, tmp_path, capsys, monkeypatch):
    clip, _ = rendered
    film = tmp_path / ("f" * 240 + ".mp4")  # 244 bytes: NAME_MAX is 255
    film.write_bytes(clip.read_bytes())
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["render", film.name, "--every", "1", "-q"], capsys)
    assert code == 0, err
    code, _, err = run(
        ["batch", film.name, "-o", "out", "--every", "1", "--jobs", "1", "-q"], capsys
    )
    assert code == 0, err


def test_library_batch_refuses_absurd_jobs(rendered, tmp_path):
    from streamspec.pipeline.batch import run_batch

    clip, _ = rendered
    with pytest.raises(InputError, match="jobs 100,000 is too many"):
        run_batch([clip], tmp_path / "out", jobs=100_000)
    assert list(tmp_path.iterdir()) == []
