"""Outputs never replace inputs, and the output extension picks the image format (#9).

Every refusal is one line on stderr, exit 2, before any work: the source is never
opened (``open_source`` / ``Renderer`` are replaced by a tripwire) and no file changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from videos import colour_film

import streamspec
from streamspec.cli import main
from streamspec.core.errors import OutputError
from streamspec.outputs.quantize import quantize_file
from streamspec.outputs.spectrum import Spectrum, Strip

# Part of the generated bad-input suite: python -m pytest -m badinput
pytestmark = pytest.mark.badinput

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220]]
FAST = ["--every", "1", "--height", "50", "-q"]


def run(args: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 3-second clip that tests copy before they try to damage it."""
    d = tmp_path_factory.mktemp("outputs")
    return colour_film(d / "clip.mp4", seconds=3, colours=COLOURS)


@pytest.fixture
def film(clip, tmp_path, monkeypatch) -> Path:
    """``film.mp4`` in the current directory (a fresh copy per test)."""
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "film.mp4"
    p.write_bytes(clip.read_bytes())
    return p


@pytest.fixture
def tripwire(monkeypatch):
    """Fail loudly if a source is opened or a window created: refusals come first."""

    def boom(*a, **k):
        raise AssertionError("work started before the outputs were checked")

    monkeypatch.setattr("streamspec.pipeline.rendering.open_source", boom)
    monkeypatch.setattr("streamspec.live.app.Renderer", boom)
    monkeypatch.setattr("streamspec.live.view.LiveWindow.open", boom)


def _spelling(film: Path, how: str) -> str:
    """A name for ``film.mp4`` spelt ``how``: the same, ``./``, a hard link, a symlink."""
    if how == "same":
        return "film.mp4"
    if how == "dotslash":
        return "./film.mp4"
    if how == "absolute":
        return str(film)
    if how == "hardlink":
        os.link(film, "hard.mp4")
        return "hard.mp4"
    assert how == "symlink"
    os.symlink(film, "link.mp4")
    return "link.mp4"


SPELLINGS = ["same", "dotslash", "absolute", "hardlink", "symlink"]


# -- render ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", SPELLINGS)
def test_render_refuses_to_overwrite_the_video(film, how, capsys, tripwire):
    before = film.read_bytes()
    out = _spelling(film, how)
    code, _, err = run(["render", "film.mp4", "-o", out, *FAST], capsys)
    assert code == 2, err
    assert "is the input video" in err and "-o" in err and one_line(err), err
    assert film.read_bytes() == before and Path(out).read_bytes() == before
    assert not Path("film.json").exists() and not Path(out).with_suffix(".json").exists()
    if how == "symlink":
        assert Path(out).is_symlink()


def test_render_refuses_a_sidecar_over_the_video(film, capsys, tripwire):
    video = film.rename("film.json")  # FFmpeg probes by content; the name is the user's
    before = video.read_bytes()
    code, _, err = run(["render", video, "-o", "film.png", *FAST], capsys)
    assert code == 2 and "output data" in err and "input video" in err and one_line(err), err
    assert video.read_bytes() == before and not Path("film.png").exists()


def test_render_refuses_to_overwrite_the_chapters_file(film, capsys, tripwire):
    chapters = Path("notes.json")
    chapters.write_text("0:00 Red\n0:01 Green\n")
    code, _, err = run(["render", film, "--chapters", chapters, "-o", "notes.png", *FAST], capsys)
    assert code == 2 and "is the chapters file" in err and one_line(err), err
    assert chapters.read_text() == "0:00 Red\n0:01 Green\n" and not Path("notes.png").exists()


# -- play ------------------------------------------------------------------------------
@pytest.mark.parametrize("how", SPELLINGS)
def test_play_refuses_to_overwrite_the_video(film, how, tripwire):
    from streamspec.live.app import play

    before = film.read_bytes()
    out = _spelling(film, how)
    with pytest.raises(OutputError, match="is the input video"):
        play("film.mp4", output=out, exit_at_end=True, announce=lambda s: None)
    assert film.read_bytes() == before and Path(out).read_bytes() == before


