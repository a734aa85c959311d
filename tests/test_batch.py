"""streamspec batch and the parallel paths: films on every core, ranges of one film,
Dask (a real LocalCluster), and every bad input a library throws at a batch."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env
from videos import colour_film

from streamspec.cli import main
from streamspec.core.errors import InputError, OutputError
from streamspec.core.options import RenderOptions
from streamspec.outputs.spectrum import Spectrum
from streamspec.pipeline import parallel
from streamspec.pipeline.batch import find_films, run_batch, split_parts
from streamspec.pipeline.parallel import (
    decoder_threads,
    executor,
    local_cluster,
    merge_parts,
    render_parallel,
    render_task,
    split_slots,
)
from streamspec.pipeline.rendering import Renderer, render

OPTS = RenderOptions.from_kwargs(every=1.0, k=6, height=32)
FLAGS = ["--every", "1", "-k", "6", "--height", "32", "-q"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny films, two of them with the same name in different folders."""
    root = tmp_path_factory.mktemp("clips")
    (root / "lib" / "more").mkdir(parents=True)
    red = dict(colours=[(200, 30, 30), (30, 200, 30)], each=2.0, seed=1, gop=12)
    blue = dict(colours=[(30, 30, 200), (200, 200, 30)], each=2.0, seed=2, gop=12)
    return {
        "a": colour_film(root / "lib" / "film.mp4", seconds=4, **red),
        "b": colour_film(root / "lib" / "more" / "film.mp4", seconds=4, **blue),
        "c": colour_film(root / "lib" / "other.mkv", seconds=3, **blue),
        "root": root,
    }


@pytest.fixture(scope="module")
def pool() -> Iterator[object]:
    """One local process pool for the module (workers start once)."""
    with executor(2) as ex:
        yield ex


def strips_json(spec: Spectrum) -> list[dict]:
    return [s.to_json() for s in spec.strips]


