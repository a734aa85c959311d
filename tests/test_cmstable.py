"""FFmpeg's colour management sampled into a table (streamspec.cmstable, #11).

The Numba kernel against a plain-NumPy trilinear reference; the grid's layout; the disk
cache (keyed, atomic, bounded, corrupt files ignored); and the sampled mapping against
swscale's own colour-managed output on an HDR10 picture.
"""

from __future__ import annotations

import av
import numpy as np
import pytest
from test_colour import TAGS, delta_e, hdr_codes, make_clip

from streamspec import cmstable
from streamspec.options import SourceOptions
from streamspec.sources import open_source

N = cmstable.NODES


def reference(yuv: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of ``table[v, u, y]`` in plain NumPy."""
    step = 65536 / (N - 1)
    p = yuv.astype(np.float64) / step
    i = np.minimum(p.astype(np.int64), N - 2)
    f = (p - i)[..., None]
    y, u, v = i[..., 0], i[..., 1], i[..., 2]
    fy, fu, fv = f[..., 0, :], f[..., 1, :], f[..., 2, :]
    t = table.astype(np.float64)

    def c(dv, du, dy):
        return t[v + dv, u + du, y + dy]

    c00 = c(0, 0, 0) * (1 - fy) + c(0, 0, 1) * fy
    c01 = c(0, 1, 0) * (1 - fy) + c(0, 1, 1) * fy
    c10 = c(1, 0, 0) * (1 - fy) + c(1, 0, 1) * fy
    c11 = c(1, 1, 0) * (1 - fy) + c(1, 1, 1) * fy
    c0 = c00 * (1 - fu) + c01 * fu
    c1 = c10 * (1 - fu) + c11 * fu
    return np.floor(c0 * (1 - fv) + c1 * fv + 0.5).astype(np.uint8)


@pytest.fixture(scope="module")
def smooth_table() -> np.ndarray:
    """A table like a real mapping: smooth in every axis, using the whole 0..255 range."""
    y, u, v = (c.reshape(N, N, N) for c in cmstable.grid())
    yf, uf, vf = y / 65535.0, u / 65535.0, v / 65535.0
    rgb = np.stack([yf + 0.7 * (vf - 0.5), yf - 0.3 * (uf - 0.5), yf**2 + 0.9 * (uf - 0.5)], -1)
    return np.ascontiguousarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8))


def test_kernel_matches_numpy_reference(smooth_table):
    rng = np.random.default_rng(7)
    yuv = rng.integers(0, 65536, (37, 53, 3), dtype=np.uint16)
    yuv[0, :3] = [[0, 0, 0], [65535, 65535, 65535], [512, 65535, 0]]  # the edges
    got = cmstable.apply_table(yuv, smooth_table)
    want = reference(yuv, smooth_table)
    diff = np.abs(got.astype(int) - want.astype(int))
    # float32 against float64: only a value sitting on .5 may round the other way
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99


def test_nodes_give_the_table_back(smooth_table):
    """At a node the table's own value comes back, and the grid is laid out [v, u, y]."""
    y, u, v = cmstable.grid()
    assert y.shape == (N * N, N) and y.dtype == np.uint16
    assert y[0].tolist() == [min(k * 512, 65535) for k in range(N)]
    assert u[:N, 0].tolist() == [min(k * 512, 65535) for k in range(N)]
    # below the top nodes (65535 stands for 65536 there, a 512th of a step short)
    yuv = np.stack([y, u, v], -1).reshape(N, N, N, 3)[:-1, :-1, :-1]
    got = cmstable.apply_table(yuv.reshape(-1, N - 1, 3), smooth_table)
    assert np.array_equal(got.reshape(N - 1, N - 1, N - 1, 3), smooth_table[:-1, :-1, :-1])


def test_cache_round_trip_and_bounds(tmp_path, monkeypatch, smooth_table):
    monkeypatch.setenv("STREAMSPEC_CACHE", str(tmp_path))
    name = cmstable.key(ffmpeg="9.5", tags=(9, 1, 9, 16), md=b"\x01\x02")
    assert name == cmstable.key(md=b"\x01\x02", tags=(9, 1, 9, 16), ffmpeg="9.5")
    assert name != cmstable.key(ffmpeg="9.5", tags=(9, 1, 9, 18), md=b"\x01\x02")
    assert cmstable.load(name) is None
    cmstable.save(name, smooth_table)
    assert np.array_equal(cmstable.load(name), smooth_table)
    assert not list(tmp_path.glob(".*part"))  # written through a temp file, renamed
    # a damaged or foreign file is no table
    (tmp_path / name).write_bytes(b"not a table")
    assert cmstable.load(name) is None
    np.save(tmp_path / name, np.zeros((2, 2), np.uint8))
    assert cmstable.load(name) is None
    # bounded: the oldest beyond MAX_CACHED go
    for i in range(cmstable.MAX_CACHED + 3):
        cmstable.save(cmstable.key(i=i), smooth_table)
    assert len(list(tmp_path.glob("cms-*.npy"))) == cmstable.MAX_CACHED
    assert cmstable.load(cmstable.key(i=cmstable.MAX_CACHED + 2)) is not None
    monkeypatch.setenv("STREAMSPEC_CACHE", "off")
    assert cmstable.cache_dir() is None and cmstable.load(name) is None
    cmstable.save(name, smooth_table)  # nowhere: no error


def test_table_matches_swscale_on_hdr10(tmp_path, monkeypatch):
    """The sampled mapping against swscale's own colour-managed conversion of the same
    16-bit 4:4:4 picture; a second source finds the table in the cache."""
    monkeypatch.setenv("STREAMSPEC_CACHE", str(tmp_path / "cache"))
    codes, _ = hdr_codes("pq")
    # a smooth ramp through every patch: values between the nodes, not only on them
    clip = make_clip(tmp_path / "hdr.mkv", codes, tags=TAGS["pq"], size=(96, 54))
    with open_source(str(clip), SourceOptions(seek="exact")) as src:
        frames = list(src.frames())
        got = [f.to_rgb((96, 54)) for f in frames]
        kwargs = src._reformat_args()
        raws = [f.raw for f in frames]
    assert len(list((tmp_path / "cache").glob("cms-*.npy"))) == 1
    pre, direct = av.video.reformatter.VideoReformatter(), av.video.reformatter.VideoReformatter()
    for raw, mine in zip(raws, got, strict=True):
        small = pre.reformat(raw, 96, 54, "yuv444p16le", interpolation="AREA")
        ref = direct.reformat(small, 96, 54, "rgb24", **kwargs).to_ndarray()
        # uniform patches, some on the gamut's edge where the mapping bends between
        # nodes (measured: at most 6 levels, CIEDE2000 < 1.2)
        assert np.abs(ref.astype(int) - mine.astype(int)).max() <= 8, (ref[0, 0], mine[0, 0])
        assert delta_e(ref[27, 48], mine[27, 48]) < 2, (ref[27, 48], mine[27, 48])
    with open_source(str(clip), SourceOptions(seek="exact")) as src:
        again = [f.to_rgb((96, 54)) for f in src.frames()]
    assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))


def test_a_long_pause_in_a_pass_breaks_no_seek(tmp_path, monkeypatch):
    """PyAV keeps the read timeout armed while a demuxer generator is open; a seek made
    longer than the timeout after a suspended pass's last read used to be interrupted,
    and every read after it failed ("damaged packets", a truncated render) -- what a
    colour-management set-up of several seconds did on a loaded machine. (Matroska: its
    demuxer reads when it seeks.)"""
    import time

    from videos import make_video, noisy

    from streamspec.sources import pyav

    monkeypatch.setattr(pyav, "_TIMEOUT", 0.3)
    # noisy, so that the file is larger than the demuxer's read buffer
    colours = [(200, 30, 30), (30, 30, 200)]
    paint = noisy(colours, 1.0, size=(320, 240), amount=60)
    clip = make_video(tmp_path / "c.mkv", paint, seconds=2.0, size=(320, 240), gop=5)
    with open_source(str(clip), SourceOptions(seek="exact")) as src:
        first = src.frames()
        next(first)  # a pass, suspended after its first frame
        time.sleep(0.6)
        assert len(list(src.frames(1.0))) == 25  # a new pass: it seeks
        assert src.errors == 0
