"""Playback relay: a client's `playback_started` / `playback_stopped` reach its channel peers, like presence.

Each connection remembers the posts it is playing (in `conn.state`). A user plays a post while any
of its connections on this instance does; when the last one that played it stops or goes, the
peers get `playback_stopped`. Peers who arrive later are not told what is already playing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.errors import ApiError, Forbidden
from app.events.catalogue import PlaybackStarted, PlaybackStopped
from app.events.sender import EventSender

if TYPE_CHECKING:
    from app.realtime.connection import Connection

STATE_KEY = "playback"
MAX_PLAYING_PER_CONNECTION = 32


class PlaybackRelay:
    """Frame handlers and the disconnect hook that keep peers' view of who plays what."""

    def __init__(self, hub: Any, channels: Any, sender: EventSender) -> None:
        self._hub = hub
        self._channels = channels
        self._send = sender

    def install(self) -> None:
        """Route the two client frames and stop a departed connection's playback."""
        self._hub.register_handler("playback_started", self.started, PlaybackStarted)
        self._hub.register_handler("playback_stopped", self.stopped, PlaybackStopped)
        self._hub.on_disconnect(self.disconnected)

    def started(self, conn: "Connection", payload: PlaybackStarted) -> None:
        """The sender plays a post: its peers are told, with the sender's user id."""
        self._check_sender(conn, payload.user_id)
        playing: dict[str, None] = conn.state.setdefault(STATE_KEY, {})
        if payload.post_id not in playing and len(playing) >= MAX_PLAYING_PER_CONNECTION:
            raise ApiError(f"At most {MAX_PLAYING_PER_CONNECTION} posts play at once on one connection; "
                           "stop one first.", code="too_many_playbacks")
        playing[payload.post_id] = None
        self._relay(conn.user_id, "playback_started", payload.post_id)

    def stopped(self, conn: "Connection", payload: PlaybackStopped) -> None:
        """The sender stopped a post: peers are told unless another of its connections still plays it."""
        self._check_sender(conn, payload.user_id)
        conn.state.get(STATE_KEY, {}).pop(payload.post_id, None)
        if not self._still_playing(conn, payload.post_id):
            self._relay(conn.user_id, "playback_stopped", payload.post_id)

    def disconnected(self, conn: "Connection", _last_for_user: bool) -> None:
        """A connection went: what only it was playing has stopped."""
        for post_id in list(conn.state.pop(STATE_KEY, {})):
            if not self._still_playing(conn, post_id):
                self._relay(conn.user_id, "playback_stopped", post_id)

    def _check_sender(self, conn: "Connection", claimed: int | None) -> None:
        if claimed is not None and claimed != conn.user_id:
            raise Forbidden("user_id, when given, must be your own; the server fills it in.")

    def _still_playing(self, conn: "Connection", post_id: str) -> bool:
        """True when another live connection of the same user (on this instance) plays the post."""
        return any(post_id in other.state.get(STATE_KEY, {})
                   for other in self._hub.connections_of(conn.user_id) if other is not conn)

    def _relay(self, user_id: int, frame_type: str, post_id: str) -> None:
        peers = self._channels.peers_of(user_id)  # none: still counted as a published event
        self._send.to_users(frame_type, {"post_id": post_id, "user_id": user_id}, peers)
