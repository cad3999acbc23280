"""WebSocket frames `subscribe`, `unsubscribe` and `operation`: parse, call the service, report errors.

Errors are sent here rather than by the hub so that each `error` frame names the
document (and op) it is about in `details`.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from app.documents.delivery import send_error
from app.documents.service import DocumentService
from app.errors import ApiError
from app.storage import StorageError
from ot import OTError

log = logging.getLogger(__name__)

_ALIASES = {"documentId": "document_id", "document_id": "document_id",
            "fromRevision": "from_revision", "from_revision": "from_revision",
            "revision": "revision", "operation": "operation"}
_ALLOWED = {"subscribe": {"document_id", "from_revision"}, "unsubscribe": {"document_id"},
            "operation": {"document_id", "revision", "operation"}}


class PayloadError(ApiError):
    """A documents frame whose payload has unknown, doubled or missing keys."""

    code = "invalid_payload"


def register_frame_handlers(hub: Any, service: DocumentService) -> None:
    """Route the three document frame types to the service."""

    def subscribe(conn: Any, payload: dict[str, Any]) -> None:
        def run() -> None:
            fields = _fields("subscribe", payload)
            service.subscribe(conn, conn.user_id, fields["document_id"], fields.get("from_revision"))
        _reporting(conn, payload, run)

    def unsubscribe(conn: Any, payload: dict[str, Any]) -> None:
        def run() -> None:
            service.unsubscribe(conn, _fields("unsubscribe", payload)["document_id"])
        _reporting(conn, payload, run)

    def operation(conn: Any, payload: dict[str, Any]) -> None:
        def run() -> None:
            fields = _fields("operation", payload)
            service.submit(conn, conn.user_id, fields["document_id"], fields.get("revision"),
                           fields["operation"])
        _reporting(conn, payload, run)

    hub.register_handler("subscribe", subscribe)
    hub.register_handler("unsubscribe", unsubscribe)
    hub.register_handler("operation", operation)


def _fields(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """camelCase or snake_case keys to one spelling; unknown or doubled keys are refused."""
    fields: dict[str, Any] = {}
    for key, value in payload.items():
        name = _ALIASES.get(key)
        if name is None or name not in _ALLOWED[frame_type]:
            raise PayloadError(f"Unknown {frame_type} field {str(key)[:64]!r}.")
        if name in fields:
            raise PayloadError(f"{frame_type} field {name} is given twice.")
        fields[name] = value
    if "document_id" not in fields:
        raise PayloadError(f"{frame_type} needs documentId.")
    if frame_type == "operation" and "operation" not in fields:
        raise PayloadError("operation needs an operation object.")
    return fields


def _reporting(conn: Any, payload: dict[str, Any], action: Callable[[], None]) -> None:
    """Run the action; any refusal becomes an `error` frame naming the document and op."""
    try:
        action()
    except (OTError, ApiError) as exc:
        send_error(conn, exc.code, exc.message, _details(payload, getattr(exc, "details", None)))
    except StorageError as exc:
        log.warning("documents: store unavailable: %s", exc)
        send_error(conn, "service_unavailable", "The document store is unavailable; retry shortly.",
                   _details(payload, None))


def _details(payload: dict[str, Any], extra: object) -> dict[str, Any]:
    """What the error is about: the document (and op) as the client named them."""
    details: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    raw_id = payload.get("documentId", payload.get("document_id"))
    details.setdefault("document_id", raw_id[:200] if isinstance(raw_id, str) else None)
    operation = payload.get("operation")
    if isinstance(operation, dict):
        op_id = operation.get("opId", operation.get("op_id"))
        if isinstance(op_id, str):
            details.setdefault("op_id", op_id[:128])
    return details
