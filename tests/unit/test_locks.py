"""take_if_free: a busy lock is reported at once, and under gevent without running other greenlets."""
import threading

import gevent
import gevent.thread

from app.locks import take_if_free


def test_a_free_lock_is_taken_and_a_held_one_is_not() -> None:
    lock = threading.Lock()
    assert take_if_free(lock)
    assert lock.locked()
    assert not take_if_free(lock)
    lock.release()


def test_a_busy_gevent_lock_does_not_yield_to_other_greenlets() -> None:
    """gevent's own `acquire(blocking=False)` sleeps when it fails; a leader mid-batch must not."""
    lock = gevent.thread.allocate_lock()
    lock.acquire()
    ran: list[str] = []
    other = gevent.spawn(ran.append, "other")
    assert not take_if_free(lock)
    assert ran == []  # still the caller's turn
    lock.acquire(blocking=False)  # the plain call does yield: this is what take_if_free avoids
    assert ran == ["other"]
    other.join()
    lock.release()


def test_native_lock_excludes_real_threads_and_is_not_gevents() -> None:
    import gevent.lock

    from app.locks import native_lock

    lock = native_lock()
    assert not isinstance(lock, (gevent.thread.LockType, gevent.lock.Semaphore))
    seen: list[bool] = []
    with lock:
        worker = threading.Thread(target=lambda: seen.append(lock.acquire(timeout=0.05)))
        worker.start()
        worker.join()
    assert seen == [False]
    assert lock.acquire(timeout=1)
    lock.release()
