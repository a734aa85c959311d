"""One home for colour maths: sRGB and linear light, OKLab, CIEDE2000, HDR curves.

NumPy, and one compiled kernel (the colour merge). Every mean of colours (a strip's
average, a segment's colour, merged summaries) is taken in linear light -- decode sRGB,
average, re-encode -- because light adds linearly: a frame half black, half white
averages to sRGB 188, not 128.
Distances between colours are taken in OKLab (Björn Ottosson, 2020), where a
Euclidean step of about 0.02 is just noticeable. The HDR curves (SMPTE ST 2084 PQ,
ARIB STD-B67 HLG and its OOTF), the highlight roll-off (:func:`rolloff`), the display
curves of SDR and the primaries matrices are what :mod:`.cmstable` builds its colour
tables from; tests and benchmarks build HDR frames from the same formulas.

About 550 lines in one module on purpose: it is the one home for colour maths, so each
formula and constant has a single definition that every caller and test shares.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BT2020_TO_BT709",
    "DEFAULT_HDR_PEAK",
    "FILM_MERGE_DISTANCE",
    "HDR_REFERENCE_WHITE",
    "HLG_NOMINAL_PEAK",
    "MERGE_DISTANCE",
    "PEAK_RANGE",
    "PRIMARIES",
    "bt2020_to_bt709",
    "ciede2000",
    "hlg_inverse_oetf",
    "hlg_oetf",
    "hlg_ootf",
    "linear_mean",
    "linear_to_oklab",
    "linear_to_srgb",
    "merge_colours",
    "merge_leaders",
    "merge_leaders_batch",
    "oklab",
    "oklab_grid_to_srgb",
    "oklab_to_linear",
    "pq_eotf",
    "pq_inverse_eotf",
    "primaries_matrix",
    "rgb_to_xyz",
    "rolloff",
    "sdr_decode",
    "sdr_encode",
    "srgb_to_lab",
    "srgb_to_linear",
    "srgb_to_oklab_grid",
]

#: Nits of HDR reference (graphics) white, ITU-R BT.2408: SDR white maps to it.
HDR_REFERENCE_WHITE = 203.0

# -- sRGB <-> linear light ------------------------------------------------------------------
_LEVELS = np.arange(256) / 255.0
# uint8 sRGB -> linear light, as a table (the formula is the IEC 61966-2-1 curve).
_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)


def srgb_to_linear(rgb: ArrayLike) -> NDArray[np.float64]:
    """sRGB colours (uint8, ``(..., 3)``) as linear-light values 0..1."""
    return _LINEAR[np.asarray(rgb, dtype=np.uint8)]


def linear_to_srgb(linear: ArrayLike) -> NDArray[np.uint8]:
    """Linear-light values 0..1 back to uint8 sRGB (rounded, clipped)."""
    x = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    c = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(c * 255.0), 0, 255).astype(np.uint8)


def linear_mean(
    rgb: ArrayLike, weights: ArrayLike | None = None, axis: int = 0
) -> NDArray[np.uint8]:
    """The (weighted) mean of sRGB uint8 colours along ``axis``, taken in linear light.

    ``rgb`` is ``(..., 3)`` with the colours to average along ``axis`` (not the last);
    ``weights`` has the shape of ``rgb`` without its last axis (None: equal weights).
    Zero total weight gives black.
    """
    lin = srgb_to_linear(rgb)
    if weights is None:
        return linear_to_srgb(lin.mean(axis=axis))
    w = np.asarray(weights, dtype=np.float64)[..., None]
    total = w.sum(axis=axis)
    s = (lin * w).sum(axis=axis)
    return linear_to_srgb(np.divide(s, total, out=np.zeros_like(s), where=total > 0))


# -- OKLab -------------------------------------------------------------------------------
_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def linear_to_oklab(linear: ArrayLike) -> NDArray[np.float64]:
    """Linear-light RGB ``(..., 3)`` to OKLab ``(..., 3)`` (L 0..1, a and b about ±0.3)."""
    # einsum: NumPy's matmul is ~10x slower for an inner dimension of 3.
    lms = np.cbrt(np.einsum("...j,kj->...k", np.asarray(linear, dtype=np.float64), _M1))
    return np.einsum("...j,kj->...k", lms, _M2)


def oklab_to_linear(lab: ArrayLike) -> NDArray[np.float64]:
    """OKLab ``(..., 3)`` back to linear-light RGB (not clipped)."""
    lms = np.einsum("...j,kj->...k", np.asarray(lab, dtype=np.float64), _M2_INV) ** 3
    return np.einsum("...j,kj->...k", lms, _M1_INV)


def oklab(rgb: ArrayLike) -> NDArray[np.float64]:
    """sRGB colours (uint8, ``(..., 3)``) in OKLab ``(..., 3)``."""
    return linear_to_oklab(srgb_to_linear(rgb))


# -- CIELAB and CIEDE2000 (for tests and tolerances) ----------------------------------
_SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb: ArrayLike) -> NDArray[np.float64]:
    """CIELAB (D65) ``(..., 3)`` of sRGB uint8 colours ``(..., 3)``."""
    xyz = np.einsum("...j,kj->...k", srgb_to_linear(rgb), _SRGB_TO_XYZ) / _D65
    eps = (6 / 29) ** 3
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def ciede2000(lab1: ArrayLike, lab2: ArrayLike) -> NDArray[np.float64]:
    """CIEDE2000 colour difference of CIELAB colours (Sharma, Wu, Dalal 2005); ~1 is just
    noticeable, under 3 hard to see side by side."""
    a1, a2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    L1, A1, B1 = a1[..., 0], a1[..., 1], a1[..., 2]
    L2, A2, B2 = a2[..., 0], a2[..., 1], a2[..., 2]
    cbar = (np.hypot(A1, B1) + np.hypot(A2, B2)) / 2
    g = 0.5 * (1 - np.sqrt(cbar**7 / (cbar**7 + 25.0**7)))
    ap1, ap2 = (1 + g) * A1, (1 + g) * A2
    cp1, cp2 = np.hypot(ap1, B1), np.hypot(ap2, B2)
    hp1 = np.degrees(np.arctan2(B1, ap1)) % 360
    hp2 = np.degrees(np.arctan2(B2, ap2)) % 360
    dL, dC = L2 - L1, cp2 - cp1
    dh = hp2 - hp1
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(cp1 * cp2 == 0, 0.0, dh)
    dH = 2 * np.sqrt(cp1 * cp2) * np.sin(np.radians(dh / 2))
    lbar, cpbar = (L1 + L2) / 2, (cp1 + cp2) / 2
    hsum = hp1 + hp2
    hbar = np.where(
        cp1 * cp2 == 0,
        hsum,
        np.where(
            np.abs(hp1 - hp2) <= 180, hsum / 2, np.where(hsum < 360, hsum / 2 + 180, hsum / 2 - 180)
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hbar - 30))
        + 0.24 * np.cos(np.radians(2 * hbar))
        + 0.32 * np.cos(np.radians(3 * hbar + 6))
        - 0.20 * np.cos(np.radians(4 * hbar - 63))
    )
    sl = 1 + 0.015 * (lbar - 50) ** 2 / np.sqrt(20 + (lbar - 50) ** 2)
    sc = 1 + 0.045 * cpbar
    sh = 1 + 0.015 * cpbar * t
    rt = (
        -2
        * np.sqrt(cpbar**7 / (cpbar**7 + 25.0**7))
        * np.sin(np.radians(60 * np.exp(-(((hbar - 275) / 25) ** 2))))
    )
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


# -- HDR curves and primaries ------------------------------------------------------------
_PQ_M1, _PQ_M2 = 2610 / 16384, 2523 / 4096 * 128
_PQ_C1, _PQ_C2, _PQ_C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32


def pq_inverse_eotf(nits: ArrayLike) -> NDArray[np.float64]:
    """SMPTE ST 2084 (PQ): absolute luminance in nits (0..10000) -> signal 0..1."""
    y = np.clip(np.asarray(nits, dtype=np.float64) / 10000.0, 0.0, 1.0) ** _PQ_M1
    return ((_PQ_C1 + _PQ_C2 * y) / (1 + _PQ_C3 * y)) ** _PQ_M2


def pq_eotf(signal: ArrayLike) -> NDArray[np.float64]:
    """SMPTE ST 2084 (PQ): signal 0..1 -> nits."""
    e = np.clip(np.asarray(signal, dtype=np.float64), 0.0, 1.0) ** (1 / _PQ_M2)
    return 10000.0 * (np.maximum(e - _PQ_C1, 0) / (_PQ_C2 - _PQ_C3 * e)) ** (1 / _PQ_M1)


_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * np.log(4 * _HLG_A)


def hlg_oetf(scene: ArrayLike) -> NDArray[np.float64]:
    """ARIB STD-B67 / BT.2100 HLG OETF: relative scene light 0..1 -> signal 0..1."""
    e = np.clip(np.asarray(scene, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log = _HLG_A * np.log(np.maximum(12 * e - _HLG_B, 1e-12)) + _HLG_C
    return np.where(e <= 1 / 12, np.sqrt(3 * e), log)


def hlg_inverse_oetf(signal: ArrayLike) -> NDArray[np.float64]:
    """BT.2100 HLG: signal 0..1 -> relative scene light 0..1."""
    e = np.clip(np.asarray(signal, dtype=np.float64), 0.0, 1.0)
    return np.where(e <= 0.5, e * e / 3, (np.exp((e - _HLG_C) / _HLG_A) + _HLG_B) / 12)


#: HLG is shown as on BT.2100's nominal 1000-nit display (system gamma 1.2): its 75 %
#: signal (HLG reference white) then gives 203 nits, HDR reference white (BT.2408).
HLG_NOMINAL_PEAK = 1000.0


def hlg_ootf(
    scene: ArrayLike, luma: ArrayLike, peak: float = HLG_NOMINAL_PEAK
) -> NDArray[np.float64]:
    """BT.2100 HLG OOTF: scene light RGB ``(..., 3)`` (0..1) -> display light in nits on a
    display of ``peak`` nits; ``luma`` are the primaries' luminance weights."""
    rgb = np.asarray(scene, dtype=np.float64)
    gamma = 1.2 + 0.42 * np.log10(peak / 1000.0)
    ys = np.maximum(rgb @ np.asarray(luma, dtype=np.float64), 0.0)
    return peak * ys[..., None] ** (gamma - 1) * rgb


