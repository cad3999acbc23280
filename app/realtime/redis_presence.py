"""Presence shared through Redis: each instance's status per user, with instance heartbeats."""
from __future__ import annotations

import logging
import time
from typing import Any

from app.realtime.presence import RANK, STATUSES

log = logging.getLogger(__name__)

# KEYS: the user's hash (instance -> rank), the instances' heartbeat zset, this instance's user set.
# ARGV: instance, rank (0 removes), now ms, stale ms, user id, touch (1: the instance is alive now).
# The instance named in ARGV always counts in `before`, so reaping a dead one reports the change.
_SET_LOCAL = """
local instance, rank, now, stale = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[6] == '1' then redis.call('ZADD', KEYS[2], now, instance) end
local function best()
  local top = 0
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local alive = fields[i] == instance
    if not alive then
      local seen = redis.call('ZSCORE', KEYS[2], fields[i])
      alive = seen and tonumber(seen) >= now - stale
    end
    if alive then top = math.max(top, tonumber(fields[i + 1])) end
  end
  return top
end
local before = best()
if rank > 0 then
  redis.call('HSET', KEYS[1], instance, rank)
  redis.call('SADD', KEYS[3], ARGV[5])
else
  redis.call('HDEL', KEYS[1], instance)
  redis.call('SREM', KEYS[3], ARGV[5])
end
return {before, best()}
"""


class RedisPresenceStore:
    """Global presence = the highest status any live instance reports; dead instances are reaped."""

    def __init__(self, client: Any, prefix: str, instance_id: str, heartbeat_seconds: float) -> None:
        self._client = client
        self._prefix = f"{prefix}:ws"
        self._instance_id = instance_id
        self._stale_ms = int(heartbeat_seconds * 4 * 1000)
        self._script = client.register_script(_SET_LOCAL)
        self._local: dict[int, str] = {}

    def set_local(self, user_id: int, status: str) -> tuple[str, str]:
        """Record this instance's status; on a Redis outage, fall back to this instance's view."""
        before_local = self._local.get(user_id, "offline")
        if status == "offline":
            self._local.pop(user_id, None)
        else:
            self._local[user_id] = status
        try:
            return self._run(self._instance_id, user_id, RANK[status], touch=True)
        except Exception as exc:
            log.warning("presence store unavailable (%s): using this instance's view", exc)
            return before_local, status

    def heartbeat(self) -> list[tuple[int, str]]:
        """Refresh this instance and reap instances silent for four heartbeats."""
        try:
            now = _now_ms()
            instances = f"{self._prefix}:instances"
            self._client.zadd(instances, {self._instance_id: now})
            changes: list[tuple[int, str]] = []
            for dead in self._client.zrangebyscore(instances, "-inf", now - self._stale_ms):
                changes.extend(self._reap(dead.decode() if isinstance(dead, bytes) else dead))
            return changes
        except Exception as exc:
            log.warning("presence heartbeat failed: %s", exc)
            return []

    def forget_instance(self) -> None:
        """Remove this instance's statuses and heartbeat."""
        try:
            for user_id in list(self._local):
                self._run(self._instance_id, user_id, 0, touch=False)
            self._client.delete(self._users_key(self._instance_id))
            self._client.zrem(f"{self._prefix}:instances", self._instance_id)
        except Exception as exc:
            log.warning("presence cleanup failed: %s", exc)
        self._local.clear()

    def _reap(self, instance: str) -> list[tuple[int, str]]:
        # Only one live instance reaps a given dead one.
        if not self._client.set(f"{self._prefix}:reaping:{instance}", self._instance_id, nx=True, ex=30):
            return []
        changes = []
        for raw in self._client.smembers(self._users_key(instance)):
            user_id = int(raw)
            before, after = self._run(instance, user_id, 0, touch=False)
            if before != after:
                changes.append((user_id, after))
        self._client.delete(self._users_key(instance))
        self._client.zrem(f"{self._prefix}:instances", instance)
        log.info("reaped presence of dead instance %s (%d changes)", instance, len(changes))
        return changes

    def _run(self, instance: str, user_id: int, rank: int, touch: bool) -> tuple[str, str]:
        keys = [f"{self._prefix}:presence:{user_id}", f"{self._prefix}:instances", self._users_key(instance)]
        args = [instance, rank, _now_ms(), self._stale_ms, user_id, 1 if touch else 0]
        before, after = self._script(keys=keys, args=args)
        return STATUSES[int(before)], STATUSES[int(after)]

    def _users_key(self, instance: str) -> str:
        return f"{self._prefix}:instance:{instance}:users"


def _now_ms() -> int:
    return int(time.time() * 1000)
