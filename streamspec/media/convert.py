"""Colour conversion of decoded pictures to sRGB, beside :mod:`.colourspace` (which plans
it from a frame's tags) and :mod:`streamspec.media.cmstable` (the HDR and wide-gamut table).

:func:`plan_colour` reads the tags of a stream's first frame; a :class:`Converter`
scales a PyAV frame and converts it with that plan: swscale's matrix and range for
SDR BT.709, the colour table for HDR and wide-gamut YUV, FFmpeg's ``scale`` filter for
the perceptual intent. :class:`Enlarger` scales an RGB picture up (the live view's).
"""

from __future__ import annotations

import contextlib
import fractions
import struct
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.colour import (
    DEFAULT_HDR_PEAK,
    HLG_NOMINAL_PEAK,
    PEAK_RANGE,
    bt2020_to_bt709,
)
from streamspec.media import cmstable
from streamspec.media.colourspace import LUMA_WEIGHTS, ColourPlan, resolve

__all__ = ["Converter", "Enlarger", "plan_colour"]


def plan_colour(stream: Any, first: Any, tonemap: str) -> ColourPlan:
    """The colour conversion of ``stream``, from the first frame's tags (the codec's when the frame
    has none) and size: see :mod:`.colourspace`."""
    ctx = stream.codec_context

    def tag(name: str) -> int | None:
        value = getattr(first, name, None)
        untagged = 0 if name == "color_range" else 2  # AVCOL_*_UNSPECIFIED
        if value in (None, untagged):
            value = getattr(ctx, name, value)
        return None if value is None else int(value)

    return resolve(
        width=first.width,
        height=first.height,
        pix_fmt=first.format.name,
        matrix=tag("colorspace"),
        colour_range=tag("color_range"),
        primaries=tag("color_primaries"),
        transfer=tag("color_trc"),
        tonemap=tonemap,
        dolby_vision=_is_dolby_vision(stream, first),
    )