# -- SDR display curves ------------------------------------------------------------------
def sdr_decode(signal: ArrayLike, transfer: str) -> NDArray[np.float64]:
    """SDR signal 0..1 -> display light 0..1 for a transfer (FFmpeg's names): the sRGB
    curve for ``iec61966-2-1``, pure gammas for ``gamma22``/``gamma28``, ``linear`` as is,
    and BT.1886's gamma 2.4 (what a reference display shows) for the BT.709 family."""
    e = np.clip(np.asarray(signal, dtype=np.float64), 0.0, 1.0)
    if transfer == "iec61966-2-1":
        return np.where(e <= 0.04045, e / 12.92, ((e + 0.055) / 1.055) ** 2.4)
    if transfer == "linear":
        return e
    return e ** _SDR_GAMMA.get(transfer, 2.4)


def sdr_encode(light: ArrayLike, transfer: str) -> NDArray[np.float64]:
    """The inverse of :func:`sdr_decode` (light clipped to 0..1)."""
    x = np.clip(np.asarray(light, dtype=np.float64), 0.0, 1.0)
    if transfer == "iec61966-2-1":
        return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    if transfer == "linear":
        return x
    return x ** (1 / _SDR_GAMMA.get(transfer, 2.4))


_SDR_GAMMA = {"gamma22": 2.2, "gamma28": 2.8}


