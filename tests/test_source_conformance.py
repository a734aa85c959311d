"""Every kind of frame source keeps the same promises (the FrameSource interface).

Parametrised over a file, a URL served by a local HTTP server, a lavfi graph (the
camera stand-in) and the built-in demo film: frames come in presentation order with
timestamps from the start, convert to upright RGB at any size, the decoding mode is
the one the source was opened in, and the sampler takes the same frames from each.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import threading
from pathlib import Path

import numpy as np
import pytest
from videos import colour_film

from streamspec.core.grid import SlotGrid
from streamspec.media import FrameSource, SourceInfo, open_source
from streamspec.pipeline.sampling import Sampler

COLOURS = [[220, 30, 30], [30, 200, 40], [30, 40, 220]]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("conformance")
    return colour_film(d / "clip.mp4", seconds=3, colours=COLOURS, size=(96, 64))


@pytest.fixture(scope="module")
def server(clip):
    """The clip's folder over HTTP on the loopback interface (Range requests too)."""
    handler = functools.partial(_QuietHandler, directory=str(clip.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that answers Range requests, as real web servers do (an MP4
    with its index at the end cannot be read without them)."""

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not rng.startswith("bytes=") or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, _, last = rng[6:].partition("-")
        start = int(first) if first else max(0, size - int(last))
        end = int(last) if first and last else size - 1
        if start >= size:
            self.send_error(416)
            return None
        end = min(end, size - 1)
        fh = path.open("rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return _Limited(fh, end - start + 1)


class _Limited:
    """The part of a file a Range asks for, for copyfile()."""

    def __init__(self, fh, n: int) -> None:
        self.fh, self.left = fh, n

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.fh.close()


KINDS = ["file", "url", "lavfi", "demo"]


def spec_for(kind: str, clip: Path, server: str) -> str | None:
    return {
        "file": str(clip),
        "url": f"{server}/{clip.name}",
        "lavfi": "lavfi:testsrc2=size=96x64:rate=25",
        "demo": None,
    }[kind]


@pytest.fixture(params=KINDS)
def source(request, clip, server):
    src = open_source(spec_for(request.param, clip, server))
    yield request.param, src
    src.close()


def test_is_a_frame_source_with_its_info(source):
    kind, src = source
    assert isinstance(src, FrameSource)
    info = src.info
    assert isinstance(info, SourceInfo)
    assert info.kind == ("url" if kind == "url" else kind)
    assert info.width > 0 and info.height > 0
    assert info.live == (kind == "lavfi")
    assert (info.duration is None) == (kind == "lavfi")
    assert src.mode == "exact"


def test_frames_in_order_from_the_start(source):
    _, src = source
    times = []
    for i, frame in enumerate(src.frames(0.0)):
        times.append(frame.time)
        if i == 30:
            break
    assert times[0] == pytest.approx(0.0, abs=0.05)
    assert all(b > a for a, b in itertools.pairwise(times))
    assert src.errors == 0


def test_convert_gives_upright_rgb_at_any_size(source):
    _, src = source
    frame = next(iter(src.frames(0.0)))
    full = frame.to_rgb()
    assert full.dtype == np.uint8 and full.shape == (src.info.height, src.info.width, 3)
    small = frame.to_rgb((32, 20))
    assert small.shape == (20, 32, 3) and small.flags.c_contiguous
    whole = frame.to_rgb((48, 30), cropped=False)
    assert whole.shape == (30, 48, 3)


def test_the_sampler_takes_a_frame_for_every_slot(source):
    _, src = source
    grid = SlotGrid.every(0.0, 0.5, 2.0)
    samples = list(Sampler(src, grid, end=2.0, size=(32, 20)).samples())
    assert [s.index for s in samples] == [0, 1, 2, 3]
    for s in samples:
        assert s.target == pytest.approx(0.5 * s.index)
        assert s.time >= s.target - 1e-6
        assert s.rgb.shape == (20, 32, 3)


@pytest.mark.parametrize("mode", ["exact", "fast", "keyframes"])
def test_the_mode_is_fixed_when_the_source_opens(clip, mode):
    with open_source(clip, mode=mode) as src:
        assert src.mode == mode
        grid = SlotGrid.every(0.0, 1.0, 3.0)
        samples = list(Sampler(src, grid, end=3.0).samples())
    assert [s.index for s in samples] == [0, 1, 2]


def test_file_and_url_give_the_same_frames(clip, server):
    with open_source(clip) as a, open_source(f"{server}/{clip.name}") as b:
        grid = SlotGrid.every(0.0, 0.7, 3.0)
        fa = list(Sampler(a, grid, end=3.0, size=(48, 32)).samples())
        fb = list(Sampler(b, grid, end=3.0, size=(48, 32)).samples())
    assert [s.time for s in fa] == pytest.approx([s.time for s in fb])
    for x, y in zip(fa, fb, strict=True):
        np.testing.assert_array_equal(x.rgb, y.rgb)
