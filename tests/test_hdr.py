"""HDR shown as players show it, checked against Debian's FFmpeg with zscale.

Clips: HDR10 (PQ, BT.2020, 10-bit) and HLG, encoded losslessly with libx265 (so that
both sides read the same code values), one uniform patch per frame: BT.709 colours with
their white at 1 to 1000 nits, with and without HDR10 metadata (MaxCLL and mastering
display). The reference is the pipeline players agree with
(``zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=clip:desat=0,
zscale=t=iec61966-2-1:m=gbr:r=pc,format=rgb24``): reference white (203 nits) is SDR white.
For HLG colours the second reference is libplacebo (mpv's renderer, in the same ffmpeg,
on Vulkan's CPU driver lavapipe): Debian's zscale (zimg 3.0) applies HLG's system gamma
to each channel, where BT.2100's OOTF (and libplacebo, and streamspec) apply it to
luminance -- its HLG colours are more saturated than the clip's (red (220, 30, 30) at
203 nits comes back (244, 0, 11); libplacebo gives (222, 33, 32)); its greys agree.

- At or below 203 nits every patch is within CIEDE2000 3 of the reference, with or
  without metadata, and metadata moves none of them.
- Above 203 nits (where the reference clips each channel) chromatic patches keep their
  OKLCh hue within HUE_TOLERANCE degrees of the colour they were made from, and
  brighter in is never darker out; greys roll off (400 nits is not yet white, the
  peak is), and a higher mastering peak stretches the roll-off.
- ``--tonemap clip`` is the reference's own mapping: PQ within CIEDE2000 3 at every level.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest
from test_colour import TO_BT2020, delta_e, lch, ycbcr, yuv_frame

from streamspec.analysis.colour import hlg_oetf, pq_inverse_eotf, srgb_to_linear
from streamspec.core.options import SourceOptions
from streamspec.media import open_source

REFERENCE = (
    "zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=clip:desat=0,"
    "zscale=t=iec61966-2-1:m=gbr:r=pc,format=rgb24"
)
RED, GREEN, BLUE, SKIN = (220, 30, 30), (30, 160, 40), (40, 60, 210), (224, 172, 140)
COLOURS = [(200, 200, 200), (255, 255, 255), RED, GREEN, BLUE, SKIN, (255, 0, 0), (0, 160, 0)]
LEVELS = [1.0, 10.0, 50.0, 100.0, 150.0, 203.0, 400.0, 1000.0]  # nits of the patch's white
SIZE = (64, 36)
# Hue kept above reference white: OKLCh hue of a chromatic patch within this many
# degrees of its SDR colour's (the roll-off scales the three channels alike, which keeps
# OKLab hue exactly; what is left is 8-bit rounding and the table's interpolation).
HUE_TOLERANCE = 3.0
METADATA = {
    "none": "",
    "1000": ":hdr10=1:repeat-headers=1:max-cll=1000,400:master-display="
    "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)",
    "4000": ":hdr10=1:repeat-headers=1:max-cll=4000,400:master-display="
    "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(40000000,1)",
    # a mastering display and no content light level
    "display": ":hdr10=1:repeat-headers=1:master-display="
    "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(20000000,1)",
}
KINDS = {"pq": (9, 9, 16), "hlg": (9, 9, 18)}


@functools.cache
def _ffmpeg() -> str | None:
    """Why the reference cannot be had, or None when Debian's ffmpeg has zscale."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return "ffmpeg is not installed (.ci/run installs Debian's)"
    out = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True)
    if " zscale " not in out.stdout or " tonemap " not in out.stdout:
        return "this ffmpeg has no zscale/tonemap filter (Debian's has both)"
    return None


@functools.cache
def _placebo() -> str | None:
    """Why libplacebo cannot be had, or None when it runs (on any Vulkan device)."""
    why = _ffmpeg()
    if why:
        return why
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            *_VULKAN,
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=16x16:d=0.04",
            "-vf",
            _PLACEBO,
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return (
            "ffmpeg's libplacebo does not run here (no Vulkan device; .ci/run installs "
            f"mesa-vulkan-drivers): {out.stderr.strip().splitlines()[-1:]}"
        )
    return None


_VULKAN = ["-init_hw_device", "vulkan=vk", "-filter_hw_device", "vk"]
_PLACEBO = (
    "hwupload,libplacebo=format=rgba:colorspace=gbr:color_primaries=bt709:"
    "color_trc=iec61966-2-1:range=pc:tonemapping=clip:tonemapping_crosstalk=0:"
    "peak_detect=0:dithering=none:gamut_mode=clip,hwdownload,format=rgba,format=rgb24"
)