# -- highlight roll-off ------------------------------------------------------------------
#: Below this share of HDR reference white, light is shown as it is (0.6: 122 nits).
ROLLOFF_KNEE = 0.6
#: Where reference white lands, as a share of SDR white's light (sRGB 249: CIEDE2000 1.2
#: from white, about one just-noticeable difference); the light above it is what the
#: highlights between 203 nits and the source's peak are rolled off into.
ROLLOFF_WHITE = 0.95
#: Peaks (MaxCLL, mastering display) are taken within these nits.
PEAK_RANGE = (250.0, 10000.0)
#: The peak of HDR10 without metadata: what it is most often mastered for.
DEFAULT_HDR_PEAK = 1000.0


def _hermite(t: NDArray[np.float64], p0: float, p1: float, m0: float, m1: float, run: float):
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * p0
        + (t3 - 2 * t2 + t) * run * m0
        + (3 * t2 - 2 * t3) * p1
        + (t3 - t2) * run * m1
    )


def rolloff(light: ArrayLike, peak: float) -> NDArray[np.float64]:
    """HDR light -> SDR light, both relative to reference white (1 = 203 nits in, SDR
    white out): untouched below :data:`ROLLOFF_KNEE`, then rolled off smoothly so that
    reference white lands at :data:`ROLLOFF_WHITE` and ``peak`` nits at SDR white.

    BT.2390's EETF is a Hermite spline in PQ space (perceptually even steps) that starts
    at a knee with slope 1 and reaches the target peak with slope 0. Taken as it is, from
    a 1000-nit peak to SDR white (203 nits), its knee falls at ~88 nits and reference white
    comes out at ~159 nits (sRGB 229, CIEDE2000 5.4 from white), and the knee -- so
    diffuse white -- moves with the mastering peak. Here the spline is split at reference white:
    the part below it is fixed (knee 0.6 -> white 0.95, slope 1 at the knee), so mastering
    metadata never moves diffuse white; the part above it runs from reference white to
    ``peak`` (slope 0 there, as in BT.2390), with the slope at reference white the largest
    that keeps it monotonic for any peak up to PQ's 10,000 nits (a Hermite step with end
    slope 0 is monotonic while its start slope is at most 3 times its mean slope).
    """
    x = np.maximum(np.asarray(light, dtype=np.float64), 0.0)
    e = pq_inverse_eotf(x * HDR_REFERENCE_WHITE)
    knee = float(pq_inverse_eotf(ROLLOFF_KNEE * HDR_REFERENCE_WHITE))
    white = float(pq_inverse_eotf(HDR_REFERENCE_WHITE))
    lands = float(pq_inverse_eotf(ROLLOFF_WHITE * HDR_REFERENCE_WHITE))
    top = float(pq_inverse_eotf(np.clip(peak, *PEAK_RANGE)))
    slope = 3 * (white - lands) / (1.0 - white)
    below = _hermite(
        np.clip((e - knee) / (white - knee), 0, 1), knee, lands, 1.0, slope, white - knee
    )
    above = _hermite(
        np.clip((e - white) / (top - white), 0, 1), lands, white, slope, 0.0, top - white
    )
    out = np.where(e <= knee, e, np.where(e <= white, below, above))
    return pq_eotf(out) / HDR_REFERENCE_WHITE


