"""Colour you can trust (#11): tags, untagged guesses, HDR tone mapping, linear light.

Clips are made here with PyAV from Y'CbCr planes computed from the standards' formulas
(BT.709/BT.601/BT.2020 matrices, SMPTE ST 2084 PQ, ARIB STD-B67 HLG), then rendered with
``mode="average"``; each patch must come back within CIEDE2000 3 of its sRGB value.

HDR reference: SDR white is placed at 203 nits (ITU-R BT.2408) -- PQ patches are
``sRGB linear x 203 nits`` in BT.2020, HLG patches the HLG OETF of ``sRGB linear x
0.2647`` (the scene light whose signal is 75 %, HLG's reference white). A tone-mapped
HDR colour is judged against its SDR original: OKLCh hue within 10 degrees and chroma at
least 80 % of the original's (never washed out); greys within CIEDE2000 3.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import av
import numpy as np
import pytest

from streamspec.analysis.colour import (
    BT2020_TO_BT709,
    MERGE_DISTANCE,
    ciede2000,
    hlg_oetf,
    linear_mean,
    linear_to_srgb,
    merge_colours,
    merge_leaders,
    oklab,
    oklab_grid_to_srgb,
    pq_inverse_eotf,
    srgb_to_lab,
    srgb_to_linear,
    srgb_to_oklab_grid,
)
from streamspec.analysis.segments import segment_spectrum
from streamspec.analysis.strip import make_strip, order_palette
from streamspec.media import open_source
from streamspec.media.colourspace import resolve
from streamspec.outputs.spectrum import Spectrum, Strip, analyze_frame
from streamspec.pipeline.rendering import render

RED, GREEN, BLUE = (220, 30, 30), (30, 160, 40), (40, 60, 210)
SKIN = (224, 172, 140)
SDR_PATCHES = [RED, GREEN, BLUE, SKIN, (128, 128, 128), (235, 235, 235)]
KR_KB = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}
TAGS = {  # AVCOL_SPC, AVCOL_PRI, AVCOL_TRC
    "bt709": (1, 1, 1),
    "bt601": (5, 5, 6),
    "bt2020": (9, 9, 14),
    "pq": (9, 9, 16),
    "hlg": (9, 9, 18),
}
TO_BT2020 = np.linalg.inv(BT2020_TO_BT709)


def ycbcr(signal, matrix: str, bits: int, full: bool) -> tuple[int, int, int]:
    """Y'CbCr code values of non-linear R'G'B' (0..1)."""
    kr, kb = KR_KB[matrix]
    r, g, b = signal
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
    scale = (1 << bits) - 1 if full else 1 << (bits - 8)
    if full:
        return round(y * scale), round((cb + 0.5) * scale), round((cr + 0.5) * scale)
    return (
        round((16 + 219 * y) * scale),
        round((128 + 224 * cb) * scale),
        round((128 + 224 * cr) * scale),
    )


def yuv_frame(codes, size, pix_fmt) -> av.VideoFrame:
    w, h = size
    f = av.VideoFrame(w, h, pix_fmt)
    wide = "10le" in pix_fmt
    dtype = np.dtype("<u2") if wide else np.dtype(np.uint8)
    for i, (plane, code) in enumerate(zip(f.planes, codes, strict=True)):
        rows = h if i == 0 else h // 2
        line = plane.line_size // dtype.itemsize
        plane.update(np.full((rows, line), code, dtype).tobytes())
    return f


def make_clip(
    path,
    codes,
    *,
    size=(64, 36),
    pix_fmt="yuv420p10le",
    codec="libx265",
    tags=None,
    colour_range=None,
):
    """One frame per patch, 1 fps, with the colour tags (or none) on the codec context."""
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=1)
        s.width, s.height = size
        s.pix_fmt = pix_fmt
        cc = s.codec_context
        if tags is not None:
            cc.colorspace, cc.color_primaries, cc.color_trc = tags
        if colour_range is not None:
            cc.color_range = colour_range
        if codec == "libx265":
            s.options = {"x265-params": "log-level=error:crf=2:bframes=0"}
        elif codec == "libx264":
            s.options = {"crf": "1", "preset": "ultrafast"}
        elif codec == "mjpeg":
            cc.qmin = cc.qmax = 1
        for i, c in enumerate(codes):
            f = yuv_frame(c, size, pix_fmt)
            f.pts = i
            f.time_base = Fraction(1, 1)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def averages(path, n, **options) -> np.ndarray:
    """The render's ``average`` colour of each of the clip's ``n`` frames."""
    spec = render(str(path), every=1.0, mode="average", seek="exact", height=4, **options)
    img = np.asarray(spec.image)
    assert img.shape[1] == n, img.shape
    return img[0]


def delta_e(a, b) -> np.ndarray:
    return ciede2000(srgb_to_lab(np.asarray(a, np.uint8)), srgb_to_lab(np.asarray(b, np.uint8)))


def lch(rgb) -> tuple[np.ndarray, np.ndarray]:
    lab = oklab(np.asarray(rgb, np.uint8))
    return np.hypot(lab[..., 1], lab[..., 2]), np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))


# -- SDR: tags, and what is assumed without -------------------------------------------------
def sdr_codes(matrix, bits=8, full=False, patches=SDR_PATCHES):
    return [ycbcr(np.asarray(c) / 255.0, matrix, bits, full) for c in patches]


@pytest.mark.parametrize(
    ("size", "matrix"), [((1920, 1080), "bt709"), ((720, 576), "bt601")], ids=["hd", "sd"]
)
def test_untagged_uses_mpvs_rule(tmp_path, size, matrix):
    patches = [RED, SKIN]
    clip = make_clip(
        tmp_path / "u.mp4",
        sdr_codes(matrix, patches=patches),
        size=size,
        pix_fmt="yuv420p",
        codec="libx264",
    )
    got = averages(clip, 2)
    assert (delta_e(got, patches) < 3).all(), got
    with open_source(clip) as src:
        colour = src.info.colour
    assert colour["matrix"].startswith("bt709" if matrix == "bt709" else "bt470bg")
    assert colour["range"] == "limited" and "matrix" in colour["assumed"]


def test_untagged_hd_was_wrong_before(tmp_path):
    """The measured bug: BT.601 coefficients on BT.709 HD gave (201, 9, 30)."""
    clip = make_clip(
        tmp_path / "u.mp4",
        sdr_codes("bt709", patches=[RED]),
        size=(1920, 1080),
        pix_fmt="yuv420p",
        codec="libx264",
    )
    with open_source(clip) as src:
        frame = next(iter(src.frames()))
        old = frame.raw.reformat(64, 36, "rgb24", interpolation="AREA").to_ndarray()[0, 0]
        new = frame.to_rgb((64, 36))[0, 0]
    assert delta_e(old, RED) > 4 and delta_e(new, RED) < 3


def test_full_range_yuvj(tmp_path):
    clip = make_clip(
        tmp_path / "j.mkv", sdr_codes("bt601", full=True), pix_fmt="yuvj420p", codec="mjpeg"
    )
    got = averages(clip, len(SDR_PATCHES))
    assert (delta_e(got, SDR_PATCHES) < 3).all(), got
    with open_source(clip) as src:
        assert src.info.colour["range"] == "full"


def test_tagged_bt709_and_bt2020_sdr(tmp_path):
    clip = make_clip(
        tmp_path / "a.mkv", sdr_codes("bt709", bits=10), tags=TAGS["bt709"], colour_range=1
    )
    got = averages(clip, len(SDR_PATCHES))
    assert (delta_e(got, SDR_PATCHES) < 3).all(), got
    # BT.2020 SDR: the patches' linear light in BT.2020 primaries, BT.709 curve.
    wide = [_bt709_curve(TO_BT2020 @ _bt709_linear(c)) for c in SDR_PATCHES]
    clip = make_clip(
        tmp_path / "b.mkv",
        [ycbcr(s, "bt2020", 10, False) for s in wide],
        tags=TAGS["bt2020"],
        colour_range=1,
    )
    got = averages(clip, len(SDR_PATCHES))
    assert (delta_e(got, SDR_PATCHES) < 3).all(), got
    with open_source(clip) as src:
        assert src.info.colour["primaries"] == "bt2020"
        assert src.info.colour["tonemap"] == "clip"  # brought into BT.709


def _bt709_curve(linear):
    """Re-encode: the sRGB patch's linear light (via the BT.709 OETF's inverse, the curve
    FFmpeg linearises BT.709/BT.2020 SDR with) in BT.2020 primaries, BT.709 OETF."""
    x = np.clip(linear, 0, 1)
    return x ** (1 / 2.4)


def _bt709_linear(rgb):
    v = np.asarray(rgb, np.float64) / 255.0
    return v**2.4


# -- HDR ------------------------------------------------------------------------------------
HDR_COLOURS = [RED, GREEN, BLUE, SKIN, (255, 0, 0)]
GREY_NITS = [20.0, 100.0, 400.0]


def hdr_codes(kind):
    """PQ or HLG codes of HDR_COLOURS (SDR white at 203 nits), the grey patches, then
    white at 203 nits; and the sRGB each should come back as."""
    lin = [TO_BT2020 @ srgb_to_linear(np.asarray(c, np.uint8)) for c in HDR_COLOURS]
    lin += [np.full(3, n / 203.0) for n in GREY_NITS] + [np.ones(3)]
    if kind == "pq":
        sig = [pq_inverse_eotf(x * 203.0) for x in lin]
    else:  # HLG: undo the OOTF of a 1000-nit display (system gamma 1.2), then the OETF
        sig = []
        for x in lin:
            d = x * 203.0 / 1000.0
            yd = max(float(d @ np.array([0.2627, 0.6780, 0.0593])), 1e-9)
            sig.append(hlg_oetf(d * yd ** ((1 - 1.2) / 1.2)))
    greys = [(int(linear_to_srgb(min(n / 203.0, 1.0))),) * 3 for n in GREY_NITS]
    expected = [*HDR_COLOURS, *greys, (255, 255, 255)]
    return [ycbcr(s, "bt2020", 10, False) for s in sig], expected


def check_hdr(got, expected):
    n = len(HDR_COLOURS)
    c0, h0 = lch(expected[:n])
    c1, h1 = lch(got[:n])
    dh = np.abs((h1 - h0 + 180) % 360 - 180)
    assert (dh < 10).all(), (got, dh)
    assert (c1 >= 0.8 * c0).all(), (got, c1 / c0)
    assert (delta_e(got[n:], expected[n:]) < 3).all(), got[n:]


# PQ also renders with two other tone maps (FFmpeg filter graphs): seconds, not a moment.
@pytest.mark.parametrize("kind", [pytest.param("pq", marks=pytest.mark.slow), "hlg"])
def test_hdr_is_tone_mapped(tmp_path, kind):
    codes, expected = hdr_codes(kind)
    clip = make_clip(tmp_path / f"{kind}.mkv", codes, tags=TAGS[kind], colour_range=1)
    got = averages(clip, len(codes))
    check_hdr(got, expected)
    with open_source(clip) as src:
        colour = src.info.colour
        frame = next(iter(src.frames()))
        # smaller than the frame: scaled first, then colour-managed -- the same colour
        small, full = frame.to_rgb((32, 18)), frame.to_rgb()
        assert np.abs(small[9, 16].astype(int) - full[18, 32]).max() <= 2
    assert colour["hdr"] == ("HDR10 (PQ)" if kind == "pq" else "HLG")
    assert colour["tonemap"] == "rolloff" and colour["assumed"] == []
    if kind == "pq":
        # --tonemap off keeps the old behaviour: dim and dull (white ~148).
        off = averages(clip, len(codes), tonemap="off")
        assert off[-1].max() < 170 and delta_e(off[0], expected[0]) > 10
        # perceptual: FFmpeg's intent; darker, but the hues stay.
        per = averages(clip, len(codes), tonemap="perceptual")
        _, h0 = lch(expected[:4])
        _, h1 = lch(per[:4])
        assert (np.abs((h1 - h0 + 180) % 360 - 180) < 10).all(), per


def test_source_block_records_colour(tmp_path):
    codes, _ = hdr_codes("pq")
    clip = make_clip(tmp_path / "pq.mkv", codes[:2], tags=TAGS["pq"], colour_range=1)
    spec = render(str(clip), every=1.0, seek="exact", height=4)
    colour = spec.source["colour"]
    assert colour["matrix"] == "bt2020nc" and colour["transfer"] == "smpte2084"
    assert colour["primaries"] == "bt2020" and colour["range"] == "limited"
    assert "bt709" in colour["applied"]


# -- odd tags -------------------------------------------------------------------------------
def test_reserved_tags_warn_once_and_guess():
    plan = resolve(
        width=1920,
        height=1080,
        pix_fmt="yuv420p",
        matrix=3,
        colour_range=None,
        primaries=3,
        transfer=None,
    )
    assert plan.matrix == 1 and not plan.full_range
    assert len(plan.warnings) == 2 and "assuming bt709" in plan.warnings[0]
    plan = resolve(
        width=640,
        height=480,
        pix_fmt="yuvj420p",
        matrix=None,
        colour_range=1,
        primaries=None,
        transfer=None,
    )
    assert plan.full_range and plan.matrix == 5 and "full range" in plan.warnings[0]


def test_dolby_vision_without_base_layer_warns():
    plan = resolve(
        width=3840,
        height=2160,
        pix_fmt="yuv420p10le",
        matrix=2,
        colour_range=1,
        primaries=2,
        transfer=2,
        dolby_vision=True,
    )
    assert any("Dolby Vision" in w for w in plan.warnings)


def test_reserved_tag_in_a_file_renders_with_a_warning(tmp_path):
    clip = make_clip(
        tmp_path / "r.mkv",
        sdr_codes("bt709", patches=[RED]),
        size=(1280, 720),
        pix_fmt="yuv420p",
        codec="libx264",
        tags=(1, 1, 1),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = render(str(clip), every=1.0, seek="exact", height=4, mode="average")
    assert delta_e(np.asarray(spec.image)[0, 0], RED) < 3


# -- linear light -----------------------------------------------------------------------------
def test_linear_mean_of_black_and_white():
    assert linear_mean(np.array([[0, 0, 0], [255, 255, 255]], np.uint8)).tolist() == [188] * 3
    w = linear_mean(np.array([[0, 0, 0], [255, 255, 255]], np.uint8), [3, 1])
    assert w.tolist() == [137] * 3


def test_average_mode_is_linear_light():
    half = make_strip(np.array([[0, 0, 0], [255, 255, 255]], np.uint8), [1, 1], 4, mode="average")
    assert (half == 188).all()


def test_merge_colours_sums_shares_and_means_in_linear_light():
    pal = np.array([[200, 30, 30], [205, 32, 30], [30, 30, 200], [0, 0, 0]], np.uint8)
    colours, shares = merge_colours(pal, [0.3, 0.3, 0.4, 0.0])
    assert shares.tolist() == pytest.approx([0.6, 0.4, 0.0])
    assert colours[0].tolist() == linear_mean(pal[:2]).tolist()  # the mean, not the leader
    assert colours[1].tolist() == [30, 30, 200]
    # far apart colours stay apart; distances below MERGE_DISTANCE merge
    assert np.linalg.norm(oklab(pal[0]) - oklab(pal[1])) < MERGE_DISTANCE


def test_segment_and_tooltip_colours_are_distinct():
    spec = Spectrum(settings={"start": 0.0, "step": 1.0, "offset": 0.0}, slots=10)
    pal = np.array([[200, 30, 30], [203, 31, 30], [30, 30, 200]], np.uint8)
    for i in range(10):
        spec.add(Strip(i, float(i), float(i), pal, np.array([40, 30, 30])))
    segs = segment_spectrum(spec)
    rgbs = [c["rgb"] for c in segs[0]["colours"]]
    assert len(rgbs) == 2 and segs[0]["colours"][0]["share"] == pytest.approx(0.7)
    lab = oklab(np.array(rgbs, np.uint8))
    assert np.linalg.norm(lab[0] - lab[1]) >= MERGE_DISTANCE


def test_order_oklch_greys_first_then_hue():
    pal = np.array(
        [[30, 30, 200], [250, 250, 250], [220, 30, 30], [20, 20, 20], [30, 160, 40], [128] * 3],
        np.uint8,
    )
    order = order_palette(pal, np.ones(len(pal)), "oklch")
    assert pal[order].tolist() == [
        [250, 250, 250],
        [128, 128, 128],
        [20, 20, 20],  # greys, light to dark
        [220, 30, 30],
        [30, 160, 40],
        [30, 30, 200],  # red, green, blue: by OKLCh hue
    ]
    col = make_strip(pal, np.ones(len(pal)), 12, order="oklch")
    assert col[0].tolist() == [250, 250, 250] and col[-1].tolist() == [30, 30, 200]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tiff"])
def test_images_are_tagged_srgb(tmp_path, suffix):
    import io

    from PIL import Image, ImageCms, PngImagePlugin

    from streamspec.core._io import save_image

    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "streamspec")
    for mode in ("RGB", "P"):
        path = save_image(Image.new(mode, (8, 4)), tmp_path / f"{mode}{suffix}", pnginfo=info)
        with Image.open(path) as im:
            if suffix == ".png":
                assert im.info.get("srgb") == 0 and im.info.get("Software") == "streamspec"
                data = path.read_bytes()
                assert data.index(b"sRGB") < data.index(b"IDAT")
                assert b"PLTE" not in data or data.index(b"sRGB") < data.index(b"PLTE")
            else:
                icc = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
                assert "sRGB" in ImageCms.getProfileDescription(icc)
    assert len(info.chunks) == 1  # the caller's info is not changed


def test_oklab_grid_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (2000, 3)).astype(np.uint8)
    back = oklab_grid_to_srgb(srgb_to_oklab_grid(rgb).astype(np.float64))
    # a grid step is 0.004 in OKLab: colours come back within CIEDE2000 2 (median 0.3)
    de = delta_e(back, rgb)
    assert de.max() < 2 and np.median(de) < 0.5


def test_space_oklab_clusters_perceptually():
    # Dark greys differ little in RGB but a lot to the eye: OKLab keeps them apart.
    rng = np.random.default_rng(1)
    frame = np.concatenate(
        [np.full((50, 40, 3), v, np.uint8) for v in (5, 12, 20, 30, 200, 210, 220, 230)], axis=1
    )
    frame = np.clip(frame.astype(int) + rng.integers(-1, 2, frame.shape), 0, 255).astype(np.uint8)
    rgb = analyze_frame(frame, k=4, seed=0)
    ok = analyze_frame(frame, k=4, seed=0, space="oklab")
    assert ok.counts.sum() == rgb.counts.sum() == frame.shape[0] * frame.shape[1]
    dark = lambda s: int((s.palette[:, 0] < 100).sum())  # noqa: E731 - one line
    assert dark(ok) >= dark(rgb) and dark(ok) >= 2


def test_render_space_oklab(tmp_path):
    clip = make_clip(
        tmp_path / "a.mkv", sdr_codes("bt709", bits=10), tags=TAGS["bt709"], colour_range=1
    )
    spec = render(str(clip), every=1.0, seek="exact", height=6, space="oklab", k=4)
    assert spec.settings["space"] == "oklab"
    got = np.array([s.palette[np.argmax(s.counts)] for s in spec.strips])
    assert (delta_e(got, SDR_PATCHES) < 3).all(), got


# The two merges streamspec had before it had one, kept here as references: the
# segments'/tooltip merge (no pooling of repeats) and the corpus palette's (repeats
# pooled, leaders extracted one at a time, top k).
def _old_strip_merge(pal, w, threshold):
    leader = merge_leaders(pal, w, threshold)
    groups, inv = np.unique(leader, return_inverse=True)
    total = np.bincount(inv, weights=w, minlength=len(groups))
    lin = srgb_to_linear(pal)
    sums = np.stack(
        [np.bincount(inv, weights=w * lin[:, c], minlength=len(groups)) for c in range(3)], 1
    )
    colours = linear_to_srgb(sums / np.maximum(total, 1e-300)[:, None])
    order = np.lexsort((groups, -total))
    return colours[order], (total / w.sum())[order]


def _old_corpus_merge(rgb, weight, k, threshold):
    packed = (rgb[:, 0].astype(np.int64) << 16) | (rgb[:, 1].astype(np.int64) << 8) | rgb[:, 2]
    uniq, inv = np.unique(packed, return_inverse=True)
    w = np.bincount(inv, weights=weight, minlength=len(uniq))
    cols = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.uint8)
    first = np.argsort(-w, kind="stable")
    w, lab, lin = w[first], oklab(cols[first]), srgb_to_linear(cols[first])
    found_rgb, found_w = [], []
    while len(w):
        near = np.sqrt(((lab - lab[0]) ** 2).sum(axis=1)) < threshold
        mass = float(w[near].sum())
        found_rgb.append((lin[near] * w[near, None]).sum(axis=0) / mass)
        found_w.append(mass)
        keep = ~near
        w, lab, lin = w[keep], lab[keep], lin[keep]
    order = np.argsort(-np.asarray(found_w), kind="stable")[:k]
    return linear_to_srgb(np.asarray(found_rgb)[order]).reshape(-1, 3), np.asarray(found_w)[order]


@pytest.mark.parametrize("seed", range(8))
def test_one_colour_merge_gives_both_old_merges_results(seed):
    rng = np.random.default_rng(seed)
    n = [5, 60, 400, 2000][seed % 4]
    centres = rng.integers(0, 256, (max(n // 15, 1), 3))
    pal = np.clip(centres[rng.integers(0, len(centres), n)] + rng.integers(-12, 13, (n, 3)), 0, 255)
    pal = pal.astype(np.uint8)
    w = rng.random(n) + 0.01  # no ties: where the two old merges agreed
    threshold = [MERGE_DISTANCE, 0.05, 0.1][seed % 3]
    # Colours without repeats: the segments' merge, colour for colour.
    _, first = np.unique(pal.view("V3").ravel(), return_index=True)
    once, w1 = pal[np.sort(first)], w[np.sort(first)]
    got, shares = merge_colours(once, w1, threshold)
    ref, ref_shares = _old_strip_merge(once, w1, threshold)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(shares, ref_shares)
    # With repeats: the corpus palette's merge, top k.
    got, shares = merge_colours(pal, w, threshold, top=10)
    ref, ref_w = _old_corpus_merge(pal, w, 10, threshold)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_allclose(shares, ref_w / w.sum(), rtol=1e-12)


def test_merge_colours_pools_a_repeated_colour():
    # A colour given twice weighs as both entries together: 200,30,30 (0.3 + 0.3)
    # outweighs 184,30,30 (0.4), leads, and takes it in; 171,30,30 is near 184 but not
    # near the leader, so it stays apart. Counted once each, 184 would lead and take
    # both others into one group.
    pal = np.array([[200, 30, 30], [184, 30, 30], [200, 30, 30], [171, 30, 30]], np.uint8)
    w = [0.3, 0.4, 0.3, 0.35]
    colours, shares = merge_colours(pal, w)
    assert shares.tolist() == pytest.approx([1.0 / 1.35, 0.35 / 1.35])
    assert colours[1].tolist() == [171, 30, 30]
    assert len(_old_strip_merge(pal, np.array(w), MERGE_DISTANCE)[1]) == 1
    zero = merge_colours(pal, w, 0.0)  # threshold 0 merges nothing
    assert zero[0].tolist() == [[200, 30, 30], [184, 30, 30], [171, 30, 30]]
    with pytest.raises(ValueError):
        merge_colours(pal, [1.0, 2.0])