# -- the pieces --------------------------------------------------------------------------
def test_split_slots_covers_every_slot_once() -> None:
    assert split_slots(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert split_slots(2, 8) == [(0, 1), (1, 2)]
    for total in range(1, 30):
        for parts in range(1, 9):
            ranges = split_slots(total, parts)
            assert [i for a, b in ranges for i in range(a, b)] == list(range(total))


def test_find_films_files_folders_globs_and_lists(clips: dict[str, Path], tmp_path: Path) -> None:
    lib = clips["root"] / "lib"
    listing = tmp_path / "list.txt"
    listing.write_text(f"# films\n{clips['a']}\n\nmissing.mp4\nhttp://example.invalid/x.mp4\n")
    films, bad = find_films([str(lib), str(lib / "*.mkv"), f"@{listing}"])
    assert [f.input for f in films] == [
        str(clips["a"]),
        str(clips["b"]),
        str(clips["c"]),
        "http://example.invalid/x.mp4",
    ]  # each film once, in order
    assert [(b.input, b.reason) for b in bad] == [
        (str(tmp_path / "missing.mp4"), f"no such file (listed in {listing})")
    ]


@pytest.mark.slow
def test_ranges_in_exact_mode_give_the_strips_of_one_render(
    clips: dict[str, Path], pool: object
) -> None:
    opts = OPTS.override(every=0.25, seek="exact")
    whole = render(str(clips["a"]), opts)
    split = render_parallel(str(clips["a"]), opts, pool, 3)  # type: ignore[arg-type]
    assert split.slots == whole.slots == 16
    assert strips_json(split) == strips_json(whole)
    assert split.settings == whole.settings
    assert not split.partial


def test_merge_of_a_missing_range_is_partial(clips: dict[str, Path]) -> None:
    opts = OPTS.override(every=0.5, seek="exact")
    parts = [render_task(str(clips["a"]), opts, r) for r in split_slots(8, 2)]
    assert merge_parts(parts).slots == 8
    assert len(merge_parts(parts[:1])) == 4


@pytest.mark.slow
def test_render_jobs_cli_matches_jobs_1(clips: dict[str, Path], tmp_path: Path) -> None:
    args = [str(clips["c"]), *FLAGS, "--seek", "exact", "--every", "0.5"]
    assert main(["render", *args, "-o", str(tmp_path / "one.png")]) == 0
    assert main(["render", *args, "-o", str(tmp_path / "two.png"), "--jobs", "2"]) == 0
    one, two = Spectrum.load(tmp_path / "one.json"), Spectrum.load(tmp_path / "two.json")
    assert strips_json(one) == strips_json(two)


# -- a batch -----------------------------------------------------------------------------
def test_batch_names_resumes_and_summarises(
    clips: dict[str, Path], pool: object, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    lib = str(clips["root"] / "lib")
    first = run_batch([lib], out, OPTS, pool)  # type: ignore[arg-type]
    assert [f.state for f in first.films] == ["done"] * 3
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "batch.json",
        "corpus-films.parquet",
        "corpus.parquet",
        "film-2.json",
        "film-2.png",
        "film.json",
        "film.png",
        "other.json",
        "other.png",
    ]
    summary = json.loads((out / "batch.json").read_text())
    assert summary["counts"] == {"done": 3, "skipped": 0, "partial": 0, "failed": 0}
    # Each film keeps its name on the next run, and is skipped.
    again = run_batch([str(clips["b"]), lib], out, OPTS, pool)  # type: ignore[arg-type]
    assert [f.state for f in again.films] == ["skipped"] * 3
    assert {f.input: f.output.name for f in again.films}[str(clips["b"])] == "film-2.png"
    # Other options, or --force: redone in place, never under a new name.
    other = run_batch([lib], out, OPTS.override(k=5), pool)  # type: ignore[arg-type]
    assert [f.state for f in other.films] == ["done"] * 3
    assert Spectrum.load(out / "film.json").settings["k"] == 5
    forced = run_batch([lib], out, OPTS.override(k=5), pool, force=True)  # type: ignore[arg-type]
    assert [f.state for f in forced.films] == ["done"] * 3
    assert len(list(out.glob("*.png"))) == 3


def test_a_long_film_alone_is_split_into_ranges_with_the_same_strips(
    clips: dict[str, Path], pool: object, tmp_path: Path
) -> None:
    exact = OPTS.override(every=0.25, seek="exact")
    films, _ = find_films([str(clips["a"]), str(clips["c"])])
    for film in films:
        film.hours = {str(clips["a"]): 1.0, str(clips["c"]): 0.1}[film.input]
    assert [split_parts(f, 1.1 / 2, 2) for f in films] == [2, 1]  # the long one only
    result = run_batch([str(clips["a"])], tmp_path / "out", exact, pool, jobs=2)  # type: ignore[arg-type]
    assert result.films[0].state == "done"
    spectrum = Spectrum.load(tmp_path / "out" / "film.json")
    assert strips_json(spectrum) == strips_json(render(str(clips["a"]), exact))
    assert spectrum.settings["crop_mode"] == "auto"


class RecordingPool(ThreadPoolExecutor):
    """A real executor (threads) that notes the films in the order they are submitted."""

    def __init__(self) -> None:
        super().__init__(1)
        self.order: list[str] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.order.append(Path(args[0]).name)
        return super().submit(fn, *args, **kwargs)


def test_films_start_longest_first(tmp_path: Path) -> None:
    colours = [(200, 30, 30), (30, 30, 200)]
    films = [
        colour_film(tmp_path / f"{name}.mp4", seconds=seconds, colours=colours, seed=3, gop=12)
        for name, seconds in (("short", 1), ("long", 3), ("middle", 2))
    ]
    with RecordingPool() as pool:
        result = run_batch(
            [*map(str, films), str(tmp_path / "missing.mp4")],
            tmp_path / "out",
            OPTS,
            pool,
            split=False,
            corpus=False,
        )
    assert pool.order == ["long.mp4", "middle.mp4", "short.mp4"]
    # The summary keeps the order the films were given in.
    assert [Path(f.input).name for f in result.films] == [
        "short.mp4",
        "long.mp4",
        "middle.mp4",
        "missing.mp4",
    ]


def test_a_partial_or_changed_film_is_redone(
    clips: dict[str, Path], pool: object, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_batch([str(clips["c"])], out, OPTS, pool, corpus=False)  # type: ignore[arg-type]
    data = json.loads((out / "other.json").read_text())
    data["partial"] = True
    (out / "other.json").write_text(json.dumps(data))
    again = run_batch([str(clips["c"])], out, OPTS, pool, corpus=False)  # type: ignore[arg-type]
    assert again.films[0].state == "done"
    assert "interrupted" in again.films[0].reason
    os.utime(clips["c"], ns=(time.time_ns(), time.time_ns()))  # the film was replaced
    third = run_batch([str(clips["c"])], out, OPTS, pool, corpus=False)  # type: ignore[arg-type]
    assert third.films[0].state == "done"


def test_a_foreign_file_is_never_overwritten(
    clips: dict[str, Path], pool: object, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "other.png").write_bytes(b"mine")
    result = run_batch([str(clips["c"])], out, OPTS, pool, corpus=False)  # type: ignore[arg-type]
    assert result.films[0].output == out / "other-2.png"
    assert (out / "other.png").read_bytes() == b"mine"


# -- bad inputs ----------------------------------------------------------------------------
def test_a_folder_with_no_videos_is_an_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no films here")
    assert main(["batch", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "a folder with no videos" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_list_naming_missing_files_fails_those_only(
    clips: dict[str, Path], tmp_path: Path, capsys
) -> None:
    listing = tmp_path / "films.txt"
    listing.write_text(f"{clips['c']}\nnot-here.mp4\n/nowhere/gone.mkv\n")
    out = tmp_path / "out"
    code = main(["batch", f"@{listing}", "-o", str(out), *FLAGS, "--jobs", "1", "--no-corpus"])
    assert code == 1
    text = capsys.readouterr().out
    assert "1 done, 0 skipped, 0 partial, 2 failed" in text
    assert "not-here.mp4: no such file" in text
    summary = json.loads((out / "batch.json").read_text())
    assert summary["counts"]["failed"] == 2
    assert (out / "other.png").exists()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP address whose server accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/film.mp4"
    stop.set()
    thread.join()
    for s in held:
        s.close()
    sock.close()


@pytest.mark.slow
def test_films_that_hang_the_decoder_are_stopped(
    clips: dict[str, Path], tmp_path: Path, silent_server: str, capsys
) -> None:
    fifo = tmp_path / "stuck.mp4"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes: never
    out = tmp_path / "out"
    t0 = time.monotonic()
    args = [str(fifo), silent_server, "-o", str(out), *FLAGS, "--timeout", "3", "--jobs", "2"]
    code = main(["batch", *args, "--no-corpus"])
    took = time.monotonic() - t0
    assert code == 1
    summary = json.loads((out / "batch.json").read_text())
    states = {f["input"]: (f["state"], f.get("reason", "")) for f in summary["films"]}
    # The server hangs the decoder; a FIFO is refused before it can (it looks empty) --
    # either way each is one failed film with its reason.
    assert states[silent_server] == ("failed", "took more than 3 s (the decoder hangs?); stopped")
    assert states[str(fifo)][0] == "failed"
    assert took < 30
    assert "failed: " in capsys.readouterr().out
    # A film that does not hang is rendered within the same limit (its own process).
    assert main(["batch", str(clips["c"]), "-o", str(out), *FLAGS, "--timeout", "20"]) == 0


def _connected_to(port: int, session: int) -> int | None:
    """The process of ``session`` with a TCP connection to ``port`` on this machine."""
    psutil = pytest.importorskip("psutil")
    for conn in psutil.net_connections(kind="tcp"):
        if conn.raddr and conn.raddr.port == port and conn.pid:
            with contextlib.suppress(OSError):
                if os.getsid(conn.pid) == session:
                    return int(conn.pid)
    return None


@pytest.mark.slow
def test_a_crashed_local_worker_is_replaced_and_the_batch_goes_on(
    clips: dict[str, Path], tmp_path: Path, silent_server: str
) -> None:
    """One worker; its first film hangs the decoder and the worker is then killed
    (kill -9, as the OOM killer does): that film fails with one line, a new worker
    renders the others."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "streamspec", "batch", silent_server, str(clips["c"])]
    cmd += [str(clips["a"]), "-o", str(out), *FLAGS, "--jobs", "1", "--no-corpus"]
    proc = subprocess.Popen(
        cmd, env=subprocess_env(), start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    port = int(silent_server.split(":")[2].split("/")[0])
    try:
        worker = None
        while worker is None and proc.poll() is None:
            worker = _connected_to(port, proc.pid)
            time.sleep(0.05)
        assert worker is not None and worker != proc.pid
        os.kill(worker, signal.SIGKILL)
        stdout, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1
    summary = json.loads((out / "batch.json").read_text())
    states = {f["input"]: (f["state"], f.get("reason", "")) for f in summary["films"]}
    assert states[silent_server] == ("failed", "its worker process died (killed by SIGKILL)")
    assert states[str(clips["c"])][0] == states[str(clips["a"])][0] == "done"
    assert "its worker process died (killed by SIGKILL)" in stdout


def test_an_unwritable_outdir_fails_before_any_work(clips: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        run_batch([str(clips["c"])], blocker / "out", OPTS)
    with pytest.raises(OutputError, match="is a file"):
        run_batch([str(clips["c"])], blocker, OPTS)
    assert main(["batch", str(clips["c"]), "-o", str(blocker / "out"), "-q"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.slow
def test_an_unreachable_scheduler_fails_fast_and_writes_nothing(
    clips: dict[str, Path], tmp_path: Path, capsys
) -> None:
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    t0 = time.monotonic()
    code = main(["batch", str(clips["c"]), "-o", str(out), "--dask", f"tcp://127.0.0.1:{port}"])
    assert code == 2
    assert time.monotonic() - t0 < 20
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_without_dask_one_line_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with (
        pytest.raises(ImportError, match=r"pip install 'streamspec\[cluster\]'"),
        executor(2, "local"),
    ):
        pass


def test_no_films_at_all(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no films to render"):
        run_batch([str(tmp_path / "nothing.mp4")], tmp_path / "out", OPTS)


# -- Dask --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A real LocalCluster of two worker processes (importing this checkout), made as
    ``--dask local`` makes it."""
    pytest.importorskip("distributed")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    try:
        with local_cluster(2) as client:
            yield client
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.slow
def test_dask_spectra_equal_the_local_ones(
    clips: dict[str, Path], cluster, pool: object, tmp_path: Path
) -> None:
    lib = str(clips["root"] / "lib")
    ex = cluster.get_executor(retries=2, pure=False)
    on_dask = run_batch([lib], tmp_path / "dask", OPTS, ex, corpus=False)
    run_batch([lib], tmp_path / "local", OPTS, pool, corpus=False)  # type: ignore[arg-type]
    assert [f.state for f in on_dask.films] == ["done"] * 3
    for name in ("film", "film-2", "other"):
        a = Spectrum.load(tmp_path / "dask" / f"{name}.json")
        b = Spectrum.load(tmp_path / "local" / f"{name}.json")
        assert strips_json(a) == strips_json(b)
    # A long film's ranges on the cluster: the strips of one render.
    opts = OPTS.override(every=0.25, seek="exact")
    assert strips_json(render_parallel(str(clips["a"]), opts, ex, 2)) == strips_json(
        render(str(clips["a"]), opts)
    )


@pytest.mark.slow
def test_a_worker_killed_mid_film_is_retried(
    clips: dict[str, Path], cluster, tmp_path: Path
) -> None:
    """A worker process killed (kill -9, as the OOM killer does) while it holds a film:
    the cluster retries the film elsewhere and the batch finishes every film."""
    pids = cluster.run(os.getpid)  # each worker's process
    ex = cluster.get_executor(retries=2, pure=False)
    lib = str(clips["root"] / "lib")
    with ThreadPoolExecutor(1) as client_side:
        batch = client_side.submit(run_batch, [lib], tmp_path / "out", OPTS, ex, corpus=False)
        killed = None
        while killed is None and not batch.done():
            busy = [w for w, tasks in cluster.processing().items() if tasks and w in pids]
            if busy:
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
            else:
                time.sleep(0.005)
        result = batch.result(timeout=300)
    assert killed is not None  # a worker did die holding a film
    assert [f.state for f in result.films] == ["done"] * 3


@pytest.mark.slow
def test_ctrl_c_keeps_finished_films_and_saves_running_ones_partial(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole terminal group: the client and its workers."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(3):
        colour_film(
            lib / f"f{i}.mp4", seconds=16, colours=[(200, 0, 0), (0, 0, 200)], each=8, seed=i
        )
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "streamspec", "batch", str(lib), "-o", str(out)]
    cmd += ["--every", "0.04", "-k", "6", "--height", "32", "--jobs", "2"]
    proc = subprocess.Popen(
        cmd, env=subprocess_env(), start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    assert "films to render" in proc.stderr.readline()  # the workers are starting
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    summary = json.loads((out / "batch.json").read_text())
    states = [f["state"] for f in summary["films"]]
    assert proc.returncode in (0, 130)
    assert "failed" not in states
    for film in summary["films"]:
        if film["state"] in ("done", "partial"):
            assert Spectrum.load(film["output"]).partial == (film["state"] == "partial")
    # The next run finishes the job: partial and unstarted films are rendered, done ones kept.
    again = run_batch([str(lib)], out, RenderOptions.from_kwargs(every=0.04, k=6, height=32))
    assert {f.state for f in again.films} <= {"done", "skipped"}
    assert [f.state == "skipped" for f in again.films] == [s == "done" for s in states]


@pytest.mark.slow
def test_time_limits_work_in_dask_workers(clips: dict[str, Path], cluster, tmp_path: Path) -> None:
    """Dask's workers are daemonic: a film's own process is forked without multiprocessing."""
    ex = cluster.get_executor(retries=2, pure=False)
    result = run_batch([str(clips["c"])], tmp_path / "out", OPTS, ex, timeout=30, corpus=False)
    assert [(f.state, f.reason) for f in result.films] == [("done", "")]


def _has_imported_the_render() -> bool:
    import sys

    loaded = ("streamspec.pipeline.rendering", "streamspec.analysis._kernels", "numba")
    return all(m in sys.modules for m in loaded)


def _worker_settings() -> tuple[object, object]:
    import dask

    return dask.config.get("distributed.worker.profile.enabled"), os.environ.get(
        "MALLOC_TRIM_THRESHOLD_"
    )


def _saturation(dask_scheduler: object) -> float:
    return float(dask_scheduler.WORKER_SATURATION)  # type: ignore[attr-defined]


def test_local_cluster_workers_start_with_the_render_imported_and_take_one_film_each(
    cluster,
) -> None:
    # Forked from a server that imported streamspec (no task has run on them yet).
    fresh = cluster.run(_has_imported_the_render)
    assert len(fresh) == 2 and all(fresh.values())
    # One task per worker thread: no film waits on a busy worker while another is free.
    assert cluster.run_on_scheduler(_saturation) == 1.0
    # No sampling profiler, and glibc's adaptive mmap threshold left on, as in the pool.
    assert set(cluster.run(_worker_settings).values()) == {(False, None)}


def test_renders_sharing_the_machine_share_its_decoder_threads(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 8)
    assert decoder_threads(1) is None  # alone: the mode decides
    assert decoder_threads(2) == 8 and decoder_threads(8) == 2 and decoder_threads(32) == 2
    # The CLI gives local workers their share; a remote cluster's decide for themselves.
    from streamspec._cli.render import local_decoder_threads

    assert local_decoder_threads(4, None) == 4
    assert local_decoder_threads(4, "local") == 4
    assert local_decoder_threads(4, "tcp://127.0.0.1:8786") is None
    # The cap reaches the decoder, in every mode.
    for seek in ("fast", "exact"):
        renderer = Renderer(str(clips["a"]), OPTS.override(seek=seek), threads=3)
        try:
            assert renderer.source.stream.codec_context.thread_count == 3
        finally:
            renderer.close()
    data = render_task(str(clips["a"]), OPTS, None, None, 2)
    assert strips_json(Spectrum.from_json(data)) == strips_json(render(str(clips["a"]), OPTS))