def test_play_cli_refuses_before_any_window(film, capsys, tripwire):
    os.symlink(film, "link.json")
    code, _, err = run(["play", "film.mp4", "-o", "link.png", "--exit-at-end"], capsys)
    assert code == 2 and "output data 'link.json' is the input video" in err, err
    assert one_line(err) and Path("link.json").is_symlink()


# -- redraw ----------------------------------------------------------------------------
@pytest.fixture
def drawn(film, capsys) -> Path:
    """``film.mp4`` rendered to ``data/s.png`` + ``data/s.json``."""
    Path("data").mkdir()
    code, _, err = run(["render", film, "-o", "data/s.png", *FAST], capsys)
    assert code == 0, err
    return Path("data/s.json")


@pytest.mark.parametrize("case", ["symlinked_json", "symlinked_dir", "hardlinked_png", "same"])
def test_redraw_refuses_to_overwrite_its_data(drawn, case, capsys):
    data, png = drawn, drawn.with_suffix(".png")
    before = data.read_bytes(), png.read_bytes()
    if case == "symlinked_json":  # the output's sidecar is the data, through a link
        os.symlink(data.resolve(), "alias.json")
        out = "alias.png"
    elif case == "symlinked_dir":  # the same folder under another name
        os.symlink(Path("data").resolve(), "also", target_is_directory=True)
        out = "also/s.png"
    elif case == "hardlinked_png":  # the picture drawn before, under another name
        os.link(png, "copy.png")
        out = "copy.png"
    else:
        out = str(png)
    code, _, err = run(["redraw", data, "-o", out, "--height", "30"], capsys)
    assert code == 2 and "it is drawn from" in err and one_line(err), err
    assert (data.read_bytes(), png.read_bytes()) == before
    if case == "symlinked_json":
        assert Path("alias.json").is_symlink() and not Path("alias.png").exists()
    else:
        assert Path(out).read_bytes() == before[1]


def test_redraw_refuses_to_overwrite_the_chapters_file(drawn, capsys):
    chapters = Path("ch.json")
    chapters.write_text("0:00 Red\n")
    code, _, err = run(["redraw", drawn, "--chapters", chapters, "-o", "ch.png"], capsys)
    assert code == 2 and "is the chapters file" in err and one_line(err), err
    assert chapters.read_text() == "0:00 Red\n"


def test_redraw_refuses_to_overwrite_the_source_video(drawn, capsys):
    # The data records film.mp4 as its source: a redraw must not land on it either.
    before = Path("film.mp4").read_bytes()
    code, _, err = run(["redraw", drawn, "-o", "film.tiff"], capsys)
    assert code == 0, err  # a different name is fine ...
    os.symlink("film.mp4", "film.webp")
    code, _, err = run(["redraw", drawn, "-o", "film.webp"], capsys)
    assert code == 2 and "source video" in err and one_line(err), err  # ... the video is not
    assert Path("film.mp4").read_bytes() == before


# -- quantize --------------------------------------------------------------------------
@pytest.fixture
def photo(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    y, x = np.mgrid[0:40, 0:60]
    rgb = np.stack([x * 4, y * 6, 255 - x * 4], 2).astype(np.uint8)
    p = tmp_path / "photo.png"
    Image.fromarray(rgb).save(p)
    return p


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("out_is_image", "output 'photo.png' is the input image; choose another name with -o"),
        ("out_dotslash", "output 'photo.png' is the input image"),
        ("out_symlink", "is the input image"),
        ("compare_is_image", "--compare image 'photo.png' is the input image"),
        ("compare_is_out", "is the same file as the output; choose another name with --compare"),
        ("compare_default_is_image", "--compare image"),
    ],
)
def test_quantize_refuses_to_overwrite(photo, case, message, capsys):
    before = photo.read_bytes()
    args = ["quantize", "photo.png", "-k", "4"]
    if case == "out_is_image":
        args += ["-o", "photo.png"]
    elif case == "out_dotslash":
        args += ["-o", "./photo.png"]
    elif case == "out_symlink":
        os.symlink(photo, "link.png")
        args += ["-o", "link.png"]
    elif case == "compare_is_image":
        args += ["-o", "q.png", "--compare", "photo.png"]
    elif case == "compare_is_out":
        args += ["-o", "q.png", "--compare", "./q.png"]
    else:  # the default comparison name (q-compare.png) is a link to the image
        os.symlink(photo, "q-compare.png")
        args += ["-o", "q.png", "--compare"]
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and one_line(err), err
    assert photo.read_bytes() == before
    assert not Path("q.png").exists()


