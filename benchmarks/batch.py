"""Film libraries on every core: batch and parallel-range rendering against one at a time.

Eight films of 60 to 95 s (the shared clips looped and re-encoded in H.264, MPEG-4 Part 2
and MPEG-2, at 480x270 to 1920x1080; cached in benchmarks/.cache/batch) are rendered

  1. one after another in this process (the kernels warmed up first): the baseline;
  2. by ``run_batch(jobs=2)`` (``streamspec batch --jobs 2``), pool start-up included;
  3. as a user runs them, each command in a fresh process (imports, start-up and close
     included), ``--rounds`` times in alternation: ``streamspec batch --jobs 2`` and
     ``streamspec batch --jobs 2 --dask local`` (a LocalCluster of two worker
     processes); the Dask overhead is the median of the rounds' ratios;

and a long film by ``render`` against ``render --jobs 2`` (ranges), in ``fast`` and
``exact`` mode. The cost per hour of film from (1) gives the "on paper" table of what a
1,000-film library takes on N cores and M machines.

  targets: batch --jobs 2 <= 0.9x one after another; --dask local <= 1.1x --jobs 2

Run: python benchmarks/batch.py [--every 1] [--rounds 3] [--long-rounds 3] [--long-minutes 10]
                               [--no-long]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import CACHE, film, media_files, table, verdict

from streamspec.core.options import RenderOptions
from streamspec.pipeline.batch import run_batch
from streamspec.pipeline.parallel import decoder_threads, executor, render_parallel, render_task
from streamspec.pipeline.rendering import render

# name, seconds, (w, h), codec, extension
FILMS = [
    ("a", 60, (640, 360), "libx264", ".mp4"),
    ("b", 75, (480, 270), "mpeg4", ".mkv"),
    ("c", 90, (1920, 1080), "libx264", ".mp4"),
    ("d", 60, (854, 480), "mpeg2video", ".ts"),
    ("e", 95, (640, 360), "mpeg4", ".mkv"),
    ("f", 70, (960, 540), "libx264", ".mp4"),
    ("g", 80, (480, 270), "mpeg2video", ".ts"),
    ("h", 65, (1920, 1080), "mpeg4", ".mkv"),
]


def make_films() -> list[Path]:
    """The eight films, generated once (a few minutes) and cached."""
    import av

    folder = CACHE / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    sources = media_files()
    paths = []
    for n, (name, seconds, (w, h), codec, ext) in enumerate(FILMS):
        path = folder / f"{name}-{seconds}s-{w}x{h}-{codec}{ext}"
        paths.append(path)
        if path.exists():
            continue
        print(f"generating {path.name}...", flush=True)
        fps, total, i = 24, seconds * 24, 0
        tmp = path.with_name(f"part-{path.name}")
        with av.open(str(tmp), "w") as out:
            st = out.add_stream(codec, rate=fps)
            st.width, st.height, st.pix_fmt = w, h, "yuv420p"
            st.codec_context.gop_size = 48
            if codec == "libx264":
                st.options = {"preset": "veryfast", "crf": "22"}
            else:
                st.codec_context.bit_rate = w * h * 3
            # Each film starts at another clip, so no two are alike.
            order = sources[n % len(sources) :] + sources[: n % len(sources)]
            while i < total:
                for src in order:
                    with av.open(str(src)) as c:
                        for frame in c.decode(video=0):
                            if i >= total:
                                break
                            g = frame.reformat(w, h, "yuv420p")
                            g.pts, g.time_base = i, Fraction(1, fps)
                            for p in st.encode(g):
                                out.mux(p)
                            i += 1
            for p in st.encode():
                out.mux(p)
        tmp.rename(path)
    return paths


def _spin(seconds: float) -> float:
    """Busy-loop for ``seconds`` of CPU time (the machine's free cores, measured)."""
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
    return seconds


def free_cores(n: int = 2, seconds: float = 1.0) -> float:
    """How many cores ``n`` busy processes really get now: n x (one alone) / (n at once).
    On a shared machine this is what any parallel run can hope for."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(n) as workers:
        t = time.perf_counter()
        workers.map(_spin, [seconds])
        one = time.perf_counter() - t
        t = time.perf_counter()
        workers.map(_spin, [seconds] * n, chunksize=1)
        both = time.perf_counter() - t
    return n * one / both


def pool_start_up(film: Path, opts: RenderOptions) -> float:
    """Seconds for two fresh workers to import streamspec, load the compiled kernels and
    render a second of film each: the fixed cost of a batch, whatever its size."""
    t = time.perf_counter()
    with executor(2) as pool:
        one_second = opts.override(end=1.0)
        futures = [pool.submit(render_task, str(film), one_second) for _ in range(2)]
        for f in futures:
            f.result()
    return time.perf_counter() - t


def batch_command(films: list[Path], out: str, every: float, *flags: str) -> list[str]:
    """``streamspec batch`` of ``films`` into ``out``, as a user types it."""
    cmd = [sys.executable, "-m", "streamspec", "batch", *map(str, films), "-o", out]
    return [*cmd, "--every", f"{every:g}", "--no-corpus", "--quiet", *flags]


def bench_env() -> dict[str, str]:
    """This checkout's streamspec in a child process."""
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


def cli_seconds(films: list[Path], every: float, *flags: str) -> float:
    """Wall seconds of one ``streamspec batch`` in a fresh process: everything a user
    waits for, from Python's start to the cluster's (or pool's) close."""
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        subprocess.run(
            batch_command(films, out, every, *flags),
            env=bench_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - t


def client_peak_mib(films: list[Path], every: float) -> float:
    """Peak resident memory (MiB) of the batch's client process alone -- the process
    that collects every film's result and writes OUTDIR -- sampled every 20 ms while
    ``streamspec batch --jobs 2`` renders ``films`` (its workers are not counted)."""
    import subprocess

    import psutil  # a dependency of Dask distributed

    with tempfile.TemporaryDirectory() as out:
        cmd = batch_command(films, out, every, "--jobs", "2")
        proc = subprocess.Popen(cmd, env=bench_env(), stdout=subprocess.DEVNULL)
        me, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                peak = max(peak, me.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        if proc.returncode:
            raise RuntimeError(f"batch failed: {' '.join(cmd)}")
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=float, default=1.0, help="seconds between samples (1)")
    ap.add_argument("--long-minutes", type=float, default=10.0, help="the long 1080p film (10 min)")
    ap.add_argument("--no-long", action="store_true", help="skip the long film's render")
    ap.add_argument("--rounds", type=int, default=3, help="command-line rounds of each (3)")
    ap.add_argument("--long-rounds", type=int, default=3, help="rounds of the long film (3)")
    args = ap.parse_args()
    films = make_films()
    hours = sum(f[1] for f in FILMS) / 3600
    opts = RenderOptions.from_kwargs(every=args.every)
    render(str(films[0]), opts.override(end=2.0))  # JIT warm-up, not measured
    work = Path(tempfile.mkdtemp(prefix="streamspec-batch-bench-"))
    threads = decoder_threads(2)  # what `--jobs 2` gives each render on this machine
    cores_before = free_cores()
    start_up = pool_start_up(films[0], opts)
    try:
        t = time.perf_counter()
        for f in films:
            render(str(f), opts)
        sequential = time.perf_counter() - t

        t = time.perf_counter()
        # As `streamspec batch --jobs 2` runs it: two films at once, decoder threads shared.
        local = run_batch(
            [str(f) for f in films], work / "jobs2", opts, jobs=2, threads=threads, corpus=False
        )
        jobs2 = time.perf_counter() - t
        assert not local.failed, [f.reason for f in local.failed]

        # The commands as a user runs them, in alternation (a drifting machine weighs on
        # both alike); without Dask, the pool's rounds alone.
        try:
            import distributed  # noqa: F401

            has_dask = True
        except ImportError:
            has_dask = False
            print("Dask is not installed: pip install 'streamspec[cluster]' to measure it")
        # One after another as commands too: `streamspec render` once per film.
        t = time.perf_counter()
        for i, f in enumerate(films):
            out = str(work / f"render-{i}.png")
            render_cmd = [sys.executable, "-m", "streamspec", "render", str(f), "-o", out]
            subprocess.run(
                [*render_cmd, "--every", f"{args.every:g}", "--quiet"],
                env=bench_env(),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        cli_sequential = time.perf_counter() - t
        cli_rounds: list[tuple[float, float | None]] = []
        for r in range(args.rounds):
            pool_s = cli_seconds(films, args.every, "--jobs", "2")
            dask_s = (
                cli_seconds(films, args.every, "--jobs", "2", "--dask", "local")
                if has_dask
                else None
            )
            cli_rounds.append((pool_s, dask_s))
            extra = f", --dask local {dask_s:.2f} s ({dask_s / pool_s:.3f}x)" if dask_s else ""
            print(f"round {r + 1}: batch --jobs 2 {pool_s:.2f} s{extra}", flush=True)

        long_film = film(args.long_minutes)  # 1920x1080 H.264: a full-HD film
        long_rows = []
        for seek in () if args.no_long else ("fast", "exact"):
            # Alternating rounds, each --jobs 2 starting its own pool as `render` does;
            # the verdict is the median of the rounds' ratios.
            o = opts.override(seek=seek)
            ratios, same = [], True
            for _ in range(args.long_rounds):
                t = time.perf_counter()
                one = render(str(long_film), o)
                t1 = time.perf_counter() - t
                t = time.perf_counter()
                with executor(2) as pool:
                    two = render_parallel(str(long_film), o, pool, 2, threads=threads)
                t2 = time.perf_counter() - t
                same &= [s.to_json() for s in one.strips] == [s.to_json() for s in two.strips]
                ratios.append(t2 / t1)
                print(
                    f"{seek}: --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s ({t2 / t1:.3f})", flush=True
                )
            by_round = ", ".join(f"{r:.2f}" for r in ratios)
            median = statistics.median(ratios)
            long_rows.append((seek, len(one), by_round, median, "yes" if same else "no"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n8 films, {hours * 60:.1f} min of film, --every {args.every:g}, 2 cores\n")
    rows = [("one after another (in process)", sequential, 1.0)]
    rows.append(
        ("streamspec render, one command per film", cli_sequential, cli_sequential / sequential)
    )
    rows.append(("run_batch(jobs=2) (in process)", jobs2, jobs2 / sequential))
    cli_pool = statistics.median(p for p, _ in cli_rounds)
    rows.append(
        (
            f"streamspec batch --jobs 2 (median of {len(cli_rounds)})",
            cli_pool,
            cli_pool / sequential,
        )
    )
    dask_ratios = [d / p for p, d in cli_rounds if d is not None]
    if dask_ratios:
        cli_dask = statistics.median(d for _, d in cli_rounds if d is not None)
        rows.append(
            (
                f"streamspec batch --jobs 2 --dask local (median of {len(dask_ratios)})",
                cli_dask,
                cli_dask / sequential,
            )
        )
    print(table(["run", "wall s", "x sequential"], rows))
    print(f"\nrender of a {args.long_minutes:g}-minute 1080p film, --jobs 1 vs --jobs 2\n")
    heads = ["seek", "strips", "--jobs 2 / --jobs 1 by round", "median", "same strips"]
    print(table(heads, long_rows))
    for seek, _, _, median, _ in long_rows:
        print(verdict(f"render --jobs 2 / --jobs 1, {seek} (median)", median, 1.0, False))
    print()
    # The client's memory must not grow with the number of films: 2 films against 8.
    peak2 = client_peak_mib(films[:2], args.every)
    peak8 = client_peak_mib(films, args.every)
    print(
        f"client peak memory: {peak2:.0f} MiB for 2 films, {peak8:.0f} MiB for 8 "
        f"({peak8 / peak2:.2f}x)"
    )
    cores_after = free_cores()
    print(
        f"\nfree cores measured (2 busy processes): {cores_before:.2f} before, "
        f"{cores_after:.2f} after; two workers' start-up (imports, kernels): {start_up:.1f} s"
    )
    print(f"batch --jobs 2 without the start-up: {(jobs2 - start_up) / sequential:.2f}x sequential")
    print(verdict("batch --jobs 2 / sequential", jobs2 / sequential, 0.9, False))
    print(
        f"as commands: streamspec batch --jobs 2 / streamspec render one film after another: "
        f"{cli_pool / cli_sequential:.2f} ({cli_pool:.1f} s / {cli_sequential:.1f} s); "
        f"a fresh batch command / the warm in-process sequential: {cli_pool / sequential:.2f}"
    )
    if dask_ratios:
        ratios = ", ".join(f"{r:.3f}" for r in dask_ratios)
        print(f"--dask local / --jobs 2 by round: {ratios}")
        print(
            verdict("--dask local / --jobs 2 (median)", statistics.median(dask_ratios), 1.1, False)
        )
    # Core-seconds per hour of film from the batch that kept both cores busy (one render
    # alone uses more than one core: its decoding threads run beside the quantizer).
    per_hour = 2 * jobs2 / hours
    print(
        f"\ncost: {per_hour:,.0f} core-seconds per hour of film at --every {args.every:g} "
        f"(run_batch(jobs=2) on 2 cores; one render at a time: {sequential / hours:,.0f} "
        "wall seconds per hour)"
    )
    library = 1000 * 1.75  # 1,000 films of 1 h 45 min
    paper = []
    for machines, cores in ((1, 2), (1, 8), (1, 32), (4, 32), (16, 32)):
        paper.append((machines, cores, f"{library * per_hour / (machines * cores) / 3600:,.1f} h"))
    print("\n1,000 films of 1 h 45 min, on paper (perfect scaling, same cores)\n")
    print(table(["machines", "cores each", "wall time"], paper))


if __name__ == "__main__":
    main()
