"""Helpers shared by the benchmark scripts (timing, tables, real footage)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"
# Measure this checkout's streamspec, not whichever one is installed.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def media_files() -> list[Path]:
    """The shared real clips, or exit with a clear message when they are absent."""
    files = sorted(MEDIA.glob("*.mp4"))
    if not files:
        sys.exit(f"no footage in {MEDIA} (see its README); nothing to measure")
    return files


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls of ``fn`` and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def geomean(values: Sequence[float]) -> float:
    """Geometric mean (ratios are averaged multiplicatively)."""
    return statistics.geometric_mean(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (what docs/performance.md shows)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(name: str, value: float, target: float, higher_is_better: bool) -> str:
    """One line saying whether a target was met."""
    ok = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    return f"{'PASS' if ok else 'FAIL'}  {name}: {value:.3g} (target {op} {target:g})"


CACHE = ROOT / "benchmarks" / ".cache"


def film(
    minutes: float,
    *,
    size: tuple[int, int] = (1920, 1080),
    fps: int = 24,
    gop: int = 240,
    tune: str | None = None,
) -> Path:
    """A long H.264 film made of the shared clips, looped and re-encoded (cached).

    x264 ``veryfast`` keeps what makes decoding realistic: CABAC, the deblocking filter
    and 3 B-frames; the GOP is fixed (no scene-cut keyframes), as for a film master.
    ``tune="fastdecode"`` makes a film that decodes faster (CAVLC, no deblocking, no
    weighted prediction; still 3 B-frames), like many web encodes: there the work per
    sample weighs more against decoding.
    """
    import av
    import numpy as np

    CACHE.mkdir(parents=True, exist_ok=True)
    suffix = f"-{tune}" if tune else ""
    out_path = CACHE / f"film-{minutes:g}min-{size[0]}x{size[1]}-{fps}fps-gop{gop}{suffix}.mp4"
    if out_path.exists():
        return out_path
    sources = media_files()
    n = int(minutes * 60 * fps)
    print(f"generating {out_path.name} ({n} frames; cached for later runs)...", flush=True)
    tmp = out_path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = size[0], size[1], "yuv420p"
        st.codec_context.gop_size = gop
        st.options = {
            "preset": "veryfast",
            "crf": "20",
            "bframes": "3",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        if tune:
            st.options = {**st.options, "tune": tune}
        i = 0
        while i < n:
            for src in sources:
                with av.open(str(src)) as c:
                    for frame in c.decode(video=0):
                        if i >= n:
                            break
                        f = frame.reformat(size[0], size[1], "yuv420p")
                        # Slow colour drift so that no two loops are identical.
                        if i % 240 == 0:
                            tint = 0.85 + 0.15 * np.sin(i / 2000.0)
                        arr = f.to_ndarray()
                        arr[: size[1]] = (arr[: size[1]] * tint).astype(np.uint8)
                        g = av.VideoFrame.from_ndarray(arr, format="yuv420p")
                        g.pts = i
                        for p in st.encode(g):
                            out.mux(p)
                        i += 1
        for p in st.encode():
            out.mux(p)
    tmp.rename(out_path)
    return out_path


def decode_all(path: Path) -> int:
    """Decode every frame with threads (the reference a render is compared with)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return sum(1 for _ in c.decode(s))


def synthetic_spectrum(n: int, *, columns: bool = False, time_offset: float = 0.0) -> Any:
    """A spectrum of ``n`` strips shaped like real ones: 50 colours drifting over the
    film, counts, reel chapters every 10 minutes, a sample every 2 s; with ``columns``
    each strip also has a 270-row centre column (for slitscan)."""
    import numpy as np

    from streamspec.outputs.spectrum import Spectrum, Strip

    rng = np.random.default_rng(0)
    spec = Spectrum(
        settings={
            "start": 0.0,
            "step": 2.0,
            "offset": 0.0,
            "height": 400,
            "order": "hls",
            "mode": "sorted",
            "strip_width": 1,
            "k": 50,
        },
        source={"name": "two-hours.mp4", "kind": "file", "duration": 2.0 * n},
        slots=n,
        chapters=[{"start": i * 600.0, "title": f"Reel {i + 1}"} for i in range(n * 2 // 600 + 1)],
    )
    base = rng.integers(0, 256, (50, 3))
    for i in range(n):
        drift = (base + rng.integers(-20, 21, (50, 3)) + (i // 300) * 17) % 256
        counts = rng.integers(100, 5000, 50).astype(np.int64)
        column = rng.integers(0, 256, (270, 3), dtype=np.uint8) if columns else None
        spec.add(Strip(i, 2.0 * i, 2.0 * i + time_offset, drift.astype(np.uint8), counts, column))
    return spec


def frames_2s_apart(src: Any, n: int) -> list[Any]:
    """``n`` decoded frames of a source, 2 s apart (the middle frame of each 2 s)."""
    step = round(2 * (src.info.fps or 24))
    frames: list[Any] = []
    for i, f in enumerate(src.frames(0)):
        if i % step == step // 2:
            frames.append(f)
            if len(frames) == n:
                break
    return frames