def test_quantize_library_refuses_too(photo):
    with pytest.raises(OutputError, match="is the input image"):
        quantize_file(photo, 4, photo)
    with pytest.raises(OutputError, match="same file as the output"):
        quantize_file(photo, 4, "q.png", compare="q.png")


# -- the library -----------------------------------------------------------------------
def test_spectrum_save_refuses_its_source_file(film):
    spec = streamspec.render("film.mp4", every=1, height=20)  # a relative source name
    before = film.read_bytes()
    for name in ("film.mp4", "./film.mp4", str(film)):
        with pytest.raises(OutputError, match="source video"):
            spec.save(name)
    os.symlink(film, "film.json")
    with pytest.raises(OutputError, match=r"output data 'film\.json'"):
        spec.save("film.png")
    assert film.read_bytes() == before and not Path("film.png").exists()
    # Elsewhere the relative name means nothing: it is not compared, and saving works.
    os.chdir(film.parent.parent)
    png, js = spec.save(film.parent / "elsewhere.png")
    assert png.exists() and js.exists()


# -- formats ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "ref.png"
    assert main(["render", str(clip), "-o", str(out), *FAST]) == 0
    return out


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [(".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP"), (".tif", "TIFF"), (".TIFF", "TIFF")],
)
def test_render_writes_the_format_its_extension_names(clip, reference, tmp_path, capsys, ext, fmt):
    out = tmp_path / f"s{ext}"
    code, _, err = run(["render", clip, "-o", out, *FAST], capsys)
    assert code == 0, err
    img = Image.open(out)
    assert img.format == fmt and img.size == (3, 50) and img.mode == "RGB"
    assert img.getexif().get(0x0131, "").startswith("streamspec")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["format"] == "streamspec-spectrum" and len(data["strips"]) == 3
    want = np.asarray(Image.open(reference), dtype=np.int16)
    got = np.asarray(img, dtype=np.int16)
    if fmt == "JPEG":
        assert np.abs(got - want).mean() < 4  # lossy, but the same picture
    else:
        np.testing.assert_array_equal(got, want)  # lossless
    # The sidecar redraws it, and the image's name finds its data.
    again = tmp_path / "again.png"
    code, _, err = run(["redraw", out, "-o", again], capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(reference)))


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("s.gif", "cannot write .gif images"),
        ("s", "has no extension"),
        ("s.json", "cannot write .json images"),
        ("s.mp4", "cannot write .mp4 images"),
    ],
)
def test_unknown_extensions_are_refused_before_work(clip, tmp_path, capsys, tripwire, out, message):
    for command in (["render", clip], ["play", clip, "--exit-at-end"]):
        code, _, err = run([*command, "-o", tmp_path / out], capsys)
        assert code == 2 and message in err and one_line(err), err
        assert ".png, .jpg/.jpeg, .webp or .tif/.tiff" in err
        assert list(tmp_path.iterdir()) == []


def test_unknown_extension_refused_by_redraw_and_quantize(reference, photo, capsys):
    code, _, err = run(["redraw", reference, "-o", "r.gif"], capsys)
    assert code == 2 and "cannot write .gif images" in err and one_line(err), err
    code, _, err = run(["quantize", photo, "-o", "q.bmp"], capsys)
    assert code == 2 and "cannot write .bmp images" in err and one_line(err), err
    code, _, err = run(["quantize", photo, "-o", "q.png", "--compare", "side"], capsys)
    assert code == 2 and "has no extension" in err and one_line(err), err
    assert sorted(p.name for p in Path().iterdir()) == ["photo.png"]