#: Linear BT.2020 RGB -> linear BT.709 RGB (ITU-R BT.2087); its inverse goes the other way.
BT2020_TO_BT709 = np.array(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ]
)

#: Chromaticities (x, y) of red, green, blue and white, by FFmpeg's names of primaries.
PRIMARIES: dict[str, tuple[tuple[float, float], ...]] = {
    "bt709": ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290)),
    "bt470m": ((0.67, 0.33), (0.21, 0.71), (0.14, 0.08), (0.310, 0.316)),
    "bt470bg": ((0.64, 0.33), (0.29, 0.60), (0.15, 0.06), (0.3127, 0.3290)),
    "smpte170m": ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), (0.3127, 0.3290)),
    "smpte240m": ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), (0.3127, 0.3290)),
    "film": ((0.681, 0.319), (0.243, 0.692), (0.145, 0.049), (0.310, 0.316)),
    "bt2020": ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), (0.3127, 0.3290)),
    "smpte428": ((1.0, 0.0), (0.0, 1.0), (0.0, 0.0), (1 / 3, 1 / 3)),
    "smpte431": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351)),
    "smpte432": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.3127, 0.3290)),
    "ebu3213": ((0.630, 0.340), (0.295, 0.605), (0.155, 0.077), (0.3127, 0.3290)),
}
_BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(x: float, y: float) -> NDArray[np.float64]:
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz(primaries: str) -> NDArray[np.float64]:
    """The linear RGB -> XYZ matrix of a set of :data:`PRIMARIES` (white has Y = 1)."""
    *rgb, white = PRIMARIES[primaries]
    m = np.stack([_xyz(*c) for c in rgb], axis=1)
    return m * np.linalg.solve(m, _xyz(*white))