class Converter:
    """Converts a source's decoded frames to sRGB with its :class:`ColourPlan`, keeping
    the scalers, filter graphs and colour table it builds for the next frames."""

    def __init__(self, plan: ColourPlan) -> None:
        self.plan = plan
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._prescaler = av.video.reformatter.VideoReformatter()
        self._managed: dict[tuple[int, int], Any] = {}
        self._table: NDArray[np.uint8] | None = None
        self._graphs: dict[tuple[int, int, str, int, int], Any] = {}

    def to_rgb(self, raw: Any, w: int, h: int) -> NDArray[np.uint8]:
        """Scale and convert to sRGB with the planned matrix and range, and (for HDR and
        wide-gamut sources) colour management: the table (see :mod:`..cmstable`), or
        FFmpeg's for the perceptual intent and RGB pixel formats."""
        plan = self.plan
        managed = plan.manage and (plan.hdr or plan.primaries != 9)
        if self.uses_table():
            # Scale to the output size in 16-bit 4:4:4, then look the colours up in the
            # table built once from the formulas (see cms_table): every size shares it.
            small = self._prescaler.reformat(raw, w, h, "yuv444p16le", interpolation="AREA")
            yuv = np.asarray(small.to_ndarray(), dtype=np.uint16)  # yuv444p16le: uint16
            return cmstable.apply_table(yuv, self.cms_table(raw))
        if managed and raw.width * raw.height > w * h:
            # swscale's colour management runs at the input size (a 4K frame: ~160 ms);
            # scaling first to 16-bit 4:4:4, tags kept, makes it ~10 ms in all, and on
            # natural pictures differs by 0.3 levels on average.
            raw = self._prescaler.reformat(raw, w, h, "yuv444p16le", interpolation="AREA")
        if plan.tonemap == "perceptual":
            return self._graph_rgb(raw, w, h)
        kwargs = self._reformat_args()
        reformatter = self._reformatter
        if "dst_color_trc" in kwargs:
            # PyAV rebuilds its scaler when the size changes, and swscale's colour
            # management then rebuilds its tone-mapping tables: one scaler per size.
            reformatter = self._managed.setdefault((w, h), av.video.reformatter.VideoReformatter())
        out = reformatter.reformat(raw, w, h, "rgb24", interpolation="AREA", **kwargs)
        rgb = np.asarray(out.to_ndarray(), dtype=np.uint8)  # rgb24: uint8
        if plan.manage and not plan.hdr and plan.primaries == 9:
            # BT.2020 SDR: swscale's gamut mapping darkened saturated greens by CIEDE2000
            # ~5; the plain matrix in display light keeps every test patch within 1.5.
            rgb = bt2020_to_bt709(rgb)
        return rgb

    def uses_table(self) -> bool:
        """Colour management through the table: HDR and wide-gamut YUV sources, rolled
        off or clipped (the perceptual intent is FFmpeg's, through a filter graph)."""
        plan = self.plan
        return (
            plan.manage
            and (plan.hdr is not None or plan.primaries != 9)
            and plan.matrix is not None
            and plan.tonemap != "perceptual"
        )

    def _reformat_args(self) -> dict[str, Any]:
        """reformat's colour arguments for this source's plan."""
        plan = self.plan
        kwargs: dict[str, Any] = {}
        if plan.matrix is not None:
            kwargs = {
                "src_colorspace": plan.matrix,
                "src_color_range": 2 if plan.full_range else 1,
                "dst_color_range": 2,
            }
        if plan.manage and (plan.hdr or plan.primaries != 9):
            # FFmpeg 8's sws_scale_frame converts the pixels to these (not only the tags):
            # relative colorimetric, HDR reference white to SDR white. HDR is display
            # light, so it is encoded for an sRGB display (IEC 61966-2-1); other wide-gamut
            # SDR keeps its BT.709-family curve, so only its primaries change.
            trc = 13 if plan.hdr else 1
            kwargs.update(dst_color_trc=trc, dst_color_primaries=1)
        return kwargs

    def mapping(self, raw: Any) -> cmstable.Mapping:
        """What this source's table maps (see :class:`streamspec.media.cmstable.Mapping`): the
        plan's matrix, range, transfer and primaries, the frame's bit depth, and for PQ
        the peak its HDR metadata gives."""
        plan = self.plan
        assert plan.matrix is not None
        kr, kb = LUMA_WEIGHTS[plan.matrix]
        bits = max(8, min(16, int(raw.format.components[0].bits)))
        peak, source = _hdr_peak(raw) if plan.hdr == "pq" else (HLG_NOMINAL_PEAK, None)
        if plan.hdr == "pq":
            plan.record["peak"] = {"nits": peak, "from": source}
        return cmstable.Mapping(
            kr=kr,
            kb=kb,
            full_range=plan.full_range,
            bits=bits,
            transfer=plan.record["transfer"],
            primaries=plan.record["primaries"],
            tonemap=plan.tonemap,
            peak=peak,
        )

    def cms_table(self, raw: Any) -> NDArray[np.uint8]:
        """This source's colour table (see :mod:`streamspec.media.cmstable`): from the disk
        cache, else built now (about a second)."""
        if self._table is not None:
            return self._table
        mapping = self.mapping(raw)
        name = cmstable.key(mapping)
        table = cmstable.load(name)
        if table is None:
            table = cmstable.build(mapping)
            cmstable.save(name, table)
        self._table = table
        return table

    def _graph_rgb(self, raw: Any, w: int, h: int) -> NDArray[np.uint8]:
        """Perceptual tone mapping: FFmpeg's ``scale`` filter (PyAV's reformat cannot set
        the intent), one graph per input and output size."""
        plan = self.plan
        key = (raw.width, raw.height, raw.format.name, w, h)
        graphs = self._graphs
        if key not in graphs:
            g = av.filter.Graph()
            src = g.add_buffer(
                width=raw.width,
                height=raw.height,
                format=raw.format.name,
                time_base=fractions.Fraction(1, 1000),
            )
            rng = "full" if plan.full_range else "limited"
            scale = g.add(
                "scale",
                f"w={w}:h={h}:flags=area:in_range={rng}:out_range=full:"
                "out_transfer=bt709:out_primaries=bt709:intent=perceptual",
            )
            fmt = g.add("format", "rgb24")
            sink = g.add("buffersink")
            src.link_to(scale)
            scale.link_to(fmt)
            fmt.link_to(sink)
            g.configure()
            graphs[key] = g
        g = graphs[key]
        pts = raw.pts
        raw.pts = 0
        try:
            g.push(raw)
            out = g.pull()
        finally:
            raw.pts = pts
        return out.to_ndarray()


