"""Colour management as a table (streamspec.media.cmstable).

The Numba kernel against a plain-NumPy trilinear reference; the grid's layout; the
table against the exact formulas at and between its nodes; the roll-off's shape; the
disk cache (keyed by everything the table depends on, atomic, bounded, corrupt files
ignored, safe to share between processes and threads). How the result compares with
outside references (zscale, libplacebo) is tests/test_hdr.py.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from test_colour import TAGS, delta_e, hdr_codes, make_clip

from streamspec.analysis.colour import PEAK_RANGE, ROLLOFF_KNEE, ROLLOFF_WHITE, rolloff
from streamspec.core.options import SourceOptions
from streamspec.media import cmstable, open_source

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
    levels = (c0 * (1 - fv) + c1 * fv) * cmstable.STEP - cmstable.OFFSET
    return np.clip(np.floor(levels + 0.5), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def smooth_table() -> np.ndarray:
    """A table like a real mapping: smooth in every axis, running beyond 0..255 on both
    sides (what is clipped per pixel)."""
    y, u, v = (c.reshape(N, N, N) for c in cmstable.grid())
    yf, uf, vf = y / 65535.0, u / 65535.0, v / 65535.0
    rgb = np.stack([yf + 0.7 * (vf - 0.5), yf - 0.3 * (uf - 0.5), yf**2 + 0.9 * (uf - 0.5)], -1)
    stored = np.clip(np.rint((rgb * 255 + cmstable.OFFSET) / cmstable.STEP), 0, 255)
    return np.ascontiguousarray(stored.astype(np.uint8))


PQ = cmstable.Mapping(
    kr=0.2627,
    kb=0.0593,
    full_range=False,
    bits=10,
    transfer="smpte2084",
    primaries="bt2020",
    tonemap="rolloff",
    peak=1000.0,
)


@pytest.fixture(scope="module")
def pq_table() -> np.ndarray:
    return cmstable.build(PQ)


def test_kernel_matches_numpy_reference(smooth_table):
    rng = np.random.default_rng(7)
    yuv = rng.integers(0, 65536, (37, 53, 3), dtype=np.uint16)
    yuv[0, :3] = [[0, 0, 0], [65535, 65535, 65535], [512, 65535, 0]]  # the edges
    got = cmstable.apply_table(yuv, smooth_table)
    want = reference(yuv, smooth_table)
    assert (want == 0).any() and (want == 255).any()  # the clip is exercised
    diff = np.abs(got.astype(int) - want.astype(int))
    # float32 against float64: only a value sitting on .5 may round the other way
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99


def test_table_is_the_formulas_at_and_between_nodes(pq_table):
    """At a node the table is :func:`cmstable.convert` (to half a STEP); between nodes,
    on HDR10 values, within CIEDE2000 2 (99 % within 1)."""
    rng = np.random.default_rng(3)
    k = rng.integers(0, N, (500, 3))
    exact = cmstable.convert(PQ, *(np.minimum(k * 512, 65535)[:, i] for i in range(3)))
    stored = pq_table[k[:, 2], k[:, 1], k[:, 0]] * cmstable.STEP - cmstable.OFFSET
    inside = (exact > -cmstable.OFFSET) & (exact < 255 * cmstable.STEP - cmstable.OFFSET)
    assert inside.mean() > 0.5  # (values beyond are stored at the bounds)
    assert np.abs(stored - exact)[inside].max() <= cmstable.STEP / 2 + 1e-9
    # limited-range 10-bit values, as decoders give them
    yuv = (rng.integers([64, 64, 64], [941, 961, 961], (64, 64, 3)) << 6).astype(np.uint16)
    got = cmstable.apply_table(yuv, pq_table)
    want = cmstable.to_srgb(cmstable.convert(PQ, yuv[..., 0], yuv[..., 1], yuv[..., 2]))
    de = delta_e(got, want)
    assert de.max() < 2.0 and np.percentile(de, 99) < 1.0, de.max()


def test_rolloff_shape():
    """Untouched below the knee; reference white lands on ROLLOFF_WHITE whatever the
    peak; the peak lands on SDR white; monotonic and continuous everywhere."""
    x = np.linspace(0.0, 60.0, 300001)
    for peak in (100.0, 250.0, 400.0, 1000.0, 4000.0, 10000.0, 20000.0):
        y = rolloff(x, peak)
        assert (np.diff(y) >= -1e-12).all(), peak
        assert np.abs(np.diff(y)).max() < 1e-3, peak  # no jump
        low = x <= ROLLOFF_KNEE
        assert np.allclose(y[low], x[low], rtol=1e-9, atol=1e-12)
        assert rolloff(1.0, peak) == pytest.approx(ROLLOFF_WHITE, abs=1e-9)
        top = min(max(peak, PEAK_RANGE[0]), PEAK_RANGE[1]) / 203.0
        assert rolloff(top, peak) == pytest.approx(1.0, abs=1e-9)
        assert y.max() <= 1.0 + 1e-12
    # a higher peak leaves more room above reference white: darker at the same light
    assert rolloff(3.0, 4000.0) < rolloff(3.0, 1000.0) < 1.0


@pytest.mark.slow
def test_nodes_give_the_table_back(smooth_table):
    """At a node the table's own value comes back (clipped and rounded), and the grid is
    laid out [v, u, y]."""
    y, u, v = cmstable.grid()
    assert y.shape == (N * N, N) and y.dtype == np.uint16
    assert y[0].tolist() == [min(k * 512, 65535) for k in range(N)]
    assert u[:N, 0].tolist() == [min(k * 512, 65535) for k in range(N)]
    # below the top nodes (65535 stands for 65536 there, a 512th of a step short)
    yuv = np.stack([y, u, v], -1).reshape(N, N, N, 3)[:-1, :-1, :-1]
    got = cmstable.apply_table(yuv.reshape(-1, N - 1, 3), smooth_table)
    want = reference(yuv.reshape(-1, N - 1, 3), smooth_table).reshape(N - 1, N - 1, N - 1, 3)
    assert np.array_equal(got.reshape(N - 1, N - 1, N - 1, 3), want)


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


def test_the_key_is_the_mapping(tmp_path, monkeypatch):
    """Every number a table depends on is in its name (a peak from other metadata, a
    range, a bit depth...), so a cache shared by a whole test session -- or by films
    with and without HDR10 metadata -- never hands one film another's table."""
    names = {cmstable.key(PQ)}
    for change in (
        {"peak": 4000.0},
        {"full_range": True},
        {"bits": 12},
        {"tonemap": "clip"},
        {"transfer": "arib-std-b67"},
        {"primaries": "smpte432"},
        {"kr": 0.2126, "kb": 0.0722},
    ):
        names.add(cmstable.key(dataclasses.replace(PQ, **change)))
    assert len(names) == 8
    assert cmstable.key(PQ) == cmstable.key(dataclasses.replace(PQ))
    # tables of an earlier layout (sampled from swscale) are never taken for these
    before = cmstable.key(PQ)
    monkeypatch.setattr(cmstable, "_VERSION", cmstable._VERSION - 1)
    assert cmstable.key(PQ) != before


