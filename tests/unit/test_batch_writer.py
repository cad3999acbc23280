"""Group commit: every item is flushed once, waiters hear of failures, nothing waits forever."""
import threading
import time

import pytest

from app.storage import StorageError
from app.storage.batch_writer import BatchWriter


def test_many_writers_each_item_flushed_once_in_few_batches() -> None:
    flushed: list[list[int]] = []
    lock = threading.Lock()

    def flush(rows: list[int]) -> None:
        time.sleep(0.005)
        with lock:
            flushed.append(rows)

    writer = BatchWriter(flush, name="t", linger_ms=1, flushers=2)
    threads = [threading.Thread(target=writer.write, args=([i * 10 + j for j in range(10)],)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    writer.close()
    items = sorted(x for batch in flushed for x in batch)
    assert items == list(range(500))
    assert len(flushed) < 50  # requests were grouped


def test_sparse_writes_never_wait_for_the_timeout() -> None:
    writer = BatchWriter(lambda rows: None, name="t", linger_ms=1, flushers=2)
    for i in range(40):
        started = time.monotonic()
        writer.write([i], timeout=5)
        assert time.monotonic() - started < 2
        time.sleep(0.002 * (i % 3))
    writer.close()


def test_a_failed_flush_reaches_every_waiter_and_counts_dropped_background_rows() -> None:
    def flush(rows: list[int]) -> None:
        raise RuntimeError("disk full")

    writer = BatchWriter(flush, name="t", linger_ms=0)
    writer.write_later([1, 2])
    with pytest.raises(StorageError, match="disk full"):
        writer.write([3])
    writer.close()
    assert writer.dropped == 2


def test_full_queue_refuses_instead_of_growing() -> None:
    gate = threading.Event()
    writer = BatchWriter(lambda rows: gate.wait(5), name="t", linger_ms=0, max_queued=10)
    writer.write_later(list(range(10)))
    time.sleep(0.05)
    writer.write_later(list(range(10)))
    writer.write_later([1])  # over the bound: dropped, not queued
    assert writer.dropped == 1
    gate.set()
    writer.close()


def test_a_forked_child_flushes_with_a_flusher_of_its_own() -> None:
    """The parent's flusher thread does not exist in a child: the child's first write starts one."""
    import multiprocessing

    writer = BatchWriter(lambda rows: None, name="t", linger_ms=0)
    writer.write([1])  # the parent's flusher is running now

    def child() -> None:
        try:
            writer.write([2], timeout=5)
        except StorageError:
            raise SystemExit(1)
        raise SystemExit(0)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(20)
    writer.close()
    assert process.exitcode == 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_flusher_that_ended_is_replaced() -> None:
    calls: list[list[int]] = []

    def flush(rows: list[int]) -> None:
        calls.append(rows)
        if len(calls) == 1:
            raise SystemExit  # not an Exception: it ends the flusher thread
    writer = BatchWriter(flush, name="t", linger_ms=0)
    writer.write_later([1])
    deadline = time.monotonic() + 5
    while writer._threads and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.write([2], timeout=5)
    writer.close()
    assert calls == [[1], [2]]
