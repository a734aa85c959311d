"""What colour management costs, on a 4K HDR10 film.

A 3840x2160 HDR10 film (HEVC Main 10, PQ, BT.2020, 24 fps, GOP 240, mastering metadata
for 1000 nits) is generated here from moving BT.2020 gradients and colour patches
computed with the PQ formula: 30 seconds are encoded (libx265 ultrafast, ~7 minutes on
2 cores) and repeated up to --minutes (2 by default), cached in /tmp/benchmarks/.cache.
Then, in one process:

1. per sample: AVSource.convert of decoded frames to the analysis size (480x270) with
   --tonemap auto (scale to 16-bit 4:4:4, then the colours looked up in the source's
   colour table) and off (matrix and range only), alternately on the same frames;
   opening the source with the table made cold, taken from the cache, and with off;
2. ``render --every 2`` fast with --tonemap off and auto, interleaved, --repeat pairs
   (the overhead is the median of the pairs' ratios), then exact, against PyAV decoding
   every frame of the same file with threads.

  targets: colour management adds <= 5 % to render time; fast <= 0.6x decode-all

Run: PYTHONPATH=. python benchmarks/colour.py [--minutes 2] [--size 3840x2160] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import decode_all, table, timed, verdict

from streamspec.analysis.colour import BT2020_TO_BT709, pq_inverse_eotf
from streamspec.media import open_source
from streamspec.pipeline.rendering import Renderer

TARGET_OVERHEAD = 0.05
# x265 at 4K is slow: the film is made once (STREAMSPEC_BENCH_CACHE to put it elsewhere)
CACHE_DIR = Path(os.environ.get("STREAMSPEC_BENCH_CACHE", "/tmp/benchmarks/.cache"))
TARGET_FAST = 0.6


def _planes(t: float, w: int, h: int):
    """Y'CbCr 10-bit planes of one frame: a BT.2020 gradient drifting with ``t`` and six
    sRGB patches at SDR white = 203 nits, PQ-encoded (limited range)."""
    import numpy as np

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lin = np.stack(
        [
            0.5 + 0.5 * np.sin(xx / w * 6.3 + t),
            0.5 + 0.5 * np.sin(yy / h * 6.3 + 0.7 * t),
            0.5 + 0.5 * np.cos((xx + yy) / (w + h) * 9.4 - t),
        ],
        axis=-1,
    )
    patches = np.array(
        [[0.72, 0.012, 0.012], [0.012, 0.35, 0.02], [0.02, 0.045, 0.64], [0.75, 0.41, 0.26]]
    )
    to2020 = np.linalg.inv(BT2020_TO_BT709)
    for i, p in enumerate(patches):
        x0 = int((0.1 + 0.2 * i) * w + 0.05 * w * np.sin(t + i))
        lin[h // 3 : h // 2, x0 : x0 + w // 10] = to2020 @ p
    lin[: h // 12] *= 4.0  # a band of highlights (up to ~800 nits)
    sig = pq_inverse_eotf(lin * 203.0)
    kr, kb = 0.2627, 0.0593
    y = kr * sig[..., 0] + (1 - kr - kb) * sig[..., 1] + kb * sig[..., 2]
    cb = (sig[..., 2] - y) / (2 * (1 - kb))
    cr = (sig[..., 0] - y) / (2 * (1 - kr))
    Y = np.rint((16 + 219 * y) * 4).astype("<u2")
    U = np.rint((128 + 224 * cb[::2, ::2]) * 4).astype("<u2")
    V = np.rint((128 + 224 * cr[::2, ::2]) * 4).astype("<u2")
    return Y, U, V


def hdr_film(
    minutes: float, size: tuple[int, int], fps: int = 24, gop: int = 240, unique: float = 30.0
) -> Path:
    """The HDR10 film (cached under CACHE_DIR). libx265 at 4K is slow (~15 s a second
    of film on 2 cores), so ``unique`` seconds (whole GOPs; 48 distinct frames cycled
    with a drifting offset) are encoded once, and that encode -- it starts with an IDR
    frame, so nothing in it refers to what came before -- is repeated, timestamps
    shifted, up to ``minutes``: a real HEVC stream that decodes at the pace of any
    other, whose content repeats every ``unique`` seconds."""
    import av
    import numpy as np

    w, h = size
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out_path = CACHE_DIR / f"hdr10-{minutes:g}min-{w}x{h}-{fps}fps-gop{gop}-r{unique:g}.mkv"
    if out_path.exists():
        return out_path
    gops = max(1, round(min(unique, minutes * 60) * fps / gop))
    part = CACHE_DIR / f"hdr10-{gops * gop / fps / 60:g}min-{w}x{h}-{fps}fps-gop{gop}.mkv"
    if not part.exists():
        n = gops * gop
        print(f"encoding {part.name} ({n} frames; cached for later runs)...", flush=True)
        bases = [_planes(i / 8.0, w, h) for i in range(48)]
        tmp = part.with_suffix(".part.mkv")
        with av.open(str(tmp), "w") as out:
            st = out.add_stream("libx265", rate=fps)
            st.width, st.height, st.pix_fmt = w, h, "yuv420p10le"
            cc = st.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 9, 9, 16, 1
            st.options = {
                "preset": "ultrafast",
                "x265-params": (
                    f"log-level=error:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=3:"
                    "hdr10=1:repeat-headers=1:max-cll=1000,400:"
                    "master-display=G(13250,34500)B(7500,3000)R(34000,16000)"
                    "WP(15635,16450)L(10000000,1)"
                ),
            }
            for i in range(n):
                Y, U, V = bases[i % len(bases)]
                f = av.VideoFrame(w, h, "yuv420p10le")
                shift = (i // len(bases)) * 8 % w
                for plane, data, div in zip(f.planes, (Y, U, V), (1, 2, 2), strict=True):
                    line = plane.line_size // 2
                    buf = np.zeros((data.shape[0], line), "<u2")
                    buf[:, : data.shape[1]] = np.roll(data, shift // div, axis=1)
                    plane.update(buf.tobytes())
                f.pts = i
                for p in st.encode(f):
                    out.mux(p)
            for p in st.encode():
                out.mux(p)
        tmp.rename(part)
    copies = max(1, math.ceil(minutes * 60 * fps / (gops * gop)))
    print(f"repeating it {copies} times into {out_path.name}...", flush=True)
    tmp = out_path.with_suffix(".part.mkv")
    with av.open(str(part)) as src, av.open(str(tmp), "w") as out:
        ist = src.streams.video[0]
        ost = out.add_stream_from_template(ist)
        tick = round(1 / fps / ist.time_base)
        dts = [p.dts for p in src.demux(ist) if p.size]
        # The first packets have no decode time (B-frames put it before 0): fill it in,
        # one frame apart, so that the copies' decode times follow on.
        known = next(i for i, d in enumerate(dts) if d is not None)
        dts = [dts[known] - (known - i) * tick if d is None else d for i, d in enumerate(dts)]
        span = max(dts) - min(dts) + tick  # one copy's duration, in ticks
        for k in range(copies):
            with av.open(str(part)) as again:  # muxing takes each packet's data
                packets = (p for p in again.demux(again.streams.video[0]) if p.size)
                for p, d in zip(packets, dts, strict=True):
                    p.pts = None if p.pts is None else p.pts + k * span
                    p.dts = d + k * span
                    p.stream = ost
                    out.mux(p)
    tmp.rename(out_path)
    return out_path


def convert_cost(path: Path, samples: int = 20) -> dict[str, float]:
    """Per sample (median ms) of converting decoded 4K frames to 480x270 with --tonemap
    auto and off, both in the same decode, one after the other on each frame; and the
    set-up when the source opens: the colour table built cold (no cached table) and
    warm (from the cache)."""
    import tempfile

    from streamspec.core.options import SourceOptions

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cold:
        for name, env in (("cold", cold), ("warm", cold)):
            os.environ["STREAMSPEC_CACHE"] = env
            t = time.perf_counter()
            open_source(path, SourceOptions(seek="exact")).close()
            out[f"open {name}"] = time.perf_counter() - t
        os.environ.pop("STREAMSPEC_CACHE")
    t = time.perf_counter()
    open_source(path, SourceOptions(seek="exact", tonemap="off")).close()
    out["open off"] = time.perf_counter() - t
    auto = open_source(path, SourceOptions(seek="exact"))
    off = open_source(path, SourceOptions(seek="exact", tonemap="off"))
    times: dict[str, list[float]] = {"auto": [], "off": []}
    with auto, off:
        for i, frame in enumerate(auto.frames()):
            if i % 24:
                continue
            for name, src in (("auto", auto), ("off", off)):
                t = time.perf_counter()
                src.convert(frame, (480, 270))
                times[name].append(time.perf_counter() - t)
            if len(times["auto"]) >= samples:
                break
    for name, ts in times.items():
        out[name] = statistics.median(ts[1:]) * 1000  # the first: each scaler's set-up
    return out


def _render(path: Path, seek: str, tonemap: str) -> tuple[float, int]:
    t = time.perf_counter()
    spec = Renderer(str(path), every=2.0, seek=seek, tonemap=tonemap).run()
    took = time.perf_counter() - t
    print(f"  render {seek} {tonemap}: {took:.1f} s", flush=True)  # as it goes: slow runs
    return took, len(spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--size", default="3840x2160")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of fast auto/off")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    path = hdr_film(args.minutes, size)  # type: ignore[arg-type]
    print(f"load before: {os.getloadavg()[0]:.1f}")

    cost = convert_cost(path)
    print(
        f"conversion to 480x270 per sample: auto {cost['auto']:.1f} ms, off {cost['off']:.1f} ms"
        f" (colour management {cost['auto'] - cost['off']:+.1f} ms)"
    )
    print(
        f"opening: cold table {cost['open cold']:.2f} s, cached {cost['open warm']:.2f} s, "
        f"--tonemap off {cost['open off']:.2f} s"
    )
    _render(path, "fast", "auto")  # warm-up: Numba kernels, the cached table, page cache
    runs: dict[tuple[str, str], list[float]] = {}
    strips = {}
    for _ in range(args.repeat):  # interleaved: the machine's load hits both alike
        for tonemap in ("off", "auto"):
            t, strips["fast", tonemap] = _render(path, "fast", tonemap)
            runs.setdefault(("fast", tonemap), []).append(t)
    base = timed(lambda: decode_all(path))[0]
    print(f"  decode-all: {base:.1f} s", flush=True)
    for tonemap in ("off", "auto"):
        t, strips["exact", tonemap] = _render(path, "exact", tonemap)
        runs["exact", tonemap] = [t]
    rows = []
    for (seek, tonemap), ts in runs.items():
        t = statistics.median(ts)
        rows.append([seek, tonemap, strips[seek, tonemap], len(ts), t, t / base])
    print(table(["seek", "tonemap", "strips", "runs", "seconds (median)", "x decode-all"], rows))
    print(f"decode-all: {base:.1f} s; load after: {os.getloadavg()[0]:.1f}")
    ratios = [a / o for a, o in zip(runs["fast", "auto"], runs["fast", "off"], strict=True)]
    overhead = statistics.median(ratios) - 1
    print(f"fast auto/off per interleaved pair: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(
        verdict("colour management overhead (fast, median pair)", overhead, TARGET_OVERHEAD, False)
    )
    fast = statistics.median(runs["fast", "auto"]) / base
    print(verdict("fast / decode-all", fast, TARGET_FAST, False))


if __name__ == "__main__":
    main()
