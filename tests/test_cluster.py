"""streamspec on a real Dask cluster, started the way Dask users start one: Dask's own
``dask scheduler`` and ``dask worker`` commands, run from a folder of their own (not the
films' folder), the command run from the films' folder with relative paths. Also every
way to get ``--dask`` wrong, and ``--dask local`` keeping Dask's output to itself."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import subprocess_env
from videos import colour_film

from streamspec.cli import main
from streamspec.core.errors import InputError
from streamspec.outputs.spectrum import Spectrum
from streamspec.pipeline.parallel import dask_address

FLAGS = ["--every", "0.5", "-k", "4", "--height", "24"]
# A cluster on a loaded machine can be slow to start; it is never waited for longer.
START_TIMEOUT = 120.0


def _streamspec(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamspec", *args],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process started in a session of its own, and everything it started."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def _can_hide_a_folder() -> bool:
    """Whether a process can be given a private view of the file system (a mount
    namespace), so that a worker on this machine lacks a folder the client has."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


@dataclass
class Cluster:
    address: str
    threads: int
    films: Path  # the client's films, seen by the worker at the same path
    private: Path  # a folder the worker does not see (None when that cannot be arranged)
    hidden: bool


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """``dask scheduler`` on a free port of 127.0.0.1 and one ``dask worker`` of three
    threads (more than this machine's cores, so a split by the client's cores shows),
    both started from a folder that is not the films' folder, without dashboards. The
    worker runs in a mount namespace where ``private/`` is an empty folder: a film
    there is one the client has and the worker does not (as on a machine without the
    share)."""
    pytest.importorskip("distributed")
    if shutil.which("dask") is None:
        pytest.skip("Dask's 'dask' command is not on the PATH")
    root = tmp_path_factory.mktemp("cluster")
    films, private, elsewhere = root / "films", root / "private", root / "dask-here"
    for folder in (films, private, elsewhere):
        folder.mkdir()
    colour_film(
        films / "red.mp4", seconds=4, colours=[(200, 30, 30), (30, 200, 30)], each=2.0, seed=1
    )
    colour_film(
        films / "blue.mkv", seconds=6, colours=[(30, 30, 200), (200, 200, 30)], each=2.0, seed=2
    )
    colour_film(private / "secret.mp4", seconds=2, colours=[(90, 90, 90)], each=2.0, seed=3)
    env = subprocess_env()
    scheduler_file = elsewhere / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    log = (elsewhere / "dask.log").open("wb")
    try:
        procs.append(
            subprocess.Popen(
                [
                    *("dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
                    *("--dashboard-address", "127.0.0.1:0"),
                    *("--scheduler-file", str(scheduler_file)),
                ],
                cwd=elsewhere,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + START_TIMEOUT
        address = None
        while address is None:
            if procs[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dask scheduler did not start: {(elsewhere / 'dask.log').read_text()}")
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(scheduler_file.read_text())["address"]
            time.sleep(0.2)
        worker = ["dask", "worker", address, "--nthreads", "3", "--no-dashboard"]
        hidden = _can_hide_a_folder()
        if hidden:
            mount = f'mount -t tmpfs streamspec-test {private} && exec "$@"'
            worker = ["unshare", "-m", "--propagation", "private", "sh", "-c", mount, "sh", *worker]
        procs.append(
            subprocess.Popen(
                worker,
                cwd=elsewhere,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=START_TIMEOUT)
            threads = sum(client.nthreads().values())
        yield Cluster(address, threads, films, private, hidden)
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()


@pytest.mark.slow
def test_batch_from_the_films_folder_renders_every_film(cluster: Cluster) -> None:
    """Relative paths reach the workers as absolute ones (they run in another folder)."""
    out = cluster.films.parent / "out-batch"
    done = _streamspec(
        "batch", ".", "-o", str(out), "--dask", cluster.address, *FLAGS, "-q", cwd=cluster.films
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((out / "batch.json").read_text())
    assert sorted((f["input"], f["state"]) for f in summary["films"]) == [
        ("blue.mkv", "done"),
        ("red.mp4", "done"),
    ]
    # The spectra name their films as the user did.
    assert Spectrum.load(out / "red.json").source["name"] == "red.mp4"
    assert done.stderr == ""  # nothing of Dask's on the terminal


@pytest.mark.slow
def test_a_film_the_worker_cannot_see_fails_with_a_line_naming_the_worker(
    cluster: Cluster,
) -> None:
    if not cluster.hidden:
        pytest.skip("no mount namespace here (unshare -m): cannot hide a folder from a worker")
    out = cluster.films.parent / "out-hidden"
    secret = cluster.private / "secret.mp4"
    done = _streamspec(
        "batch", "red.mp4", "../private/secret.mp4", "-o", str(out), "--dask", cluster.address,
        *FLAGS, "-q", cwd=cluster.films,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if "failed: " in line]
    assert len(failed) == 1
    assert failed[0].startswith("  failed: ../private/secret.mp4: worker tcp://127.0.0.1:")
    assert failed[0].endswith(
        f"cannot read {secret}: No such file or directory (is the folder shared at the same path?)"
    )
    states = {f["input"]: f["state"] for f in json.loads((out / "batch.json").read_text())["films"]}
    assert states == {"red.mp4": "done", "../private/secret.mp4": "failed"}
    # render --dask says the same, in one line, exit 2.
    alone = _streamspec("render", str(secret), "-o", str(out / "s.png"), "--dask",
                        cluster.address, *FLAGS, cwd=cluster.films)  # fmt: skip
    assert alone.returncode == 2
    assert alone.stderr.count("\n") == 1
    assert "cannot read" in alone.stderr and "worker tcp://127.0.0.1:" in alone.stderr


@pytest.mark.slow
def test_render_without_jobs_splits_by_the_clusters_threads(cluster: Cluster) -> None:
    """Three ranges for the worker's three threads (this machine has fewer cores), and
    the strips of a single render (exact mode keeps every slot's frame)."""
    out = cluster.films.parent / "out-render"
    out.mkdir()
    flags = [*FLAGS, "--seek", "exact", "-q"]
    done = _streamspec("render", "blue.mkv", "-o", str(out / "split.png"), "--dask",
                       cluster.address, "-v", *flags, cwd=cluster.films)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cluster.threads == 3
    assert f"1 worker, {cluster.threads} threads" in done.stderr
    assert f"({cluster.threads} ranges)" in done.stdout
    one = _streamspec("render", "blue.mkv", "-o", str(out / "one.png"), *flags,
                      cwd=cluster.films)  # fmt: skip
    assert one.returncode == 0, one.stderr
    split, single = Spectrum.load(out / "split.json"), Spectrum.load(out / "one.json")
    assert [s.to_json() for s in split.strips] == [s.to_json() for s in single.strips]
    assert split.source["name"] == single.source["name"] == "blue.mkv"


@pytest.mark.slow
def test_batch_splits_a_long_film_by_the_clusters_threads(cluster: Cluster) -> None:
    """One film alone: split into as many ranges as the cluster has threads (not this
    machine's cores), as its progress line and the summary say."""
    out = cluster.films.parent / "out-long"
    done = _streamspec("batch", "blue.mkv", "-o", str(out), "--dask", cluster.address,
                       *FLAGS, cwd=cluster.films)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"blue.mkv: done ({cluster.threads} ranges)" in done.stderr
    (film,) = json.loads((out / "batch.json").read_text())["films"]
    assert film["ranges"] == cluster.threads == 3
    assert len(Spectrum.load(out / "blue.json")) == 12


# -- --dask values ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("127.0.0.1", "no port"),
        ("udp://127.0.0.1:8786", "unknown scheme 'udp'"),
        ("tcp://[::1:8786", "malformed IPv6 address"),
        ("tcp://::1:8786", "IPv6 address goes in brackets"),
        ("tcp://[zz]:8786", "not an IPv6 address"),
        ("tcp://127.0.0.1:99999", "port must be a number from 1 to 65535"),
        ("tcp://127.0.0.1:http", "port must be a number"),
        ("tcp://:8786", "no host"),
        ("", "expected a Dask scheduler's address"),
        ("tcp://a b:8786", "not a host name"),
    ],
)
def test_a_bad_dask_address_is_one_line_and_exit_2(
    value: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError, match=says):
        dask_address(value)
    render = ["render", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "x.png")]
    for command in (render, ["batch", str(tmp_path), "-o", str(tmp_path / "out")]):
        assert main([*command, "--dask", value]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and "argument --dask" in err, err
    assert list(tmp_path.iterdir()) == []


def test_bad_addresses_from_the_command_line_print_no_traceback(tmp_path: Path) -> None:
    for value in ("127.0.0.1", "udp://h:8786", "tcp://[::1:8786"):
        done = _streamspec("batch", ".", "-o", "out", "--dask", value, cwd=tmp_path, timeout=60)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_ucx_without_dasks_ucx_support_is_one_line() -> None:
    import importlib.util

    if any(importlib.util.find_spec(m) for m in ("distributed_ucxx", "ucp")):
        pytest.skip("UCX support is installed here")
    with pytest.raises(InputError, match=r"needs Dask's UCX support \(distributed-ucxx\)"):
        dask_address("ucx://h:8786")


def test_tls_without_dasks_tls_settings_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    env = {k: v for k, v in subprocess_env().items() if not k.startswith("DASK_")}
    done = subprocess.run(
        [sys.executable, "-m", "streamspec", "batch", ".", "-o", "out", "--dask", "tls://h:8786"],
        cwd=tmp_path,
        env={**env, "DASK_CONFIG": str(tmp_path / "no-config")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "TLS needs Dask's TLS settings" in done.stderr


def test_good_dask_addresses_are_normalised() -> None:
    assert dask_address("local") == "local"
    assert dask_address(" 10.0.0.1:8786 ") == "tcp://10.0.0.1:8786"
    assert dask_address("TCP://node-2.cluster:8786") == "tcp://node-2.cluster:8786"
    assert dask_address("tcp://[::1]:8786") == "tcp://[::1]:8786"
    assert dask_address("ws://h:80") == "ws://h:80"


@pytest.mark.slow
def test_dask_local_prints_nothing_of_dasks_even_with_its_port_taken(tmp_path: Path) -> None:
    """Dask's scheduler serves HTTP on 8787 by default and warns over several lines when
    that port is taken (another cluster, a notebook): ``--dask local`` starts no such
    server there and keeps Dask's log lines to itself unless ``-v``."""
    pytest.importorskip("distributed")
    colour_film(tmp_path / "f.mp4", seconds=2, colours=[(200, 30, 30)], each=2.0, seed=1)
    with contextlib.ExitStack() as stack:
        blocker = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # taken already: all the better
            blocker.bind(("", 8787))
            blocker.listen()
        done = _streamspec("batch", "f.mp4", "-o", "out", "--dask", "local", "--jobs", "2",
                           *FLAGS, "-q", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("batch: 1 done")
