"""The per-key event quota in both storages: the process's memory and the shared Redis."""
import pytest

from app.sentry.dedupe import RecentEventIds
from app.sentry.quota import KeyQuota, SentryRateLimited, make_storage
from tests.support.services import REDIS_URL


def _exhaust(quota: KeyQuota, key: str, limit: int) -> SentryRateLimited:
    quota.spend(key, limit - 1)
    quota.spend(key, 1)
    with pytest.raises(SentryRateLimited) as info:
        quota.spend(key, 1)
    return info.value


def test_memory_quota_refuses_past_the_limit_per_key() -> None:
    quota = KeyQuota(make_storage("", "unused"), events_per_minute=3)
    refused = _exhaust(quota, "key-a", 3)
    seconds, categories, scope = refused.headers["X-Sentry-Rate-Limits"].split(":")
    assert refused.headers["Retry-After"] == seconds and 1 <= int(seconds) <= 60
    assert categories.split(";")[:2] == ["error", "default"] and scope == "key"
    quota.spend("key-b", 3)  # another key has its own budget


def test_a_zero_limit_means_unlimited() -> None:
    quota = KeyQuota(make_storage("", "unused"), events_per_minute=0)
    for _ in range(50):
        quota.spend("key", 1000)


@pytest.mark.redis
def test_redis_quota_is_shared_between_instances(redis_space: str) -> None:
    first = KeyQuota(make_storage(REDIS_URL, redis_space), events_per_minute=4)
    second = KeyQuota(make_storage(REDIS_URL, redis_space), events_per_minute=4)  # another worker
    first.spend("shared-key", 2)
    second.spend("shared-key", 2)
    with pytest.raises(SentryRateLimited) as info:
        first.spend("shared-key", 1)
    assert 1 <= int(info.value.headers["Retry-After"]) <= 60


def test_an_unreachable_redis_lets_events_through() -> None:
    quota = KeyQuota(make_storage("redis://127.0.0.1:1/0", "down"), events_per_minute=1)
    quota.spend("key", 5)  # fails open: losing error reports is worse than over-admitting them


@pytest.mark.redis
def test_redis_event_ids_are_shared_between_instances(redis_space: str) -> None:
    first = RecentEventIds(make_storage(REDIS_URL, redis_space, "sentry-seen"))
    second = RecentEventIds(make_storage(REDIS_URL, redis_space, "sentry-seen"))  # another instance
    first.remember(7, ["a" * 32])
    assert second.seen(7, "a" * 32)
    assert not second.seen(8, "a" * 32)  # ids are per project
    assert not second.seen(7, "b" * 32)


def test_unreachable_storage_stores_again_rather_than_drop() -> None:
    recent = RecentEventIds(make_storage("redis://127.0.0.1:1/0", "down", "sentry-seen"))
    recent.remember(1, ["c" * 32])  # logged, not raised
    assert not recent.seen(1, "c" * 32)