def test_cache_shared_by_threads(tmp_path, monkeypatch, smooth_table):
    """Writers of the same table at once (threads of one process: the same pid) each
    write a temp file of their own; a reader sees a whole table or none."""
    monkeypatch.setenv("STREAMSPEC_CACHE", str(tmp_path))
    name = cmstable.key(PQ)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                cmstable.save(name, smooth_table)
                got = cmstable.load(name)
                assert got is None or np.array_equal(got, smooth_table)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert np.array_equal(cmstable.load(name), smooth_table)
    assert not list(tmp_path.glob(".*part"))


def test_hdr10_source_uses_the_table(tmp_path, monkeypatch):
    """A source converts through its table (built once, then found in the cache by the
    next source): the same pixels as the exact formulas, within the table's accuracy;
    the peak it used is recorded."""
    monkeypatch.setenv("STREAMSPEC_CACHE", str(tmp_path / "cache"))
    codes, _ = hdr_codes("pq")
    clip = make_clip(tmp_path / "hdr.mkv", codes, tags=TAGS["pq"], size=(96, 54))
    with open_source(str(clip), SourceOptions(seek="exact")) as src:
        frames = list(src.frames())
        got = [f.to_rgb((96, 54)) for f in frames]
        mapping = src._converter.mapping(frames[0].raw)
        colour = src.info.colour
    assert mapping == PQ and colour["peak"] == {"nits": 1000.0, "from": None}
    assert len(list((tmp_path / "cache").glob("cms-*.npy"))) == 1
    import av

    pre = av.video.reformatter.VideoReformatter()
    for frame, mine in zip(frames, got, strict=True):
        yuv = pre.reformat(frame.raw, 96, 54, "yuv444p16le", interpolation="AREA").to_ndarray()
        exact = cmstable.to_srgb(cmstable.convert(PQ, yuv[..., 0], yuv[..., 1], yuv[..., 2]))
        assert delta_e(exact[27, 48], mine[27, 48]) < 1.5, (exact[27, 48], mine[27, 48])
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

    from videos import colour_film

    from streamspec.media import pyav

    monkeypatch.setattr(pyav, "_TIMEOUT", 0.3)
    # noisy, so that the file is larger than the demuxer's read buffer
    colours = [(200, 30, 30), (30, 30, 200)]
    clip = colour_film(
        tmp_path / "c.mkv", seconds=2.0, colours=colours, size=(320, 240), noise=60, gop=5
    )
    with open_source(str(clip), SourceOptions(seek="exact")) as src:
        first = src.frames()
        next(first)  # a pass, suspended after its first frame
        time.sleep(0.6)
        assert len(list(src.frames(1.0))) == 25  # a new pass: it seeks
        assert src.errors == 0


def test_wide_gamut_sdr_keeps_its_colours():
    """SDR through a table: BT.709 comes back as it went in; a Display P3 source (BT.709
    curve, shown with BT.1886's gamma 2.4) gives the BT.709 colours it was made from."""
    from streamspec.analysis.colour import primaries_matrix

    colours = np.array([[220, 30, 30], [30, 160, 40], [40, 60, 210], [224, 172, 140], [128] * 3])
    kr, kb = 0.2126, 0.0722

    def codes(signal):
        y = kr * signal[:, 0] + (1 - kr - kb) * signal[:, 1] + kb * signal[:, 2]
        cb, cr = (signal[:, 2] - y) / (2 * (1 - kb)), (signal[:, 0] - y) / (2 * (1 - kr))
        return [np.rint((16 + 219 * y) * 256), np.rint((128 + 224 * cb) * 256),
                np.rint((128 + 224 * cr) * 256)]  # fmt: skip

    sdr = dataclasses.replace(
        PQ, kr=kr, kb=kb, bits=8, transfer="bt709", primaries="bt709", tonemap="clip"
    )
    same = cmstable.convert(sdr, *codes(colours / 255.0))
    assert np.abs(same - colours).max() < 0.6
    light = (colours / 255.0) ** 2.4 @ np.linalg.inv(primaries_matrix("smpte432")).T
    p3 = dataclasses.replace(sdr, primaries="smpte432")
    back = cmstable.convert(p3, *codes(light ** (1 / 2.4)))
    assert np.abs(back - colours).max() < 0.6, back