class Enlarger:
    """Scales RGB pictures up with FFmpeg's bilinear scaler (~3 ms for a window-sized
    picture, where painting every pixel of a synthetic source costs far more)."""

    def __init__(self) -> None:
        self._reformatter = av.video.reformatter.VideoReformatter()

    def __call__(self, rgb: NDArray[np.uint8], w: int, h: int) -> NDArray[np.uint8]:
        """``rgb`` (h, w, 3) scaled to ``w`` x ``h``."""
        small = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        big = self._reformatter.reformat(small, w, h, interpolation="BILINEAR")
        return np.ascontiguousarray(big.to_ndarray(), dtype=np.uint8)  # rows may be padded


def _hdr_peak(raw: Any) -> tuple[float, str | None]:
    """The peak (nits) of an HDR10 frame's content, for the roll-off: MaxCLL from its
    content light level side data, else its mastering display's maximum luminance, else
    1000 nits (what HDR10 is most often mastered for); and where it came from. Values
    outside PEAK_RANGE are taken at its bounds."""
    found: dict[str, bytes] = {}
    with contextlib.suppress(Exception):  # side data PyAV cannot read is no metadata
        side = raw.side_data
        for kind in side:
            name = getattr(kind, "name", str(kind))
            if name in ("CONTENT_LIGHT_LEVEL", "MASTERING_DISPLAY_METADATA"):
                found[name] = bytes(side[kind])
    low, high = PEAK_RANGE
    cll = found.get("CONTENT_LIGHT_LEVEL", b"")
    if len(cll) >= 8:  # AVContentLightMetadata: unsigned MaxCLL, MaxFALL
        max_cll = struct.unpack_from("<I", cll)[0]
        if max_cll > 0:
            return float(min(max(max_cll, low), high)), "MaxCLL"
    md = found.get("MASTERING_DISPLAY_METADATA", b"")
    if len(md) >= 88:  # AVMasteringDisplayMetadata: 8 AVRationals, then max, flags
        num, den = struct.unpack_from("<ii", md, 72)
        has_luminance = struct.unpack_from("<i", md, 84)[0]
        if has_luminance and num > 0 and den > 0:
            return float(min(max(num / den, low), high)), "mastering display"
    return DEFAULT_HDR_PEAK, None


def _is_dolby_vision(stream: Any, frame: Any) -> bool:
    """Best effort: a Dolby Vision codec tag (``dvh1``, ``dvhe``, ``dav1``...) or Dolby
    Vision side data on the stream or the first frame."""
    try:
        tag = str(stream.codec_context.codec_tag or "").lower()
    except (AttributeError, ValueError):
        tag = ""
    if tag in ("dvh1", "dvhe", "dav1", "dvav", "dva1"):
        return True
    for holder in (stream, frame):
        with contextlib.suppress(Exception):
            for sd in getattr(holder, "side_data", None) or ():
                name = str(getattr(sd, "type", sd)).upper()
                if "DOVI" in name or "DOLBY" in name:
                    return True
    return False
