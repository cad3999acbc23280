"""The token bucket and the counters behind the metrics."""
import threading

import pytest

from app.realtime.counters import Counters
from app.realtime.throttle import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=10, clock=clock)
    assert [bucket.take() for _ in range(12)] == [True] * 10 + [False, False]
    clock.now += 1.0
    assert sum(bucket.take() for _ in range(10)) == 5
    clock.now += 1000
    assert sum(bucket.take() for _ in range(50)) == 10  # never more than the burst


def test_counters_plain_and_labelled_from_many_threads() -> None:
    counters = Counters(plain=("dropped",), labelled=("frames_in",))
    assert counters.snapshot() == {"dropped": 0, "frames_in": {}}

    def work() -> None:
        for _ in range(1000):
            counters.add("dropped")
            counters.add("frames_in", by="ping")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters.add("operations_applied", n=3)
    assert counters.snapshot() == {"dropped": 4000, "frames_in": {"ping": 4000}, "operations_applied": 3}
    with pytest.raises(ValueError):
        counters.add("dropped", by="x")
    with pytest.raises(ValueError):
        counters.add("frames_in")
