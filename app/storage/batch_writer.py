"""Group commit: gather rows from many requests into one write, then release the waiters.

An insert into ClickHouse costs a new part whatever its size (~5-7 ms in chDB), so one
insert per request caps throughput; one insert per batch of requests does not.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Sequence

from app.storage import StorageError

log = logging.getLogger(__name__)


class _Waiter:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


class BatchWriter:
    """Collects items from any thread and hands them to `flush` in batches.

    With several flushers, batches may be stored out of order: use it where order does not
    matter (events, metrics) or keep one flusher.
    """

    def __init__(self, flush: Callable[[list[Any]], None], *, name: str, linger_ms: int = 2,
                 max_batch: int = 50_000, max_queued: int = 500_000, flushers: int = 1) -> None:
        self._flush = flush
        self.name = name
        self._linger = linger_ms / 1000.0
        self._max_batch = max_batch
        self._max_queued = max_queued
        self._cond = threading.Condition()
        self._queue: list[tuple[Sequence[Any], _Waiter | None]] = []
        self._queued = 0
        self._threads: list[threading.Thread] = []  # the flushers running in this process
        self._pid = os.getpid()
        self._flushers = max(1, flushers)
        self._closed = False
        self.dropped = 0
        self.flushes = 0

    def write(self, items: Sequence[Any], timeout: float = 30.0) -> None:
        """Block until `items` are stored; raise StorageError when they were not."""
        waiter = _Waiter()
        self._enqueue(items, waiter)
        if not waiter.done.wait(timeout):
            raise StorageError(f"{self.name}: write timed out")
        if waiter.error is not None:
            raise StorageError(f"{self.name}: {waiter.error}") from waiter.error

    def write_later(self, items: Sequence[Any]) -> None:
        """Queue `items` off the request path; dropped (and counted) when the queue is full."""
        try:
            self._enqueue(items, None)
        except StorageError:
            self.dropped += len(items)

    def _enqueue(self, items: Sequence[Any], waiter: _Waiter | None) -> None:
        with self._cond:
            if self._closed:
                raise StorageError(f"{self.name}: writer is closed")
            if self._queued + len(items) > self._max_queued:
                raise StorageError(f"{self.name}: write queue is full")
            self._queue.append((items, waiter))
            self._queued += len(items)
            self._ensure_thread()
            self._cond.notify()

    def _ensure_thread(self) -> None:
        """Start the flushers on first use (after a fork, and after gevent has patched threading).

        Called under the condition. Flushers leave the list themselves when they end; asking
        each thread `is_alive()` instead would yield to every other greenlet under gevent.
        """
        if self._pid != os.getpid():  # the parent's threads do not exist in a forked child
            self._pid, self._threads = os.getpid(), []
        while len(self._threads) < self._flushers:
            thread = threading.Thread(target=self._run_counted, name=f"writer-{self.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run_counted(self) -> None:
        try:
            self._run()
        finally:
            with self._cond:
                self._threads = [t for t in self._threads if t is not threading.current_thread()]

    def _take(self) -> list[tuple[Sequence[Any], _Waiter | None]] | None:
        """The next batch; None once closed and drained. Another flusher may have taken the queue."""
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return None
            if self._linger:
                time.sleep(self._linger)
            with self._cond:
                taken, size = [], 0
                while self._queue and (not taken or size + len(self._queue[0][0]) <= self._max_batch):
                    entry = self._queue.pop(0)
                    taken.append(entry)
                    size += len(entry[0])
                self._queued -= size
                if taken:
                    return taken

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            rows = [row for items, _ in taken for row in items]
            error: BaseException | None = None
            try:
                self._flush(rows)
                self.flushes += 1
            except Exception as exc:  # every waiter must hear of it
                error = exc
                unwaited = sum(len(items) for items, waiter in taken if waiter is None)
                self.dropped += unwaited
                log.warning("%s: flush of %d rows failed: %s", self.name, len(rows), exc)
            for _, waiter in taken:
                if waiter is not None:
                    waiter.error = error
                    waiter.done.set()

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued and stop the writer thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
