"""`/ws` (the upgrade, refused with a JSON error before it happens) and the hub's metrics."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_sock import Sock
from pydantic import BaseModel, ConfigDict

from app.api.openapi import documented
from app.auth.guard import STAFF, bearer_token, require_user
from app.errors import ApiError
from app.realtime.connection import SerializedSocket
from app.services import services

sock = Sock()
bp = Blueprint("realtime", __name__)
WS_ENDPOINT = "realtime.websocket"


class WsQuery(BaseModel):
    """The token may come as `?token=` (browsers cannot set headers on a WebSocket)."""

    token: str | None = None


class MetricsResponse(BaseModel):
    """This instance's hub: gauges, frame counts by type, drops and rejections, feature counters."""

    model_config = ConfigDict(extra="allow")
    instance_id: str
    connections: int
    users_connected: int
    users_online: int
    frames_in: dict[str, int]
    frames_out: dict[str, int]
    frames_dropped: int
    frames_rejected: dict[str, int]
    connections_opened: int
    connections_closed: dict[str, int]
    connections_refused: dict[str, int]


@bp.before_request
def admit_upgrade() -> None:
    """Authenticate and admit a WebSocket before upgrading, so a refusal is a plain JSON error."""
    if request.endpoint != WS_ENDPOINT:
        return
    hub = services().extra["hub"]
    auth = services().auth
    token = request.args.get("token") or bearer_token()
    try:
        g.ws_user = auth.user_for_token(token)
    except ApiError:
        hub.count("connections_refused", by="invalid_token")
        raise
    hub.admit(g.ws_user)
    g.ws_token_expires_at = auth.signer.verify(token).expires_at
    # No permessage-deflate: a fan-out frames its message once for every connection, and a
    # thousand connections do not each hold a zlib context.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    for key in ("gunicorn.socket", "werkzeug.socket"):
        if key in request.environ:
            request.environ[key] = SerializedSocket(request.environ[key])
            break


@sock.route("/ws", bp=bp)
@documented("Open the WebSocket (frames: see the contract); refused with 401 or 429 before upgrading",
            tags=("realtime",), query=WsQuery, status=101, errors=(401, 429, 503))
def websocket(ws: Any) -> None:
    """Serve one connection for its whole life in this request's greenlet."""
    services().extra["hub"].serve(ws, g.ws_user, g.ws_token_expires_at)


@bp.get("/api/v1/websocket/metrics")
@require_user(*STAFF)
@documented("Live connections, users online, frames in and out by type, drops, rejections and "
            "feature counters (operations, events) of this instance", tags=("realtime",),
            response=MetricsResponse)
def metrics():  # type: ignore[no-untyped-def]
    return jsonify(services().extra["hub"].metrics())