@pytest.fixture(scope="module")
def ffmpeg():
    why = _ffmpeg()
    if why:
        pytest.skip(why)


def patches():
    """(colour, nits) of every frame, in order."""
    return [(c, n) for n in LEVELS for c in COLOURS]


def codes(kind: str):
    """Limited-range 10-bit Y'CbCr (BT.2020) of every patch: its light in BT.2020,
    PQ-encoded, or for HLG the light of BT.2100's 1000-nit display with the OOTF
    (system gamma 1.2) undone, HLG-encoded."""
    out = []
    for colour, nits in patches():
        light = TO_BT2020 @ srgb_to_linear(np.asarray(colour, np.uint8)) * nits
        if kind == "pq":
            sig = pq_inverse_eotf(light)
        else:
            d = np.maximum(light / 1000.0, 0.0)
            yd = max(float(d @ np.array([0.2627, 0.6780, 0.0593])), 1e-12)
            sig = hlg_oetf(d * yd ** ((1 - 1.2) / 1.2))
        out.append(ycbcr(np.clip(sig, 0, 1), "bt2020", 10, False))
    return out


def make_hdr_clip(path, kind: str, metadata: str):
    """One lossless HEVC Main 10 frame per patch, 1 fps, tagged ``kind``."""
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx265", rate=1)
        s.width, s.height = SIZE
        s.pix_fmt = "yuv420p10le"
        cc = s.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc = KINDS[kind]
        cc.color_range = 1
        s.options = {"x265-params": "log-level=error:lossless=1:bframes=0" + METADATA[metadata]}
        for i, c in enumerate(codes(kind)):
            f = yuv_frame(c, SIZE, "yuv420p10le")
            f.pts, f.time_base = i, Fraction(1, 1)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def reference(path, placebo: bool = False) -> np.ndarray:
    """The centre pixel of every frame through the zscale pipeline (or libplacebo's
    clip mapping)."""
    w, h = SIZE
    vulkan = _VULKAN if placebo else []
    graph = _PLACEBO if placebo else REFERENCE
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            *vulkan,
            "-i",
            str(path),
            "-vf",
            graph,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    return frames[:, h // 2, w // 2]


def ours(path, tonemap: str = "auto") -> np.ndarray:
    """The centre pixel of every frame as streamspec converts it."""
    w, h = SIZE
    with open_source(str(path), SourceOptions(seek="exact", tonemap=tonemap)) as src:
        return np.array([f.to_rgb(SIZE)[h // 2, w // 2] for f in src.frames()])


@pytest.fixture(scope="module")
def clips(tmp_path_factory, ffmpeg):
    """{(kind, metadata): (clip, zscale's pixels)}, made once for the module."""
    folder = tmp_path_factory.mktemp("hdr")
    made = {}
    for kind in KINDS:
        for meta in METADATA:
            clip = make_hdr_clip(folder / f"{kind}-{meta}.mkv", kind, meta)
            made[kind, meta] = (clip, reference(clip))
    return made


@pytest.fixture(scope="module")
def placebo(clips):
    """{kind: libplacebo's pixels} of the clips without metadata."""
    why = _placebo()
    if why:
        pytest.skip(why)
    return {kind: reference(clips[kind, "none"][0], placebo=True) for kind in KINDS}


def _grey(i: int) -> bool:
    c = patches()[i][0]
    return c[0] == c[1] == c[2]


def _split():
    nits = np.array([n for _, n in patches()])
    return nits <= 203.0, nits > 203.0


@pytest.mark.parametrize("meta", list(METADATA))
@pytest.mark.parametrize("kind", list(KINDS))
def test_up_to_reference_white_as_players_show_it(clips, kind, meta):
    """Every patch at or below 203 nits within CIEDE2000 3 of zscale's (HLG: its greys;
    its colours are checked against libplacebo below)."""
    clip, ref = clips[kind, meta]
    got = ours(clip)
    low, _ = _split()
    if kind == "hlg":
        low &= np.array([_grey(i) for i in range(len(low))])
    _within(got[low], ref[low], np.array(patches(), dtype=object)[low], 3.0)


def test_hlg_colours_as_libplacebo_shows_them(clips, placebo):
    """HLG through BT.2100's OOTF, as libplacebo does: every patch at or below 203
    nits within CIEDE2000 3 (and PQ, for good measure)."""
    low, _ = _split()
    for kind in KINDS:
        got = ours(clips[kind, "none"][0])
        _within(got[low], placebo[kind][low], np.array(patches(), dtype=object)[low], 3.0)


def _within(got, ref, what, limit: float) -> None:
    de = delta_e(got, ref)
    worst = int(np.argmax(de))
    assert de.max() <= limit, (what[worst], got[worst], ref[worst], float(de.max()))


@pytest.mark.parametrize("kind", list(KINDS))
def test_metadata_never_moves_diffuse_white(clips, kind):
    """At or below 203 nits the same pixels whatever the mastering peak; above it the
    roll-off follows the peak (PQ: a 4000-nit master is not white at 1000 nits)."""
    low, _ = _split()
    plain = ours(clips[kind, "none"][0])
    for meta in ("1000", "4000", "display"):
        got = ours(clips[kind, meta][0])
        assert np.array_equal(got[low], plain[low]), meta
    if kind == "pq":  # the peak used, and where it was found
        for meta, peak in (("none", (1000.0, None)), ("4000", (4000.0, "MaxCLL"))):
            with open_source(str(clips[kind, meta][0])) as src:
                assert src.info.colour["peak"] == {"nits": peak[0], "from": peak[1]}
        with open_source(str(clips[kind, "display"][0])) as src:
            assert src.info.colour["peak"] == {"nits": 2000.0, "from": "mastering display"}
    if kind == "pq":
        white = COLOURS.index((255, 255, 255))
        at = {n: i for i, (c, n) in enumerate(patches()) if c == (255, 255, 255)}
        assert white >= 0
        assert plain[at[1000.0]].min() >= 254  # the default peak (1000 nits) is white
        stretched = ours(clips[kind, "4000"][0])
        assert stretched[at[1000.0]].max() < plain[at[1000.0]].min()
        assert stretched[at[400.0]].max() <= plain[at[400.0]].min()


@pytest.mark.parametrize("kind", list(KINDS))
def test_highlights_keep_hue_and_roll_off(clips, kind):
    clip, ref = clips[kind, "none"]
    got = ours(clip)
    pts = patches()
    _, high = _split()
    source = np.array([c for c, _ in pts], np.uint8)
    c0, h0 = lch(source)
    _, h1 = lch(got)
    chromatic = high & (c0 > 0.05)
    dh = np.abs((h1 - h0 + 180) % 360 - 180)[chromatic]
    assert dh.max() <= HUE_TOLERANCE, (
        source[chromatic][np.argmax(dh)],
        got[chromatic][np.argmax(dh)],
        dh.max(),
    )
    # brighter in, never darker out: OKLab lightness along each colour's levels
    from streamspec.analysis.colour import oklab

    light = oklab(got)[..., 0].reshape(len(LEVELS), len(COLOURS))
    assert (np.diff(light, axis=0) >= -0.004).all(), light  # within a level's rounding
    grey = {n: got[i] for i, (c, n) in enumerate(pts) if c == (255, 255, 255)}
    # a roll-off, not a clip: 400 nits is brighter than reference white and not yet white
    assert grey[203.0].max() < grey[400.0].min() and grey[400.0].max() < 255
    assert (ref[high] == 255).any()  # (the reference clips there)


def test_clip_is_the_references_mapping(clips):
    """``--tonemap clip`` at every level, 1 to 1000 nits, against zscale (whose
    ``tonemap=clip`` scales a pixel's three channels alike, on the brightest): PQ (HLG's
    colours differ by zscale's per-channel gamma, see above)."""
    clip, ref = clips["pq", "1000"]
    _within(ours(clip, tonemap="clip"), ref, patches(), 3.0)


def test_the_measured_cases(clips):
    """What was reported: grey 200 at 203-nit white came out (96, 96, 96), red
    (128, 6, 0), green (5, 67, 1) -- the reference's (201, 201, 201), (255, 0, 1),
    (7, 160, 2) -- and a 100-nit grey with MaxCLL 1000 (89, 89, 89) for ~186."""
    at = {p: i for i, p in enumerate(patches())}
    for meta in ("none", "1000"):
        clip, ref = clips["pq", meta]
        got = ours(clip)
        for colour, nits, want in [
            ((200, 200, 200), 203.0, (201, 201, 201)),
            ((255, 0, 0), 203.0, (255, 0, 1)),
            ((0, 160, 0), 203.0, (7, 160, 2)),
            ((255, 255, 255), 100.0, (186, 186, 186)),
        ]:
            i = at[colour, nits]
            assert np.abs(ref[i].astype(int) - want).max() <= 3, (colour, nits, ref[i])
            assert delta_e(got[i], ref[i]) <= 3, (colour, nits, meta, got[i], ref[i])
            assert np.abs(got[i].astype(int) - want).max() <= 8, (colour, nits, got[i])
