"""The hub's own frame types: `ping`, `presence` and `auth`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from app.errors import Forbidden

if TYPE_CHECKING:
    from app.auth.service import AuthService
    from app.realtime.connection import Connection
    from app.realtime.hub import Hub


class PresencePayload(BaseModel):
    """`presence {status}` from a client."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["online", "in_studio", "offline"]


class AuthPayload(BaseModel):
    """`auth {token}`: a fresh token for the same user, so a long-lived connection outlives the old one."""

    model_config = ConfigDict(extra="forbid")
    token: StrictStr = Field(min_length=1, max_length=4096)


def register_builtin_handlers(hub: "Hub", auth: "AuthService") -> None:
    """Route the frame types the hub answers itself."""

    def ping(conn: "Connection", payload: dict) -> None:
        conn.send("pong", payload)

    def presence(conn: "Connection", payload: PresencePayload) -> None:
        hub.set_status(conn, payload.status)

    def reauthenticate(conn: "Connection", payload: AuthPayload) -> None:
        user = auth.user_for_token(payload.token)
        if user.id != conn.user_id:
            raise Forbidden("A connection cannot change user; open a new one.")
        conn.token_expires_at = auth.signer.verify(payload.token).expires_at
        conn.user = user
        conn.send("system", {"message": "authenticated", "user_id": user.id,
                             "expires_at_ms": conn.token_expires_at * 1000})

    hub.register_handler("ping", ping)
    hub.register_handler("presence", presence, PresencePayload)
    hub.register_handler("auth", reauthenticate, AuthPayload)

