"""The real-time hub: one authenticated WebSocket per client at `/ws`, presence and fan-out.

Public API (stable; other features use only this). The hub is `services.extra["hub"]`, the
channel service `services.extra["channels"]` (see `app.channels`). Look them up when needed (not
at import time) or register your feature after `init_realtime` in `app/features.py`.

Sending (safe from any greenlet, or any thread when gevent is not in use; never blocks; each
returns the number of connections reached on THIS instance; with Redis the other instances
deliver too, uncounted):
    hub.send_to_user(user_id, type, payload) -> int
    hub.send_to_users(user_ids, type, payload, exclude_conn=None) -> int
    hub.send_to_channel(channel_id, type, payload, exclude_conn=None) -> int   # every member's connections
    hub.broadcast(type, payload) -> int
    hub.send_to_connection(conn_id, type, payload) -> int
Frames leave as `{"type", "payload", "timestamp"}` (server time, unix ms), framed once per
fan-out and written inline when the socket takes them, else queued for the connection's single
writer. A connection whose bounded send queue (WS_SEND_QUEUE) overflows is a slow client: it is
closed with 1013. `conn.enqueue(text_from_encode_frame, type)` sends a pre-encoded frame.

Receiving:
    hub.register_handler(type, handler, payload_model=None)
        `handler(conn, payload)` runs in the connection's reader greenlet, one frame at a time;
        `payload` is the validated `payload_model` instance when one is given, else the dict.
        Raise an `app.errors.ApiError` to answer `error {code, message}` (the connection stays open).
    hub.on_connect(cb)       cb(conn) after the `system` frame of a new connection
    hub.on_disconnect(cb)    cb(conn, last_for_user: bool) after a connection is gone
    hub.connections_of(user_id) -> [conn]   this instance's live connections of a user
    `conn` (app.realtime.connection.Connection): `conn_id`, `user`, `user_id`, `state` (a dict of
    the feature's per-connection data), `status`, `send(type, payload) -> bool`, `close(code, reason)`.

Presence: `hub.presence.status(user_id)` on this instance. A user's status is the highest of its
connections' (in_studio > online > offline); changes go as `presence {user_id, status}` plus
`user_online` / `user_in_studio` / `user_offline {user_id}` to the users sharing a channel with it.

Cross-instance: `app.realtime.relay` (`Envelope`, `LocalRelay`, `RedisRelay`) is reusable on a
channel of your own. Presence across instances lives in Redis (`app.realtime.redis_presence`).
Per-instance: the per-user connection cap and the metrics.

Metrics: `hub.count(name, by=None, n=1)` adds a feature counter (plain or labelled by `by`);
`hub.metrics()` is what `GET /api/v1/websocket/metrics` returns.

Frames the hub itself handles: `ping` -> `pong` (payload echoed), `presence {status}`,
`auth {token}` -> `system {message: "authenticated", user_id, expires_at_ms}`. It sends `system
{message: "connected", user_id, connection_id}` first on every connection, `channel_deleted
{channel_id}`, `channel_member_added {channel_id, user_id}`, `channel_member_removed {channel_id,
user_id}` to the members concerned, and `error {code, message}` with codes `malformed_frame`,
`unknown_type`, `invalid_payload`, `frame_too_large`, `rate_limited`, or a handler's own code.
Close codes: 1001 shutdown, 1002 a frame breaking RFC 6455 (unmasked, reserved bits, bad
fragments), 1007 text that is not UTF-8, 1008 keepalive unanswered or over the connection cap,
1009 a frame over the hard size cap, 1013 slow client, 4401 token expired; a client's own close
is answered with its code.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask

from app.realtime.client_frames import InlineReader
from app.realtime.hub import Hub
from app.services import Services


def init_realtime(app: Flask, services: Services) -> Hub:
    """Build the channel service and the hub, mount `/ws`, the metrics and channel endpoints."""
    from app.channels import init_channels
    from app.realtime.handlers import register_builtin_handlers
    from app.realtime.routes import bp, sock

    settings = services.settings
    channels = init_channels(app, services)
    instance_id = uuid.uuid4().hex[:12]
    hub = Hub(settings, channels, *_shared_backends(settings, instance_id), instance_id=instance_id,
              record_rate_limit=lambda user_id: _record_rate_limit(services, user_id))
    register_builtin_handlers(hub, services.auth)
    _announce_channel_changes(hub, channels)
    services.extra["hub"] = hub
    services.extra.setdefault("starters", []).append(hub.start)
    services.on_shutdown(hub.shutdown)
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"thread_class": InlineReader})
    app.register_blueprint(bp)
    sock.init_app(app)
    return hub


def _shared_backends(settings: Any, instance_id: str) -> tuple[Any, Any]:
    """In-process presence and fan-out, or Redis ones when REDIS_URL is set."""
    from app.realtime.presence import LocalPresenceStore
    from app.realtime.relay import LocalRelay

    if not settings.redis_url:
        return LocalPresenceStore(), LocalRelay()
    import redis

    from app.realtime.redis_presence import RedisPresenceStore
    from app.realtime.relay import RedisRelay

    client = redis.Redis.from_url(settings.redis_url, health_check_interval=30)
    heartbeat = min(5.0, float(max(1, settings.ws_ping_interval_seconds)))
    return (RedisPresenceStore(client, settings.redis_prefix, instance_id, heartbeat),
            RedisRelay(client, f"{settings.redis_prefix}:ws:fanout", instance_id))


def _announce_channel_changes(hub: Hub, channels: Any) -> None:
    """Tell the members concerned when a channel is deleted or its membership changes."""
    channels.on_channel_deleted(
        lambda channel_id, former: hub.send_to_users(former, "channel_deleted", {"channel_id": channel_id}))
    channels.on_member_added(lambda channel_id, user_id: hub.send_to_users(
        [*channels.members(channel_id)], "channel_member_added", {"channel_id": channel_id, "user_id": user_id}))
    channels.on_member_removed(lambda channel_id, user_id: hub.send_to_users(
        [user_id, *channels.members(channel_id)], "channel_member_removed",
        {"channel_id": channel_id, "user_id": user_id}))


def _record_rate_limit(services: Services, user_id: int) -> None:
    """Report a rate-limited frame to the rate-limit recorder, when that feature is installed."""
    recorder = services.extra.get("rate_limit_recorder")
    if recorder is None:
        return
    try:
        recorder.record("ws_frames", "/ws", "WS", "user", str(user_id))
    except Exception:  # the recorder is best effort; the frame is refused either way
        logging.getLogger(__name__).exception("rate-limit recorder failed")


__all__ = ["Hub", "init_realtime"]
