"""Typed settings read from the environment once; the one place for defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; raised at start-up."""


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} must be an integer, got {raw!r}") from exc


def _list(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    raw = env.get(key, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, typed and defaulted."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    database_url: str = ""
    clickhouse_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "platform"
    secret_key: str = ""
    trusted_proxies: tuple[str, ...] = ()
    workers: int = 1
    jwt_ttl_seconds: int = 86400
    event_ttl_days: int = 90
    operation_ttl_days: int = 30
    max_body_bytes: int = 1024 * 1024
    max_batch_items: int = 1000
    ingest_linger_ms: int = 2
    ws_max_frame_bytes: int = 64 * 1024
    ws_send_queue: int = 1000
    ws_frames_per_second: int = 50
    ws_frame_burst: int = 100
    ws_max_connections_per_user: int = 20
    ws_ping_interval_seconds: int = 25
    sentry_dsn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    rate_limit_enabled: bool = True
    rate_limit_default: str = "100/minute"
    rate_limit_auth: str = "10/minute"
    rate_limit_uploads: str = "20/minute"
    rate_limit_errors_batch: str = "60/minute"
    rate_limit_health: str = "300/minute"
    rate_limit_dashboard: str = "600/minute"
    rate_limit_ws_upgrade: str = "60/minute"
    rate_limit_storage_failure: str = "open"
    upload_audio_max_bytes: int = 50 * 1024 * 1024
    upload_image_max_bytes: int = 5 * 1024 * 1024
    analytics_max_range_days: int = 90
    analytics_max_rows: int = 10_000
    analytics_max_export_rows: int = 1_000_000
    analytics_max_execution_seconds: int = 10
    analytics_max_memory_bytes: int = 512 * 1024 * 1024
    notification_read_ttl_days: int = 30

    def resolved(self) -> "Settings":
        """Fill the defaults that depend on DATA_DIR (SQLite file, chDB folder)."""
        data_dir = self.data_dir.resolve()
        database_url = self.database_url or f"sqlite:///{data_dir / 'app.db'}"
        clickhouse_url = self.clickhouse_url or f"chdb:///{data_dir / 'analytics'}"
        return replace(self, data_dir=data_dir, database_url=database_url, clickhouse_url=clickhouse_url)


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read Settings from the process environment (or a given mapping)."""
    env = os.environ if env is None else env
    return Settings(
        host=env.get("HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8000),
        data_dir=Path(env.get("DATA_DIR", "var")),
        database_url=env.get("DATABASE_URL", ""),
        clickhouse_url=env.get("CLICKHOUSE_URL", ""),
        redis_url=env.get("REDIS_URL", ""),
        redis_prefix=env.get("REDIS_PREFIX", "platform"),
        secret_key=env.get("SECRET_KEY", ""),
        trusted_proxies=_list(env, "TRUSTED_PROXIES"),
        workers=_int(env, "WEB_CONCURRENCY", 1),
        jwt_ttl_seconds=_int(env, "JWT_TTL_SECONDS", 86400),
        event_ttl_days=_int(env, "EVENT_TTL_DAYS", 90),
        operation_ttl_days=_int(env, "OPERATION_TTL_DAYS", 30),
        ingest_linger_ms=_int(env, "INGEST_LINGER_MS", 2),
        ws_max_frame_bytes=_int(env, "WS_MAX_FRAME_BYTES", 64 * 1024),
        ws_send_queue=_int(env, "WS_SEND_QUEUE", 1000),
        ws_frames_per_second=_int(env, "WS_FRAMES_PER_SECOND", 50),
        ws_frame_burst=_int(env, "WS_FRAME_BURST", 100),
        ws_max_connections_per_user=_int(env, "WS_MAX_CONNECTIONS_PER_USER", 20),
        ws_ping_interval_seconds=_int(env, "WS_PING_INTERVAL_SECONDS", 25),
        sentry_dsn=env.get("SENTRY_DSN", ""),
        rate_limit_enabled=env.get("RATE_LIMIT_ENABLED", "true").strip().lower() not in ("0", "false", "no", "off"),
        rate_limit_default=env.get("RATE_LIMIT_DEFAULT", "100/minute"),
        rate_limit_auth=env.get("RATE_LIMIT_AUTH", "10/minute"),
        rate_limit_uploads=env.get("RATE_LIMIT_UPLOADS", "20/minute"),
        rate_limit_errors_batch=env.get("RATE_LIMIT_ERRORS_BATCH", "60/minute"),
        rate_limit_health=env.get("RATE_LIMIT_HEALTH", "300/minute"),
        rate_limit_dashboard=env.get("RATE_LIMIT_DASHBOARD", "600/minute"),
        rate_limit_ws_upgrade=env.get("RATE_LIMIT_WS_UPGRADE", "60/minute"),
        rate_limit_storage_failure=env.get("RATE_LIMIT_STORAGE_FAILURE", "open"),
        upload_audio_max_bytes=_int(env, "UPLOAD_AUDIO_MAX_BYTES", 50 * 1024 * 1024),
        upload_image_max_bytes=_int(env, "UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024),
        analytics_max_range_days=_int(env, "ANALYTICS_MAX_RANGE_DAYS", 90),
        analytics_max_rows=_int(env, "ANALYTICS_MAX_ROWS", 10_000),
        analytics_max_export_rows=_int(env, "ANALYTICS_MAX_EXPORT_ROWS", 1_000_000),
        analytics_max_execution_seconds=_int(env, "ANALYTICS_MAX_EXECUTION_SECONDS", 10),
        analytics_max_memory_bytes=_int(env, "ANALYTICS_MAX_MEMORY_BYTES", 512 * 1024 * 1024),
        notification_read_ttl_days=_int(env, "NOTIFICATION_READ_TTL_DAYS", 30),
    )


def settings_with(base: Settings, overrides: Mapping[str, Any]) -> Settings:
    """Apply test or caller overrides by field name; unknown names go to `extra`."""
    known = {f.name for f in fields(Settings)}
    direct = {k: v for k, v in overrides.items() if k in known}
    if "data_dir" in direct:
        direct["data_dir"] = Path(direct["data_dir"])
    extra = {**base.extra, **{k: v for k, v in overrides.items() if k not in known}}
    return replace(base, **direct, extra=extra)