def primaries_matrix(src: str, dst: str = "bt709") -> NDArray[np.float64]:
    """Linear RGB in ``src`` primaries -> linear RGB in ``dst`` (relative colorimetric:
    a different white is adapted with the Bradford transform)."""
    m = rgb_to_xyz(src)
    ws, wd = _xyz(*PRIMARIES[src][3]), _xyz(*PRIMARIES[dst][3])
    if not np.allclose(ws, wd):
        cs, cd = _BRADFORD @ ws, _BRADFORD @ wd
        m = np.linalg.inv(_BRADFORD) @ np.diag(cd / cs) @ _BRADFORD @ m
    return np.linalg.inv(rgb_to_xyz(dst)) @ m


# BT.1886 display curve (pure gamma 2.4, black at 0) as tables: 8-bit code -> light, and
# light (4096 steps) -> 8-bit code.
_GAMMA_IN = (np.arange(256) / 255.0) ** 2.4
_GAMMA_OUT = np.rint(255.0 * (np.arange(4096) / 4095.0) ** (1 / 2.4)).astype(np.uint8)


def bt2020_to_bt709(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """SDR RGB in BT.2020 primaries ``(..., 3)`` uint8 -> BT.709/sRGB primaries, through
    the display light of a BT.1886 display (gamma 2.4); out-of-gamut colours clip."""
    lin = _GAMMA_IN[rgb].astype(np.float32)
    out = np.einsum("...j,kj->...k", lin, BT2020_TO_BT709.astype(np.float32))
    idx = np.clip(out * 4095.0 + 0.5, 0, 4095).astype(np.intp)
    return _GAMMA_OUT[idx]


# -- merging near-duplicates ------------------------------------------------------------
#: Colours closer than this in OKLab (Euclidean, L in 0..1) are listed as one in
#: summaries (the page's lists, the live tooltip, segments' colours), with their shares
#: summed. 0.04 is about twice OKLab's just-noticeable difference (~0.02): k-means
#: often splits one surface into several clusters a step apart, which are noise in a
#: list of colours, while colours a viewer tells apart stay separate. The spectrum
#: itself is drawn unmerged.
MERGE_DISTANCE = 0.04
#: The same rule for a whole film's palette (``Corpus.palette``): colours a viewer would
#: call "the same" at a glance, about 2.5 just-noticeable differences (two sRGB greys 15
#: levels apart are 0.05 apart; red 220,30,30 and 200,30,30 are 0.04). A film pools
#: thousands of strips, whose near colours a one-strip list would keep apart.
FILM_MERGE_DISTANCE = 0.05


def merge_leaders(
    palette: ArrayLike, weights: ArrayLike, threshold: float = MERGE_DISTANCE
) -> NDArray[np.intp]:
    """For each colour of one strip, the index of the colour it is merged with.

    Greedy and deterministic: the heaviest colour not yet merged (ties: the earlier one)
    leads a group (it is its own leader), and takes every colour not yet merged that
    lies closer than ``threshold`` to it in OKLab; repeat. Groups are stars around their
    leader, so a chain of small steps never merges two colours far apart. This is the
    plain reference, one NumPy step per leader; :func:`merge_colours` runs the same rule
    as a compiled kernel that looks only at colours near the leader's lightness, and
    :func:`merge_leaders_batch` does many strips at once.
    """
    lab = oklab(np.asarray(palette, dtype=np.uint8).reshape(-1, 3))
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    leader = np.full(len(w), -1, np.intp)
    limit = threshold * threshold
    for i in sorted(range(len(w)), key=lambda j: -w[j]):  # sorted() is stable
        if leader[i] >= 0:
            continue
        # Every colour against this leader at once (a segment pools thousands); the
        # channels summed in order, as merge_leaders_batch does: the same distances.
        diff = lab - lab[i]
        d2 = diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1] + diff[:, 2] * diff[:, 2]
        leader[(leader < 0) & (d2 < limit)] = i
        leader[i] = i
    return leader


