"""`streamspec quantize`: formats, outputs, and bad inputs of every kind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import subprocess_env
from PIL import Image

from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.outputs.quantize import load_rgb, quantize_file


def gradient(h: int = 90, w: int = 120) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), 255 - x * 255 // (w - 1)], 2).astype(
        np.uint8
    )


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    p = tmp_path / "photo.png"
    Image.fromarray(gradient()).save(p)
    return p


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_palette_png_and_report(photo, tmp_path, capsys):
    out = tmp_path / "q.png"
    code, stdout, stderr = run_cli(["quantize", str(photo), "-k", "8", "-o", str(out)], capsys)
    assert code == 0, stderr
    for word in ("colours", "MSE", "PSNR", "input bytes", "output bytes", "ratio"):
        assert word in stdout
    img = Image.open(out)
    assert img.mode == "P"
    assert len(img.getcolors()) <= 8
    # The reported MSE is the saved image's.
    mse = float(stdout.split("MSE")[1].split()[0])
    saved = np.asarray(img.convert("RGB")).astype(np.float64)
    assert mse == pytest.approx(((saved - gradient()) ** 2).sum(-1).mean(), rel=1e-6)
    assert not list(tmp_path.glob(".*part"))


@pytest.mark.slow
def test_more_than_256_colours_gives_rgb(photo, tmp_path):
    r = quantize_file(photo, 300, tmp_path / "q.png")
    assert Image.open(r.output).mode == "RGB"
    assert 256 < r.colours <= 300
    assert r.psnr > 30


def test_compare_side_by_side(photo, tmp_path, capsys):
    out = tmp_path / "q.png"
    code, stdout, _ = run_cli(
        ["quantize", str(photo), "-k", "4", "-o", str(out), "--compare"], capsys
    )
    assert code == 0
    side = Image.open(tmp_path / "q-compare.png")
    assert side.size == (240, 90)
    np.testing.assert_array_equal(np.asarray(side.convert("RGB"))[:, :120], gradient())
    assert "compare" in stdout


def test_rgba_alpha_is_kept(tmp_path):
    rgba = np.dstack([gradient(), np.full((90, 120), 255, np.uint8)])
    rgba[:, :30, 3] = 0
    src = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(src)
    r = quantize_file(src, 6, tmp_path / "q.png")
    out = Image.open(r.output)
    assert out.mode == "P" and "transparency" in out.info
    alpha = np.asarray(out.convert("RGBA"))[:, :, 3]
    np.testing.assert_array_equal(alpha, rgba[:, :, 3])
    # Soft alpha cannot live in a palette: the result is RGBA with the same alpha.
    rgba[:, 30:60, 3] = 128
    Image.fromarray(rgba, "RGBA").save(src)
    r = quantize_file(src, 6, tmp_path / "q2.png")
    out = Image.open(r.output)
    assert out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out)[:, :, 3], rgba[:, :, 3])


def test_grayscale_and_16bit(tmp_path):
    grey = gradient()[:, :, 0]
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    r = quantize_file(tmp_path / "g.png", 4, tmp_path / "gq.png")
    q = np.asarray(Image.open(r.output).convert("RGB"))
    assert (q[:, :, 0] == q[:, :, 1]).all() and (q[:, :, 1] == q[:, :, 2]).all()

    deep = (grey.astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    rgb, alpha = load_rgb(tmp_path / "d.png")
    assert alpha is None
    np.testing.assert_array_equal(rgb[:, :, 0], grey)  # scaled, not clipped to white
    r = quantize_file(tmp_path / "d.png", 16, tmp_path / "dq.png")
    assert r.psnr > 28  # 16 grey levels over 0..255: ~29.9 dB at best


def test_cmyk_jpeg(tmp_path):
    Image.fromarray(gradient()).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    rgb, _ = load_rgb(tmp_path / "c.jpg")
    assert rgb.shape == (90, 120, 3)
    assert np.abs(rgb.astype(int) - gradient()).mean() < 12
    r = quantize_file(tmp_path / "c.jpg", 8, tmp_path / "cq.png")
    assert r.colours == 8


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((40, 100, 3), np.uint8)
    img[:, :50] = [255, 0, 0]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    Image.fromarray(img).save(tmp_path / "o.jpg", exif=exif, quality=95)
    rgb, _ = load_rgb(tmp_path / "o.jpg")
    assert rgb.shape == (100, 40, 3)
    assert rgb[10, 20, 0] > 200 and rgb[90, 20, 0] < 60  # red ends up on top


def _truncated(tmp_path: Path) -> Path:
    src = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), np.uint8)).save(src)
    data = src.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("text", "not an image"),
        ("truncated", "cannot be decoded"),
        ("k0", "must be at least 1"),
        ("kneg", "must be at least 1"),
        ("kword", "whole number"),
        ("kbig", "-k must be at most 65,536"),
        ("out_missing_dir", "does not exist"),
        ("out_is_file_dir", "not a directory"),
        ("out_is_dir", "is a directory"),
        ("out_readonly", "not writable"),
    ],
)
def test_bad_input_is_one_line_exit_2(case, message, photo, tmp_path, capsys):
    src, k, out = str(photo), "4", str(tmp_path / "q.png")
    if case == "missing":
        src = str(tmp_path / "nope.png")
    elif case == "directory":
        src = str(tmp_path)
    elif case == "text":
        src = str(tmp_path / "notes.png")
        Path(src).write_text("hello, I am not a picture\n")
    elif case == "truncated":
        src = str(_truncated(tmp_path))
    elif case == "k0":
        k = "0"
    elif case == "kneg":
        k = "-3"
    elif case == "kword":
        k = "many"
    elif case == "kbig":
        k = "70000"
    elif case == "out_missing_dir":
        out = str(tmp_path / "no" / "such" / "q.png")
    elif case == "out_is_file_dir":
        out = str(photo / "q.png")
    elif case == "out_is_dir":
        out = str(tmp_path)
    elif case == "out_readonly":
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out = str(ro / "q.png")
        if os.access(ro, os.W_OK) and os.geteuid() == 0:
            out = "/proc/streamspec-test.png"  # root ignores mode bits; /proc refuses anyway
    code, _stdout, stderr = run_cli(["quantize", src, "-k", k, "-o", out], capsys)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert not Path(out).is_file() or case == "out_is_dir"
    if case == "out_readonly":
        (tmp_path / "ro").chmod(0o755)


def test_cli_subprocess_no_traceback(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    proc = subprocess.run(
        [sys.executable, "-m", "streamspec", "quantize", str(bad), "-k", "3"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


MEMORY_SCRIPT = """
import sys
import numpy as np
from PIL import Image
from streamspec.outputs.quantize import quantize_file

