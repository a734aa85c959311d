"""The live view under load, headless: does the video keep its pace while the spectrum
builds? Measured in one run for a 1080p24 H.264 file, the same film with AAC sound
(5.1, played through SDL's disk driver into a file, the sound's clock leading) and a
720p30 live lavfi source, sampling every 0.5 s:

  display rate >= 0.98x the source rate, p95 latency from a sample's frame on screen to
  its strip on screen <= 100 ms, and no sample dropped; CPU use is reported.

With sound, the pictures follow the sound, and the disk driver keeps real time only as
well as its thread is scheduled (it sleeps a buffer's length after each one): the
pictures shown are also given per media second played ("of due"), and the sound's own
pace (media seconds per wall second) and its underruns are printed.

Run: python benchmarks/live.py [--seconds 40]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, os.path.dirname(__file__))
import tempfile
from pathlib import Path

import numpy as np
from _common import MEDIA, film, table, verdict

from streamspec.live.app import play


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def with_sound(video: Path) -> Path:
    """``video`` with Big Buck Bunny's 5.1 AAC sound looped under it (cached)."""
    import av

    cache = Path("/tmp/benchmarks/.cache")
    cache.mkdir(parents=True, exist_ok=True)
    out_path = cache / f"{video.stem}-aac51.mp4"
    if out_path.exists():
        return out_path
    print(f"generating {out_path.name} (cached for later runs)...", flush=True)
    with av.open(str(MEDIA / "bigbuckbunny.mp4")) as c:
        bunny = np.concatenate(
            [f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1
        ).astype(np.float32)  # (6, n) planar
    tmp = out_path.with_suffix(".part.mp4")
    with av.open(str(video)) as src, av.open(str(tmp), "w") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream("aac", rate=48000, layout="5.1")
        total = round(float(src.duration / 1e6) * 48000)
        done = 0
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            # Sound up to this packet's time, so the file is interleaved.
            until = min(total, round(float(packet.dts * vin.time_base) * 48000) + 48000)
            while done < until:
                n = min(1024, until - done)
                idx = (np.arange(done, done + n)) % bunny.shape[1]
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(bunny[:, idx]), format="fltp", layout="5.1"
                )
                frame.sample_rate, frame.pts = 48000, done
                for p in aout.encode(frame):
                    out.mux(p)
                done += n
            packet.stream = vout
            out.mux(packet)
        for p in aout.encode():
            out.mux(p)
    tmp.rename(out_path)
    return out_path


def session(source, fps: float, seconds: float, out: Path, sound: bool = False) -> dict:
    c0, t0 = cpu(), time.perf_counter()
    first: list[float] = []
    heard: dict = {}

    def tick(window) -> None:
        if not first and window.model.stats.frames_shown:
            first.append(time.perf_counter())
            heard["player"] = window.audio
            heard["t0"] = (time.perf_counter(), window.model.playhead)

    if sound:  # SDL reads these when the sound starts
        os.environ["SDL_AUDIODRIVER"] = "disk"
        os.environ["SDL_DISKAUDIOFILE"] = str(
            out.with_suffix(".raw")
        )  # not /dev/null: SDL refuses it
    result = play(
        source,
        every=0.5,
        end=seconds,
        exit_at_end=True,
        output=out,
        window_size=(1280, 720),
        on_tick=tick,
        announce=lambda s: None,
    )
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    wall = time.perf_counter() - t0
    m = result.model
    played = time.perf_counter() - first[0]
    lat = np.array(m.stats.latencies) * 1000
    expected = int(np.ceil(seconds / 0.5 - 1e-9))
    player = heard.get("player")
    if sound and player is None:
        sys.exit("the sound run played no sound")
    media = m.playhead - heard["t0"][1]  # media seconds played after the first picture
    return {
        "due": m.stats.frames_shown / max(media * fps, 1e-9),
        "pace": media / played,
        "underruns": player.samples_dropped if player is not None else 0,
        "shown": m.stats.frames_shown,
        "dropped": m.stats.frames_dropped + m.stats.frames_skipped_live,
        "rate": m.stats.frames_shown / played / fps,
        "p95": float(np.percentile(lat, 95)) if len(lat) else float("nan"),
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "samples": result.strips,
        "missing": expected - result.strips,
        "cpu": (cpu() - c0) / wall * 100,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0)
    args = ap.parse_args()
    clip = film(1.0)  # 1080p24 H.264, GOP 240, 3 B-frames
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as d:
        runs = [
            ("1080p24 H.264 file", str(clip), 24.0),
            ("1080p24 H.264 + 5.1 AAC, sound on", str(with_sound(clip)), 24.0),
            ("720p30 lavfi live", "lavfi:testsrc2=size=1280x720:rate=30,realtime", 30.0),
        ]
        for name, src, fps in runs:
            r = session(src, fps, args.seconds, Path(d) / "s.png", sound="sound on" in name)
            rows.append(
                [
                    name,
                    f"{r['rate']:.3f}",
                    f"{r['due']:.3f}",
                    f"{r['pace']:.3f}",
                    f"{r['p50']:.1f}",
                    f"{r['p95']:.1f}",
                    r["samples"],
                    r["missing"],
                    r["dropped"],
                    f"{r['cpu']:.0f}%",
                ]
            )
            checks += [
                verdict(f"{name}: display rate / source rate", r["rate"], 0.98, True),
                verdict(f"{name}: p95 sample-to-strip ms", r["p95"], 100, False),
                verdict(f"{name}: samples missing", r["missing"], 0, False),
            ]
            if "sound on" in name:
                checks.append(verdict(f"{name}: sound underrun samples", r["underruns"], 0, False))
            print(f"{name}: {r}", flush=True)
    print()
    print(
        table(
            [
                "source",
                "display / source rate",
                "shown / due",
                "media s / wall s",
                "p50 ms",
                "p95 ms",
                "strips",
                "samples missing",
                "frames dropped",
                "CPU (of one core)",
            ],
            rows,
        )
    )
    print()
    print("\n".join(checks))


if __name__ == "__main__":
    main()
