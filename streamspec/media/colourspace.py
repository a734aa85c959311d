"""How a frame's YUV becomes sRGB: the colour tags it carries, and what to assume without.

Pure (no PyAV): :func:`resolve` turns a frame's tags (FFmpeg's AVCOL_* numbers), size
and pixel format into a :class:`ColourPlan` -- the matrix, range, primaries and
transfer to convert with, whether the source is HDR, and how to tone-map it.

Untagged sources follow mpv's rule: BT.709 when width >= 1280 or height > 576, else
BT.601; limited range unless the pixel format is a ``yuvj*`` one (JPEG, full range).
Tags FFmpeg reserves or cannot convert are replaced by that guess, with one warning
naming what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamspec.core.options import TONEMAPS

__all__ = ["LUMA_WEIGHTS", "TONEMAPS", "ColourPlan", "resolve"]

# --tonemap (TONEMAPS): auto: HDR is rolled off (rolloff), wide-gamut SDR brought into
# BT.709, other SDR left alone; off: no colour management beyond the matrix and range
# (what a plain YUV-to-RGB conversion gives a tagged source); rolloff: HDR reference
# white (203 nits) becomes SDR white, brighter highlights roll off smoothly up to the
# source's peak, hue kept (streamspec.analysis.colour.rolloff); clip: reference white becomes SDR
# white, every channel brighter clips (what zscale + tonemap=clip give); perceptual:
# FFmpeg's perceptual intent (the whole HDR range is compressed, diffuse white gets darker).

# AVCOL_SPC_* -> name; the matrices swscale can convert (PyAV's Colorspace).
_MATRICES = {
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    9: "bt2020nc",
    10: "bt2020c",
}
# The PyAV Colorspace value to convert with (BT.601 is 5; constant-luminance BT.2020
# is approximated by the non-constant one).
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
#: Luma weights (Kr, Kb) of each matrix to convert with (by its PyAV Colorspace value).
LUMA_WEIGHTS = {
    1: (0.2126, 0.0722),
    4: (0.30, 0.11),
    5: (0.299, 0.114),
    7: (0.212, 0.087),
    9: (0.2627, 0.0593),
}
_PRIMARIES = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
_TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    11: "iec61966-2-4",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    18: "arib-std-b67",
}
PQ, HLG = 16, 18
UNSPECIFIED = 2  # AVCOL_SPC/PRI/TRC_UNSPECIFIED
MPEG, JPEG = 1, 2  # AVCOL_RANGE_*


@dataclass
class ColourPlan:
    """What :func:`resolve` decided: the numbers to convert with, and what to record."""

    matrix: int | None  # PyAV Colorspace to convert with; None for RGB pixel formats
    full_range: bool
    primaries: int  # AVCOL_PRI_* (tagged or assumed)
    transfer: int  # AVCOL_TRC_*
    hdr: str | None  # "pq" (HDR10), "hlg" or None
    tonemap: str  # what is applied: "off", "rolloff", "clip" or "perceptual"
    # the reformat's dst_color_trc / dst_color_primaries, when colour management runs
    manage: bool
    record: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _name(table: dict[int, str], value: int | None) -> str:
    if value is None or value == UNSPECIFIED:
        return "unspecified"
    return table.get(value, f"reserved ({value})")


def resolve(
    *,
    width: int,
    height: int,
    pix_fmt: str,
    matrix: int | None,
    colour_range: int | None,
    primaries: int | None,
    transfer: int | None,
    tonemap: str = "auto",
    dolby_vision: bool = False,
) -> ColourPlan:
    """The conversion for a frame with these tags (AVCOL_* numbers; None or 2: untagged).

    ``tonemap`` is one of :data:`TONEMAPS`. ``auto`` uses ``rolloff`` for HDR: reference
    white (203 nits) is SDR white, as players show it, and highlights keep their hue;
    FFmpeg 8's perceptual intent (measured on HDR10 patches) turns white into sRGB 155
    without mastering metadata and keeps only 71-80 % of the colours' OKLab chroma with
    1000-nit metadata.
    """
    warnings: list[str] = []
    hd = width >= 1280 or height > 576
    guess_matrix, guess_name = (1, "bt709") if hd else (5, "bt470bg (BT.601)")
    rgb_input = pix_fmt.startswith(("gbr", "rgb", "bgr", "argb", "abgr", "gray", "pal8"))
    assumed: list[str] = []

    # Matrix
    if rgb_input:
        sws_matrix = None
        matrix_name = "rgb" if not pix_fmt.startswith("gray") else "gray"
    elif matrix in _SWS_MATRIX:
        sws_matrix = _SWS_MATRIX[matrix]
        matrix_name = _MATRICES[matrix]
        if matrix == 10:
            warnings.append(
                "colour: constant-luminance BT.2020 is converted as non-constant BT.2020"
            )
    else:
        sws_matrix = guess_matrix
        matrix_name = guess_name
        assumed.append("matrix")
        if matrix not in (None, UNSPECIFIED):
            warnings.append(
                f"colour: matrix tag {_name(_MATRICES, matrix)} cannot be converted; "
                f"assuming {guess_name} ({width}x{height})"
            )

    # Range
    jpeg_fmt = pix_fmt.startswith("yuvj")
    if rgb_input or colour_range == JPEG:
        full = True
    elif colour_range == MPEG:
        full = False
        if jpeg_fmt:
            full = True
            warnings.append(
                f"colour: {pix_fmt} is full range but tagged limited; assuming full range"
            )
    else:
        full = jpeg_fmt
        assumed.append("range")
        if colour_range not in (None, 0):
            warnings.append(
                f"colour: range tag {colour_range} is reserved; assuming "
                f"{'full' if full else 'limited'} range"
            )

    # Primaries and transfer
    prim = primaries if primaries in _PRIMARIES else None
    if prim is None:
        if primaries not in (None, UNSPECIFIED):
            warnings.append(
                f"colour: primaries tag {_name(_PRIMARIES, primaries)} is reserved; "
                f"assuming {'bt709' if hd else 'bt470bg'}"
            )
        prim = 1 if hd else 5
        assumed.append("primaries")
    trc = transfer if transfer in _TRANSFERS else None
    if trc is None:
        if transfer not in (None, UNSPECIFIED):
            warnings.append(
                f"colour: transfer tag {_name(_TRANSFERS, transfer)} is reserved; assuming bt709"
            )
        trc = 1
        assumed.append("transfer")
    hdr = "pq" if trc == PQ else "hlg" if trc == HLG else None
    if hdr and rgb_input:
        warnings.append(f"colour: {pix_fmt} tagged {_name(_TRANSFERS, trc)}")
    if dolby_vision and hdr is None:
        warnings.append(
            "colour: Dolby Vision without an HDR10 or HLG base layer (profile 5?): "
            "its colours need the Dolby Vision metadata, which is not applied"
        )

    # What to apply: tone-map HDR; bring tagged wide-gamut SDR (BT.2020) into BT.709.
    if tonemap == "off":
        applied = "off"
    elif hdr:
        applied = "rolloff" if tonemap == "auto" else tonemap
    elif "primaries" not in assumed and prim not in (1, 5, 6) and tonemap != "off":
        applied = "clip"  # wide gamut SDR: only a primaries conversion (nothing to roll off)
    else:
        applied = "off"
    manage = applied != "off"

    record = {
        "matrix": matrix_name,
        "range": "full" if full else "limited",
        "primaries": _PRIMARIES[prim],
        "transfer": _TRANSFERS[trc],
        "hdr": {"pq": "HDR10 (PQ)", "hlg": "HLG"}.get(hdr or ""),
        "dolby_vision": dolby_vision or None,
        "assumed": assumed,
        "tonemap": applied,
        "applied": (
            f"{matrix_name} {'full' if full else 'limited'} -> sRGB"
            + (
                f", {_TRANSFERS[trc]}/{_PRIMARIES[prim]} -> bt709/bt709 ({applied})"
                if manage
                else ""
            )
        ),
    }
    return ColourPlan(
        matrix=sws_matrix,
        full_range=full,
        primaries=prim,
        transfer=trc,
        hdr=hdr,
        tonemap=applied,
        manage=manage,
        record=record,
        warnings=warnings,
    )
