"""Small thread helpers shared by ``render`` and ``play``: a bounded hand-over that
gives up when told to stop, and a producer thread running a few items ahead."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["Prefetch", "put_until"]

T = TypeVar("T")


def put_until(q: queue.Queue[T], item: T, stop: Callable[[], bool], poll: float = 0.05) -> bool:
    """Put ``item`` in a bounded queue, waiting while it is full, until ``stop()`` says
    to give up. Returns whether the item went in."""
    while not stop():
        try:
            q.put(item, timeout=poll)
            return True
        except queue.Full:
            continue
    return False


class Prefetch:
    """Run an iterator in a daemon thread, a few items ahead of the consumer.

    Exceptions in the thread are re-raised in the consumer; :meth:`close` stops the
    thread at its next item (the consumer may stop early or be interrupted); ``stop()``
    (a stop request) ends the consumer's iteration at its next wait.
    """

    _DONE = object()

    def __init__(
        self,
        make: Callable[[], Iterable[Any]],
        depth: int = 3,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        # stop(): checked while the consumer waits; True ends the iteration early.
        self._wanted_stop = stop or (lambda: False)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        # Held by the thread while it runs the iterator: close() waits on it, so whatever
        # the iterator reads (a decoder) is never closed under it.
        self._busy = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(make,), daemon=True, name="streamspec-decode"
        )
        try:
            self._thread.start()
        except BaseException:
            # An exception in start()'s wait for the new thread (a library caller's own
            # KeyboardInterrupt), which runs all the same: stop it before the caller
            # closes what it reads (a segfault in PyAV).
            self.close()
            raise

    def _put(self, item: Any) -> bool:
        return put_until(self._queue, item, self._stop.is_set, poll=0.1)

    def _run(self, make: Callable[[], Iterable[Any]]) -> None:
        with self._busy:
            if self._stop.is_set():  # closed before this thread got going
                return
            try:
                for item in make():
                    if not self._put(item):
                        return
                self._put(self._DONE)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                self._put(_Failure(exc))

    def __iter__(self) -> Iterator[Any]:
        while True:
            if self._wanted_stop():
                return
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return
                continue
            if item is self._DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait until it has left the iterator (briefly: a dead
        webcam must not hang us). Safe whether or not the thread ever started."""
        self._stop.set()
        if self._busy.acquire(timeout=timeout):
            self._busy.release()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
