"""`/api/v1/events` (publish, catalogue) and `/api/v1/notifications` (own list, mark read): thin handlers."""
from __future__ import annotations

from flask import Blueprint, jsonify

from app.api.openapi import documented
from app.api.validation import json_body, parse_query
from app.auth.guard import current_user, require_user
from app.events.catalogue import CATALOGUE
from app.events.notifications import parse_notification_id
from app.events.schemas import (EventTypeList, NotificationList, NotificationsQuery, PublishAnswer, PublishRequest,
                                ReadAnswer)
from app.services import services

bp = Blueprint("events", __name__)
PUBLISHERS = ("admin", "service")


@bp.post("/api/v1/events")
@require_user(*PUBLISHERS)
@documented("Publish one catalogue event to listed users, a channel's members or everyone connected "
            "(admin and service accounts); a notification is also stored per recipient",
            tags=("events",), body=PublishRequest, response=PublishAnswer, errors=(404, 503))
def publish():  # type: ignore[no-untyped-def]
    return jsonify(services().extra["events"].publish_body(json_body()))


@bp.get("/api/v1/events/types")
@require_user()
@documented("The event catalogue: each type's payload schema and who may send it", tags=("events",),
            response=EventTypeList)
def event_types():  # type: ignore[no-untyped-def]
    return jsonify({"types": [
        {"type": entry.name, "summary": entry.summary, "publishable": entry.publishable,
         "from_clients": entry.from_clients, "stored": entry.stored, "audiences": list(entry.audiences),
         "payload_schema": entry.payload.model_json_schema()}
        for entry in CATALOGUE.values()]})


@bp.get("/api/v1/notifications")
@require_user()
@documented("The caller's own notifications, newest first (`unread=true`: unread only)", tags=("events",),
            query=NotificationsQuery, response=NotificationList)
def list_notifications():  # type: ignore[no-untyped-def]
    query = parse_query(NotificationsQuery)
    return jsonify(services().extra["notifications"].page(current_user().id, query))


@bp.post("/api/v1/notifications/<notification_id>/read")
@require_user()
@documented("Mark one of the caller's notifications read; its connections get notification_read and "
            "notification_count", tags=("events",), response=ReadAnswer, errors=(404,))
def read_notification(notification_id: str):  # type: ignore[no-untyped-def]
    found = parse_notification_id(notification_id)
    return jsonify(services().extra["notifications"].mark_read(current_user().id, found))
