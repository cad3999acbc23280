"""Live events for the rest of the backend: the catalogue, publishing, stored notifications, playback relay.

Public API (register after `init_realtime`; see docs/events.md for the catalogue):
    services.extra["events"]         EventService
        publish(type, payload_model_instance, Audience) -> {delivered, relayed, recipients, stored, ...}
        publish_body(raw_dict) -> the same, after validating `{type, to, payload}` against the catalogue
    services.extra["notifications"]  NotificationService
        notify(user_ids, Notification(kind=..., title=...)) -> Notified(stored, unknown_user_ids, delivered)
        unread(user_id) -> int;  mark_read(user_id, id) -> dict;  expire(older_than_days) -> int
    app.events.catalogue.CATALOGUE   {type: EventType(payload model, publishable, from_clients, stored, audiences)}
Hub counters: `events_published` and `events_delivered` by type, `events_rejected` by error code.
"""
from __future__ import annotations

from flask import Flask

from app.events.catalogue import CATALOGUE
from app.events.cli import notifications_cli
from app.events.notifications import NotificationService
from app.periodic import PeriodicTask
from app.events.playback import PlaybackRelay
from app.events.sender import EventSender
from app.events.service import EventService
from app.events.store import SqlNotificationStore
from app.services import Services

EXPIRY_INTERVAL_SECONDS = 3600.0


def init_events(app: Flask, services: Services) -> EventService:
    """Build the event and notification services on the hub, mount the endpoints, frames, hooks and CLI."""
    from app.events.routes import bp

    hub = services.extra["hub"]
    channels = services.extra["channels"]
    sender = EventSender(hub)
    notifications = NotificationService(SqlNotificationStore(services.db), sender)
    events = EventService(sender, notifications, channels, relayed=bool(services.settings.redis_url))
    services.extra["notifications"] = notifications
    services.extra["events"] = events

    hub.on_connect(notifications.greet)
    PlaybackRelay(hub, channels, sender).install()
    ttl_days = services.settings.notification_read_ttl_days
    if ttl_days > 0:
        expiry = PeriodicTask("notification-expiry", lambda: notifications.expire(ttl_days), EXPIRY_INTERVAL_SECONDS)
        services.extra.setdefault("starters", []).append(expiry.start)
        services.on_close(expiry.stop)
    app.register_blueprint(bp)
    app.cli.add_command(notifications_cli)
    return events


__all__ = ["CATALOGUE", "EventService", "NotificationService", "init_events"]
