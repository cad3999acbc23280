"""Frame routing: a feature maps a frame type to its handler without touching the hub."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ValidationError

from app.api.validation import summary
from app.realtime.frames import FRAME_TYPE, FrameError, InboundFrame

if TYPE_CHECKING:
    from app.realtime.connection import Connection

Handler = Callable[["Connection", Any], None]


@dataclass(frozen=True)
class Route:
    """One registered frame type: its handler and the optional pydantic model of its payload."""

    handler: Handler
    payload_model: type[BaseModel] | None


class HandlerRegistry:
    """Maps frame types to handlers; validates payloads before a handler sees them."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()

    def register(self, frame_type: str, handler: Handler,
                 payload_model: type[BaseModel] | None = None) -> None:
        """Route `frame_type` to `handler`; a type can be registered once (ValueError otherwise)."""
        if not FRAME_TYPE.match(frame_type):
            raise ValueError(f"frame type {frame_type!r} must be snake_case")
        with self._lock:
            if frame_type in self._routes:
                raise ValueError(f"frame type {frame_type!r} already has a handler")
            self._routes[frame_type] = Route(handler, payload_model)

    def knows(self, frame_type: str) -> bool:
        """True when a handler is registered for this type."""
        return frame_type in self._routes

    def types(self) -> list[str]:
        """Every routed frame type, sorted."""
        return sorted(self._routes)

    def dispatch(self, conn: "Connection", frame: InboundFrame) -> None:
        """Validate the payload and call the handler; FrameError for unknown types or bad payloads."""
        route = self._routes.get(frame.type)
        if route is None:
            raise FrameError(f"Unknown frame type {frame.type[:64]!r}.", code="unknown_type")
        payload: Any = frame.payload
        if route.payload_model is not None:
            try:
                payload = route.payload_model.model_validate(frame.payload)
            except ValidationError as exc:
                raise FrameError(f"Invalid {frame.type} payload: {summary(exc)}",
                                 code="invalid_payload") from exc
        route.handler(conn, payload)
