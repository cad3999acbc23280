"""The Sentry ingest's own settings: size limits and the per-key event rate, read once at start-up.

Defaults follow Sentry's documented limits (docs.sentry.io/concepts/data-management/size-limits):
a request is at most 20 MiB compressed and 100 MiB decompressed, an event at most 1 MiB.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from app.config import ConfigError, Settings

MIB = 1024 * 1024

# Environment variable (or create_app test_config key, lower-case) -> (field, default).
_KEYS: dict[str, tuple[str, int]] = {
    "SENTRY_MAX_BODY_BYTES": ("max_body_bytes", 20 * MIB),
    "SENTRY_MAX_ENVELOPE_BYTES": ("max_envelope_bytes", 100 * MIB),
    "SENTRY_MAX_EVENT_BYTES": ("max_event_bytes", 1 * MIB),
    "SENTRY_MAX_ITEMS": ("max_items", 1000),
    "SENTRY_RATE_LIMIT": ("events_per_minute", 1000),
}


@dataclass(frozen=True)
class SentryOptions:
    """Limits of the Sentry ingest routes; `events_per_minute` 0 turns the per-key limit off."""

    max_body_bytes: int = 20 * MIB
    max_envelope_bytes: int = 100 * MIB
    max_event_bytes: int = 1 * MIB
    max_items: int = 1000
    events_per_minute: int = 1000
    public_base_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> "SentryOptions":
        """Environment first, then `create_app(test_config)` overrides (lower-case names in extra)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for key, (name, default) in _KEYS.items():
            raw = settings.extra.get(key.lower(), env.get(key, ""))
            values[name] = _non_negative(key, raw, default)
        values["public_base_url"] = str(settings.extra.get("public_base_url",
                                                           env.get("PUBLIC_BASE_URL", ""))).rstrip("/")
        return cls(**values)


def _non_negative(key: str, raw: Any, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key} must be an integer, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{key} must not be negative, got {value}")
    return value