def test_output_directory_is_one_clear_line(clip, tmp_path, capsys, tripwire):
    (tmp_path / "d.png").mkdir()
    for out in (tmp_path, tmp_path / "d.png", "."):
        code, _, err = run(["render", clip, "-o", out, *FAST], capsys)
        assert code == 2 and "is a directory" in err and one_line(err), err


def test_too_large_for_webp_is_refused_before_decoding(clip, tmp_path, capsys, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("decoding started")

    monkeypatch.setattr("streamspec.pipeline.sampling.Sampler.walk", boom)
    out = tmp_path / "wide.webp"
    # 75 frames x 256 px: wider than WebP's 16,383 px, within the general limits.
    args = ["render", clip, "-o", out, "--every", "0.04", "--strip-width", "256", "-q"]
    code, _, err = run(args, capsys)
    assert code == 2 and "too large for a .webp file" in err and one_line(err), err
    assert not out.exists()


def test_partial_spectrum_to_jpeg_is_flattened_and_webp_keeps_alpha(tmp_path):
    palette = np.array([[250, 250, 250], [200, 20, 20]], np.uint8)
    spec = Spectrum(settings={"start": 0.0, "step": 1.0, "height": 10}, slots=3)
    for i in (0, 2):  # slot 1 is empty: transparent in PNG
        spec.add(Strip(i, i, i, palette, np.array([5, 5], np.int64)))
    assert spec.image.mode == "RGBA"
    png, js = spec.save(tmp_path / "p.jpg")
    img = Image.open(png)
    assert img.format == "JPEG" and img.mode == "RGB" and js == tmp_path / "p.json"
    assert np.asarray(img)[:, 1].max() < 40  # the empty slot is black
    webp = Image.open(spec.save(tmp_path / "p.webp")[0])
    assert webp.mode == "RGBA" and np.asarray(webp)[:, 1, 3].max() == 0


def test_oversized_image_keeps_its_data(tmp_path):
    palette = np.array([[10, 200, 10]], np.uint8)
    spec = Spectrum(settings={"start": 0.0, "step": 1.0, "height": 2})
    spec.add(Strip(16999, 0.0, 0.0, palette, np.array([1], np.int64)))
    with pytest.raises(OutputError, match=r"too large for a \.webp file.*data is saved"):
        spec.save(tmp_path / "big.webp")
    assert not (tmp_path / "big.webp").exists()
    assert len(Spectrum.load(tmp_path / "big.json")) == 1  # nothing lost: redraw it


@pytest.mark.parametrize(("ext", "fmt"), [(".jpg", "JPEG"), (".webp", "WEBP"), (".tiff", "TIFF")])
def test_quantize_writes_the_format_its_extension_names(photo, capsys, ext, fmt):
    code, _, err = run(["quantize", photo, "-k", "4", "-o", f"q{ext}", "--compare"], capsys)
    assert code == 0, err
    img = Image.open(f"q{ext}")
    assert img.format == fmt and img.size == (60, 40)
    if fmt != "JPEG":
        assert len(img.convert("RGB").getcolors()) <= 4  # lossless: still 4 colours
    side = Image.open(f"q-compare{ext}")
    assert side.format == fmt and side.size == (120, 40)


def test_quantize_transparency_by_format(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :, :3] = [40, 90, 200]
    rgba[:, 15:, 3] = 255  # the left half is transparent
    src = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(src)
    jpg = Image.open(quantize_file(src, 2, tmp_path / "a.jpg").output)
    assert jpg.mode == "RGB" and np.asarray(jpg)[:, :10].max() < 30  # over black
    for ext in (".webp", ".tif"):
        img = Image.open(quantize_file(src, 2, tmp_path / f"a{ext}").output)
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA"))[:, :, 3], rgba[:, :, 3])
