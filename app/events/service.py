"""Publishing: a catalogue event checked against its schema, addressed to an audience, sent through the hub."""
from __future__ import annotations

from typing import Any

from app.api.validation import validate
from app.errors import ApiError, BadRequest, NotFound
from app.events.catalogue import CATALOGUE, EventPayload, Notification
from app.events.notifications import NotificationService
from app.events.schemas import PUBLISH_MODELS, Audience, PublishBase
from app.events.sender import EventSender


class EventService:
    """Publishes events for the rest of the backend (POST /api/v1/events, or in-process callers)."""

    def __init__(self, sender: EventSender, notifications: NotificationService, channels: Any,
                 relayed: bool) -> None:
        self._send = sender
        self._notifications = notifications
        self._channels = channels
        self._relayed = relayed

    def publish_body(self, body: Any) -> dict[str, Any]:
        """Validate a raw `{type, to, payload}` body against the catalogue and publish it."""
        try:
            request = self.parse(body)
            return self.publish(request.type, request.payload, request.to)  # type: ignore[attr-defined]
        except ApiError as exc:
            self._send.rejected(exc.code)
            raise

    def parse(self, body: Any) -> PublishBase:
        """The typed request; 400 naming an unknown type, a server-only type or the fields that fail."""
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object {type, to, payload}.", code="validation_error")
        frame_type = body.get("type")
        if not isinstance(frame_type, str):
            raise BadRequest("`type` must name an event type of the catalogue.", code="validation_error")
        entry = CATALOGUE.get(frame_type)
        if entry is None:
            raise BadRequest(f"Unknown event type {frame_type[:64]!r}; see GET /api/v1/events/types.",
                             code="unknown_event_type")
        if not entry.publishable:
            raise BadRequest(f"{frame_type} is sent by the server only.", code="not_publishable")
        request = validate(PUBLISH_MODELS[frame_type], body)
        if request.to.kind not in entry.audiences:
            raise BadRequest(f"{frame_type} cannot be sent to {request.to.kind}; use one of "
                             f"{', '.join(entry.audiences)}.", code="audience_not_allowed")
        return request

    def publish(self, frame_type: str, payload: EventPayload, to: Audience) -> dict[str, Any]:
        """Send one validated event to its audience; what was delivered and stored."""
        user_ids = self._recipients(to)
        answer: dict[str, Any] = {"type": frame_type, "delivered": 0, "relayed": self._relayed,
                                  "recipients": None if user_ids is None else len(user_ids),
                                  "stored": 0, "unknown_user_ids": []}
        if isinstance(payload, Notification):
            notified = self._notifications.notify(user_ids or [], payload)
            answer.update(delivered=notified.delivered, stored=len(notified.stored),
                          unknown_user_ids=notified.unknown_user_ids)
        elif user_ids is None:
            answer["delivered"] = self._send.to_all(frame_type, payload.wire())
        else:
            answer["delivered"] = self._send.to_users(frame_type, payload.wire(), user_ids)
        return answer

    def _recipients(self, to: Audience) -> list[int] | None:
        """The addressed users in ascending order, or None for everyone connected."""
        if to.user_ids is not None:
            return sorted(set(to.user_ids))
        if to.channel_id is not None:
            members = self._channels.members(to.channel_id)
            if not members:  # the owner is always a member: no members means no channel
                raise NotFound("No such channel.", code="channel_not_found")
            return sorted(members)
        return None
