"""The producer thread behind render and video: whatever it reads is never closed
under it, however the consumer stops (a decoder closed mid-decode crashes PyAV)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from streamspec.core._threads import Prefetch


class Resource:
    """Stands for a decoder: records any use after it was closed."""

    def __init__(self) -> None:
        self.closed = False
        self.used_after_close = 0
        self.left = threading.Event()  # the producer's iterator has been closed

    def items(self) -> Iterator[int]:
        try:
            for i in itertools.count():
                if self.closed:
                    self.used_after_close += 1
                time.sleep(0.002)
                yield i
        finally:
            self.left.set()


def test_prefetch_hands_over_items_in_order_and_exceptions():
    assert list(Prefetch(lambda: range(50))) == list(range(50))

    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("damaged")

    with pytest.raises(ValueError, match="damaged"):
        list(Prefetch(broken))


def test_close_waits_until_the_thread_has_left_the_iterator():
    res = Resource()
    p = Prefetch(res.items)
    it = iter(p)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    p.close()
    assert res.left.is_set()  # before close() returned, not some time after
    res.closed = True
    time.sleep(0.05)
    assert res.used_after_close == 0


def test_ctrl_c_while_the_thread_starts_stops_it_before_the_caller_goes_on(monkeypatch):
    # SIGINT in the main thread interrupts Thread.start()'s wait for the new thread,
    # which runs all the same: the CI segfault of render --preview interrupted early.
    real_start = threading.Thread.start

    def start_then_ctrl_c(self: threading.Thread) -> None:
        real_start(self)
        time.sleep(0.02)  # the thread is reading by now
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start_then_ctrl_c)
    res = Resource()
    with pytest.raises(KeyboardInterrupt):
        Prefetch(res.items)
    assert res.left.is_set()
    res.closed = True  # what render's clean-up does next
    time.sleep(0.05)
    assert res.used_after_close == 0


def test_closed_before_the_thread_got_going_it_never_reads(monkeypatch):
    real_start = threading.Thread.start
    reads: list[int] = []

    def make() -> Iterator[int]:
        reads.append(1)
        yield 1

    def interrupted_before_running(self: threading.Thread) -> None:
        # The thread exists but is held back until the consumer has closed.
        run = self.run

        def held() -> None:
            time.sleep(0.1)
            run()

        self.run = held  # type: ignore[method-assign]
        real_start(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted_before_running)
    with pytest.raises(KeyboardInterrupt):
        Prefetch(make)
    time.sleep(0.3)  # the thread runs now, and sees it was closed
    assert reads == []