def merge_leaders_batch(
    palettes: NDArray[np.uint8],
    weights: NDArray[np.float64],
    valid: NDArray[np.bool_],
    threshold: float = MERGE_DISTANCE,
) -> NDArray[np.intp]:
    """:func:`merge_leaders` of every row of padded ``(n, k, 3)`` palettes at once.

    ``weights`` and ``valid`` are ``(n, k)``; padding (``valid`` false) is never merged
    and gets -1. The ``(n, k, k)`` table of which colours are close comes first (the
    same float operations as the reference, so the same answers), then one step per
    colour rank over all strips: ``k`` NumPy steps instead of ``n * k`` Python ones.
    """
    n, k = weights.shape
    lab = oklab(palettes)
    d2 = np.zeros((n, k, k))
    for ch in range(3):  # summed in the reference's order: bit-identical distances
        diff = lab[:, None, :, ch] - lab[:, :, None, ch]
        d2 += diff * diff
    close = d2 < threshold * threshold  # close[s, i, j]: colour j is near colour i
    close[:, np.arange(k), np.arange(k)] = True  # a leader leads itself
    del d2
    rank = np.argsort(np.where(valid, -weights, np.inf), axis=1, kind="stable")
    leader = np.full((n, k), -1, np.intp)
    rows = np.arange(n)
    for r in range(k):
        c = rank[:, r]
        free = valid[rows, c] & (leader[rows, c] < 0)
        if not free.any():
            continue
        join = close[rows, c] & valid & (leader < 0) & free[:, None]
        leader[join] = np.broadcast_to(c[:, None], (n, k))[join]
    return leader


