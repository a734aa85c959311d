"""`streamspec redraw`: the image from the JSON alone, in any look; strip modes everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from videos import colour_film

import streamspec
from streamspec.analysis.colour import linear_to_srgb, srgb_to_linear
from streamspec.analysis.strip import resize_column
from streamspec.cli import main

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    d = tmp_path_factory.mktemp("redraw")
    clip = colour_film(d / "clip.mp4", seconds=6, colours=COLOURS, each=2.0, size=(80, 60))
    out = d / "s.png"
    assert main(["render", str(clip), "-o", str(out), "--every", "0.5", "-q"]) == 0
    return clip, out


def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_redraw_same_settings_is_identical(rendered, tmp_path, capsys):
    _, png = rendered
    out = tmp_path / "again.png"
    code, _stdout, err = run(["redraw", png.with_suffix(".json"), "-o", out], capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(png)))
    assert json.loads(out.with_suffix(".json").read_text())["strips"]


def test_redraw_with_other_looks(rendered, tmp_path, capsys):
    clip, png = rendered
    out = tmp_path / "look.png"
    code, _, err = run(
        [
            "redraw",
            png,
            "-o",
            out,
            "--height",
            "120",
            "--order",
            "luma",
            "--strip-width",
            "2",
            "--axis",
            "--segments",
            "auto",
            "--chapters",
            "auto",
        ],
        capsys,
    )
    assert code == 0, err
    img = Image.open(out)
    assert img.size[0] == 24 and img.size[1] > 120
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["settings"]["order"] == "luma" and data["segments"]
    assert "no chapters" in err  # the clip has none; said, not fatal
    # The same as rendering with those settings in the first place.
    direct = streamspec.render(clip, every=0.5, height=120, order="luma", strip_width=2)
    np.testing.assert_array_equal(np.asarray(img)[:120], np.asarray(direct.image))


@pytest.mark.parametrize("mode", ["average", "dominant", "slitscan"])
def test_modes_in_render_and_redraw(rendered, tmp_path, capsys, mode):
    clip, png = rendered
    out = tmp_path / f"{mode}.png"
    code, _, err = run(["redraw", png, "-o", out, "--mode", mode, "--height", "60"], capsys)
    assert code == 0, err
    img = np.asarray(Image.open(out))
    spec = streamspec.Spectrum.load(png)
    for i, s in enumerate(spec.strips):
        col = img[:, i]
        if mode == "average":
            # the mean in linear light (streamspec.analysis.colour)
            lin = srgb_to_linear(s.palette)
            want = linear_to_srgb((lin * (s.counts / s.counts.sum())[:, None]).sum(0))
            assert (col == want).all()
        elif mode == "dominant":
            assert (col == s.palette[np.argmax(s.counts)]).all()
        else:
            np.testing.assert_array_equal(col, resize_column(s.column, 60))
    direct = tmp_path / f"direct-{mode}.png"
    code, _, err = run(
        ["render", clip, "-o", direct, "--every", "0.5", "--mode", mode, "--height", "60", "-q"],
        capsys,
    )
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(direct)), img)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("not_json", "not a spectrum JSON file"),
        ("other_json", "not a streamspec spectrum file"),
        ("damaged", "damaged spectrum file"),
        ("overwrite", "it is drawn from"),
        ("bad_chapters", "chapters file"),
    ],
)
def test_redraw_bad_input(rendered, tmp_path, capsys, case, message):
    _, png = rendered
    data: Path = png.with_suffix(".json")
    out = tmp_path / "o.png"
    extra: list[str] = []
    if case == "missing":
        data = tmp_path / "missing.json"
    elif case == "directory":
        data = tmp_path
    elif case == "not_json":
        data = tmp_path / "x.json"
        data.write_text("{ not json")
    elif case == "other_json":
        data = tmp_path / "x.json"
        data.write_text('{"hello": 1}')
    elif case == "damaged":
        d = json.loads(png.with_suffix(".json").read_text())
        d["strips"][0]["counts"] = d["strips"][0]["counts"][:-1]
        data = tmp_path / "x.json"
        data.write_text(json.dumps(d))
    elif case == "overwrite":
        out = png
    elif case == "bad_chapters":
        extra = ["--chapters", str(tmp_path / "none.txt")]
    code, _, err = run(["redraw", data, "-o", out, *extra], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_play_mode_average(rendered, tmp_path):
    from streamspec.live.app import play

    clip, _ = rendered
    r = play(
        clip,
        every=0.5,
        mode="average",
        output=tmp_path / "p.png",
        exit_at_end=True,
        window_size=(320, 240),
        announce=lambda s: None,
    )
    img = np.asarray(Image.open(r.png))
    assert (img == img[:1]).all()  # every column is one colour


def test_the_library_refuses_to_redraw_over_its_inputs(rendered, tmp_path):
    """The collision rule is the library's, not only the command line's."""
    from streamspec.core.errors import OutputError
    from streamspec.outputs.redraw import redraw

    _, png = rendered
    data = png.with_suffix(".json")
    chapters = tmp_path / "ch.png"  # a chapters file, whatever its name
    chapters.write_text("0:00 One\n0:03 Two\n")
    before = data.read_bytes(), png.read_bytes(), chapters.read_bytes()
    with pytest.raises(OutputError, match="the spectrum image it is drawn from"):
        redraw(data, png, height=30)  # the image drawn from this data before
    with pytest.raises(OutputError, match="the spectrum data it is drawn from"):
        redraw(png, data.with_suffix(".webp"))  # its .json sidecar is the data
    with pytest.raises(OutputError, match="the chapters file"):
        redraw(data, chapters, chapters=str(chapters))
    assert (data.read_bytes(), png.read_bytes(), chapters.read_bytes()) == before
    assert not data.with_suffix(".webp").exists()
    done = redraw(data, tmp_path / "ok.png", height=30)
    assert done.image == tmp_path / "ok.png" and done.data == tmp_path / "ok.json"
    assert Image.open(done.image).height == 30 and done.warnings == ()
