"""Password hashing with Argon2id (argon2-cffi's defaults), off the event loop.

One hash or check costs ~90 ms of CPU and 64 MiB. Run on the gevent loop, each sign-up or
login froze every WebSocket of the worker for that long; argon2 releases the GIL, so it runs
in a real thread instead, at most one per core at a time (more would only add memory).
"""
import functools
import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.storage.blocking import run_blocking

_hasher = PasswordHasher()
# A real hash to verify against when the user is unknown, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


@functools.cache
def _slots() -> threading.BoundedSemaphore:
    """Made on first use, when gevent (serving) has patched `threading`: waiters then yield."""
    return threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    with _slots():
        return run_blocking(_hasher.hash, password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no stored hash."""
    with _slots():
        return run_blocking(_verify, stored_hash or _DUMMY_HASH, password) and stored_hash is not None


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