def peak():
    # VmHWM, not ru_maxrss: Linux carries the parent's RSS into ru_maxrss across exec.
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM"))

path, out = sys.argv[1], sys.argv[2]
# Compile the kernels first so that compilation is not counted.
small = np.zeros((32, 32, 3), np.uint8); small[:, 16:] = 200
warm = out[:-4] + "-warm.png"  # an output may no longer replace its input
Image.fromarray(small).save(warm); quantize_file(warm, 4, out)
base = peak()
r = quantize_file(path, 64, out)
print(peak() - base, r.width * r.height, r.colours)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_50_megapixel_image_memory(tmp_path):
    """A 50 MP image quantizes holding at most ~4 bytes x pixels x 3 beyond the image."""
    h, w = 5000, 10000
    big = tmp_path / "big.jpg"
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    img = np.empty((h, w, 3), np.uint8)
    img[:, :, 0] = x
    img[:, :, 1] = y
    img[:, :, 2] = (x + y) / 2
    img[::7, ::5] = 30  # texture, so there are many distinct colours
    Image.fromarray(img).save(big, quality=90)
    del img
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(big), str(tmp_path / "q.png")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    extra, pixels, colours = map(int, proc.stdout.split())
    assert pixels == h * w and colours == 64
    image = 3 * pixels  # the decoded RGB image itself
    assert extra - image < 4 * 3 * pixels, f"{(extra - image) / pixels:.1f} bytes/pixel extra"


def _png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width x height`` grey pixels but holds one empty row."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


def test_pixel_limit_is_applied_where_images_are_opened(tmp_path):
    from streamspec.core.limits import MAX_QUANTIZE_PIXELS

    before = Image.MAX_IMAGE_PIXELS
    # Over the limit: refused from the header alone, in one line, before decoding.
    huge = _png_header(tmp_path / "huge.png", 20_000, MAX_QUANTIZE_PIXELS // 20_000 + 1)
    with pytest.raises(InputError, match="decompression bomb") as err:
        load_rgb(huge)
    assert "\n" not in str(err.value)
    # 100 MP (over Pillow's own default, under ours): opened, then found truncated.
    big = _png_header(tmp_path / "big.png", 10_000, 10_000)
    with pytest.raises(InputError) as err:
        load_rgb(big)
    assert "bomb" not in str(err.value)
    assert before == Image.MAX_IMAGE_PIXELS  # Pillow's setting is left as it was
