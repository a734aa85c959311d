"""The whole film, early: how soon the whole spectrum is there, against PyAV decoding
every frame of the same film (measured right before, in the same run).

(a) ``play`` (headless, SDL's dummy driver) on a 10-minute 1080p24 H.264 film: the time
    from the call until every slot holds a strip (provisional ones from the keyframes
    pass) <= 0.06x decode-all, while the display keeps >= 0.98x the source rate (frames
    shown per second of wall clock, over the fill and over the whole session).
(b) ``render --preview`` (the library call the CLI makes) on the same film: the first
    picture written <= 0.10x decode-all, and the final picture identical, pixel for pixel,
    to a render without --preview.

The film (a 45-second 1080p film, encoded once, its packets repeated: see
:func:`looped_film`) is made once into /tmp/benchmarks/.cache and reused.

Run: python benchmarks/preview.py [--minutes 10] [--seconds 30] [--no-render]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, os.path.dirname(__file__))
import _common
import numpy as np
from _common import decode_all, table, timed, verdict
from PIL import Image

from streamspec.live.app import play
from streamspec.pipeline.rendering import Renderer

_common.CACHE = Path("/tmp/benchmarks/.cache")  # shared by every checkout on the machine


def looped_film(minutes: float, base_minutes: float = 0.75) -> Path:
    """A ``minutes`` long 1080p24 film: :func:`_common.film` of ``base_minutes`` with its
    packets repeated (remuxed with shifted timestamps, not encoded again), cut at the
    first keyframe from ``minutes`` on. Decoding it costs what decoding a film that
    long costs, and it is made in seconds once the base film exists (encoding a
    10-minute 1080p film takes most of an hour on two busy cores); its colours repeat
    every ``base_minutes``."""
    import av

    out = _common.CACHE / f"film-{minutes:g}min-1920x1080-24fps-gop240-loop{base_minutes:g}.mp4"
    if out.exists():
        return out
    base = _common.film(base_minutes)
    tmp = out.with_suffix(".part.mp4")
    with av.open(str(base)) as probe:
        vs = probe.streams.video[0]
        frames = vs.frames or round(base_minutes * 60 * 24)
        tb = float(vs.time_base)
        span = round(frames / float(vs.average_rate) / tb)
    total = minutes * 60 / tb
    with av.open(str(tmp), "w") as dst:
        with av.open(str(base)) as src:
            ost = dst.add_stream_from_template(src.streams.video[0])
        k = 0
        while True:
            with av.open(str(base)) as src:
                for packet in src.demux(src.streams.video[0]):
                    if packet.dts is None:
                        continue
                    pts = (packet.pts if packet.pts is not None else packet.dts) + k * span
                    if packet.is_keyframe and pts >= total:
                        break
                    packet.pts = None if packet.pts is None else packet.pts + k * span
                    packet.dts += k * span
                    packet.stream = ost
                    dst.mux(packet)
                else:
                    k += 1
                    continue
            break
    tmp.rename(out)
    return out


def play_session(path: Path, seconds: float, out: Path, preview: bool = True) -> dict:
    """Play the film's first ``seconds`` (of the whole film's spectrum): when did every
    slot hold a strip, and at what rate were frames shown."""
    import pygame

    t0 = time.perf_counter()
    marks: dict = {}
    series: list[tuple[float, int]] = []  # (wall clock, frames shown so far)

    def tick(window) -> None:
        m = window.model
        now = time.perf_counter()
        series.append((now, m.stats.frames_shown))
        if "first" not in marks and m.stats.frames_shown:
            marks["first"] = (now, m.stats.frames_shown)
        if "full" not in marks and m.slots and len(m.spectrum) >= m.slots:
            marks["full"] = (now, m.stats.frames_shown)
        # Play ``seconds``, and on until the spectrum is whole (a busy machine), at most 10x.
        played = now - marks["first"][0] if "first" in marks else 0.0
        enough = played > seconds and ("full" in marks or played > 10 * seconds)
        if enough and "quit" not in marks:
            marks["quit"] = now
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    result = play(
        path,
        preview=preview,
        output=out,
        window_size=(1280, 720),
        on_tick=tick,
        announce=lambda s: None,
    )
    end = marks.get("quit", time.perf_counter())
    m = result.model
    fps = m.spectrum.source.get("fps") or 24.0
    first_t, first_n = marks["first"]

    def rate_until(t: float) -> float:
        """Frames shown per second of wall clock from the first one to ``t``, / fps."""
        n = max(k for when, k in series if when <= t)
        return (n - first_n) / (t - first_t) / fps

    r = {
        "rate_at": rate_until,
        "first_t": first_t,
        "slots": m.slots,
        "shown": m.stats.frames_shown,
        "dropped": m.stats.frames_dropped,
        "rate": (m.stats.frames_shown - first_n) / (end - first_t) / fps,
        "filled": None,
        "fill_rate": None,
        "fill_error": result.filler.error if result.filler else "no fill",
    }
    if "full" in marks:
        full_t = marks["full"][0]
        r["filled"] = full_t - t0
        r["filled_from_first_frame"] = full_t - first_t
        # Over a second at least (a shorter span is a handful of frames).
        r["fill_rate"] = rate_until(max(full_t, first_t + 1.0))
    return r


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def keyframe_pass_alone(path: Path) -> tuple[float, float, int]:
    """(wall, CPU) s of play's keyframes pass on its own (kernels loaded, crop settled):
    the work the fill adds, measured by CPU time, which a busy machine does not inflate
    as it does wall-clock time."""
    from streamspec.analysis.kmeans import warm_up
    from streamspec.core.options import SourceOptions
    from streamspec.live.fill import FILL_THREADS
    from streamspec.media import open_source
    from streamspec.pipeline.sampling import Sampler, StripMaker

    warm_up(background=False)
    r = Renderer(str(path), every=2.0, seek="exact")
    grid = r.sampler()
    r.close()
    c0, t0 = cpu(), time.perf_counter()
    opts = SourceOptions(seek="keyframes", crop=None)
    src = open_source(str(path), opts, threads=FILL_THREADS["keyframes"])
    src.crop = r.source.crop
    sampler = Sampler(src, grid.grid, end=grid.end, size=grid.size)
    maker = StripMaker(50, 0, provisional=True)
    n = sum(1 for sample in sampler.samples() if maker.make(sample))
    src.close()
    return time.perf_counter() - t0, cpu() - c0, n


def marks_first(r: dict) -> float:
    return r["first_t"]


def render_preview(path: Path, out: Path) -> dict:
    """``render --preview`` in this process: when the first picture is written, and the
    final one against a plain render's."""
    t0 = time.perf_counter()
    marks: dict = {}

    def saved(draft) -> None:
        draft.save(out)
        marks["first"] = time.perf_counter() - t0

    r = Renderer(str(path), every=2.0)
    final = r.run_with_preview(saved)
    final.save(out)
    total = time.perf_counter() - t0
    with Image.open(out) as img:
        preview_final = np.asarray(img)
    t1 = time.perf_counter()
    plain = Renderer(str(path), every=2.0).run()
    plain_s = time.perf_counter() - t1
    plain.save(out.with_name("plain.png"))
    with Image.open(out.with_name("plain.png")) as img:
        same = np.array_equal(preview_final, np.asarray(img))
    return {"first": marks["first"], "total": total, "plain": plain_s, "identical": same}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=30.0, help="how long play plays")
    ap.add_argument("--no-render", action="store_true")
    ap.add_argument("--film", type=Path, help="measure this film instead (while developing)")
    args = ap.parse_args()
    path = args.film or looped_film(args.minutes)
    print(f"film: {path.name}", flush=True)
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as d:
        c0 = cpu()
        ref, frames = timed(lambda: decode_all(path))
        ref_cpu = cpu() - c0
        print(f"decode-all: {frames} frames in {ref:.1f} s ({ref_cpu:.1f} s CPU)", flush=True)
        kf_wall, kf_cpu, kf_n = keyframe_pass_alone(path)
        print(f"keyframes pass alone: {kf_n} strips, {kf_wall:.2f} s, {kf_cpu:.2f} s CPU")
        base = play_session(path, args.seconds, Path(d) / "base.png", preview=False)
        print(f"play --no-preview: rate {base['rate']:.3f}", flush=True)
        p = play_session(path, args.seconds, Path(d) / "play.png")
        print(f"play: { {k: v for k, v in p.items() if k != 'rate_at'} }", flush=True)
        filled = p["filled"] if p["filled"] is not None else float("inf")
        rows.append(["play: every slot holds a strip", f"{filled:.2f} s", f"{filled / ref:.4f}"])
        rows.append(
            [
                "play: display / source rate (during the fill; whole session)",
                "",
                f"{p['fill_rate'] or float('nan'):.3f}; {p['rate']:.3f}",
            ]
        )
        span = (p["filled_from_first_frame"] or 0.0) if p["filled"] is not None else 0.0
        base_fill = base["rate_at"](marks_first(base) + max(span, 1.0))
        rows.append(
            [
                "play --no-preview: display / source rate (same span; whole session)",
                "",
                f"{base_fill:.3f}; {base['rate']:.3f}",
            ]
        )
        rows.append(
            [
                "play's keyframes pass alone: wall; CPU (vs decode-all's CPU)",
                f"{kf_wall:.2f} s; {kf_cpu:.2f} s",
                f"{kf_wall / ref:.4f}; {kf_cpu / ref_cpu:.4f}",
            ]
        )
        checks.append(verdict("play: whole spectrum / decode-all", filled / ref, 0.06, False))
        checks.append(verdict("play: display rate / source rate", p["rate"], 0.98, True))
        if p["fill_rate"] is not None:
            checks.append(verdict("play: display rate during the fill", p["fill_rate"], 0.98, True))
        if not args.no_render:
            ref2 = ref
            r = render_preview(path, Path(d) / "render.png")
            print(f"render --preview: {r}", flush=True)
            rows.append(
                [
                    "render --preview: first picture",
                    f"{r['first']:.2f} s",
                    f"{r['first'] / ref2:.4f}",
                ]
            )
            rows.append(
                [
                    "render --preview: final picture",
                    f"{r['total']:.1f} s",
                    f"{r['total'] / ref2:.3f}",
                ]
            )
            rows.append(["plain render (fast)", f"{r['plain']:.1f} s", f"{r['plain'] / ref2:.3f}"])
            checks.append(
                verdict(
                    "render --preview: first picture / decode-all", r["first"] / ref2, 0.10, False
                )
            )
            checks.append(
                f"{'PASS' if r['identical'] else 'FAIL'}  final picture identical to a plain render"
            )
    print()
    print(table(["what", "time", "/ decode-all"], rows))
    print()
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("\n".join(checks))


if __name__ == "__main__":
    main()