def merge_colours(
    palette: ArrayLike,
    weights: ArrayLike,
    threshold: float = MERGE_DISTANCE,
    *,
    top: int | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """Near-duplicate colours merged: ``(colours (m, 3) uint8, shares (m,))``, largest
    share first (ties: the group whose leader came first), at most ``top`` of them.

    The one colour merge of streamspec (segments' colours, the live tooltip, a corpus
    film's palette). A colour given more than once counts once with the sum of its
    weights. Groups are :func:`merge_leaders`' (OKLab distance below ``threshold``,
    star-shaped around the heaviest colour); a group's colour is its members' weighted
    mean in linear light, its share the sum of theirs over the total weight (shares of
    every group sum to 1). A group of zero weight keeps its leader's colour.
    """
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != len(pal):
        raise ValueError(f"{len(pal)} colours but {len(w)} weights")
    if len(w) == 0:
        return np.zeros((0, 3), np.uint8), np.zeros(0)
    # Exact repeats pooled first (a steady shot repeats its colours strip after strip),
    # kept in the order of their first appearance.
    packed = (pal[:, 0].astype(np.int64) << 16) | (pal[:, 1].astype(np.int64) << 8) | pal[:, 2]
    _, first, inv = np.unique(packed, return_index=True, return_inverse=True)
    appear = np.argsort(first)  # unique colours in order of first appearance
    rank_of = np.empty_like(appear)
    rank_of[appear] = np.arange(len(appear))
    inv = rank_of[inv.reshape(-1)]
    cols = pal[first[appear]]
    cw = np.bincount(inv, weights=w, minlength=len(cols))
    # Merge order: heaviest first, ties the earlier colour.
    order = np.argsort(-cw, kind="stable")
    lab = np.ascontiguousarray(oklab(cols[order]))
    by_l = np.argsort(lab[:, 0], kind="stable")
    pos = np.empty_like(by_l)
    pos[by_l] = np.arange(len(by_l))
    # Imported here: Numba's import (~0.4 s) waits until a kernel runs (see kmeans.K).
    from streamspec.analysis import _kernels

    lead = _kernels.merge_leaders(lab, by_l, pos, float(threshold))
    leader = np.empty(len(cols), np.intp)
    leader[order] = order[lead]  # back to indices of ``cols``
    groups, ginv = np.unique(leader, return_inverse=True)
    ginv = ginv.reshape(-1)
    total = np.bincount(ginv, weights=cw, minlength=len(groups))
    lin = srgb_to_linear(cols)
    sums = np.stack(
        [np.bincount(ginv, weights=cw * lin[:, c], minlength=len(groups)) for c in range(3)], 1
    )
    colours = linear_to_srgb(sums / np.maximum(total, 1e-300)[:, None])
    empty = total <= 0  # a group of zero weight: its leader's own colour
    colours[empty] = cols[groups[empty]]
    shares = total / (w.sum() or 1.0)
    rank = np.lexsort((groups, -total))[: None if top is None else max(int(top), 0)]
    return colours[rank], shares[rank]


# -- OKLab as a uint8 grid, for the RGB quantizer (--space oklab) -------------------------
#: One OKLab unit is this many grid steps on every axis (isotropic, so the quantizer's
#: Euclidean distance is OKLab's): a step is 0.004, a fifth of a just-noticeable
#: difference. sRGB's a and b lie within -0.24..0.28 and -0.32..0.20: offset by 0.5 they fit.
OKLAB_GRID_SCALE = 255.0
_LINEAR32 = _LINEAR.astype(np.float32)


def srgb_to_oklab_grid(rgb: ArrayLike) -> NDArray[np.uint8]:
    """sRGB uint8 ``(..., 3)`` -> OKLab on a uint8 grid: ``(L, a + 0.5, b + 0.5) * 255``."""
    lin = _LINEAR32[np.asarray(rgb, dtype=np.uint8)]
    lms = np.cbrt(np.einsum("...j,kj->...k", lin, _M1.astype(np.float32)))
    lab = np.einsum("...j,kj->...k", lms, _M2.astype(np.float32))
    lab[..., 1:] += 0.5
    return np.clip(np.rint(lab * OKLAB_GRID_SCALE), 0, 255).astype(np.uint8)


def oklab_grid_to_srgb(grid: ArrayLike) -> NDArray[np.uint8]:
    """The inverse of :func:`srgb_to_oklab_grid` for (float) grid points: uint8 sRGB,
    out-of-gamut points clipped."""
    lab = np.asarray(grid, dtype=np.float64) / OKLAB_GRID_SCALE
    lab = lab - np.array([0.0, 0.5, 0.5])
    return linear_to_srgb(oklab_to_linear(lab))
