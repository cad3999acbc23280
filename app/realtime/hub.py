"""The hub: live connections by user, frame routing, presence and fan-out (local and relayed)."""
from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from pydantic import BaseModel
from simple_websocket import ConnectionClosed

from app.errors import ApiError, ServiceUnavailable
from app.realtime.connection import CLOSE_GOING_AWAY, CLOSE_POLICY, Connection
from app.realtime.connections import ConnectionTable
from app.realtime.counters import Counters
from app.realtime.frames import FrameError, decode_frame, encode_frame, error_payload, wire_frame
from app.realtime.presence import PresenceStore, PresenceTracker
from app.realtime.registry import Handler, HandlerRegistry
from app.realtime.relay import Envelope, LocalRelay, RedisRelay
from app.realtime.throttle import TokenBucket

if TYPE_CHECKING:
    from app.config import Settings
    from app.models import User

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
HARD_FRAME_CAP_FACTOR = 16  # frames up to 16x the limit get an error frame; beyond, a 1009 close
ConnectHook = Callable[[Connection], None]
DisconnectHook = Callable[[Connection, bool], None]


class Membership(Protocol):
    """What the hub needs to know about channels (ChannelService provides it)."""

    def members(self, channel_id: str) -> list[int]:
        """User ids of a channel's members."""

    def peers_of(self, user_id: int) -> set[int]:
        """Users sharing at least one channel with `user_id` (not the user itself)."""


class Hub:
    """Every live connection of this instance, and the one way to send frames to them."""

    def __init__(self, settings: "Settings", membership: Membership, presence_store: PresenceStore,
                 relay: LocalRelay | RedisRelay, instance_id: str,
                 record_rate_limit: Callable[[int], None] = lambda _user_id: None) -> None:
        self.settings = settings
        self.instance_id = instance_id
        self.counters = Counters(plain=("frames_dropped", "connections_opened"),
                                 labelled=("frames_in", "frames_out", "frames_rejected",
                                           "connections_closed", "connections_refused"))
        self.registry = HandlerRegistry()
        self.presence = PresenceTracker(presence_store, self._statuses_of, self._announce_presence)
        self._membership = membership
        self._relay = relay
        self._record_rate_limit = record_rate_limit
        self.connections = ConnectionTable(settings.ws_max_connections_per_user)
        self._start_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._connect_hooks: list[ConnectHook] = []
        self._disconnect_hooks: list[DisconnectHook] = []
        self._accepting = True
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    # --- the public API (see app/realtime/__init__.py) -------------------------------------------
    def register_handler(self, frame_type: str, handler: Handler,
                         payload_model: type[BaseModel] | None = None) -> None:
        """Route client frames of `frame_type` to `handler(conn, payload)`."""
        self.registry.register(frame_type, handler, payload_model)

    def on_connect(self, hook: ConnectHook) -> None:
        """Call `hook(conn)` after each connection is registered (after its `system` frame)."""
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: DisconnectHook) -> None:
        """Call `hook(conn, last_for_user)` after each connection is unregistered."""
        self._disconnect_hooks.append(hook)

    def send_to_user(self, user_id: int, frame_type: str, payload: dict[str, Any]) -> int:
        """Send to every connection of a user; returns the connections reached on this instance."""
        return self.send_to_users([user_id], frame_type, payload)

    def send_to_users(self, user_ids: Iterable[int], frame_type: str, payload: dict[str, Any],
                      exclude_conn: str | None = None) -> int:
        """Send to every connection of these users; returns the connections reached on this instance."""
        ids = tuple(sorted({int(u) for u in user_ids}))
        if not ids:
            return 0
        return self._route(Envelope("users", ids, encode_frame(frame_type, payload), frame_type, exclude_conn))

    def send_to_channel(self, channel_id: str, frame_type: str, payload: dict[str, Any],
                        exclude_conn: str | None = None) -> int:
        """Send to every connection of a channel's members, except `exclude_conn`."""
        return self.send_to_users(self._membership.members(channel_id), frame_type, payload, exclude_conn)

    def broadcast(self, frame_type: str, payload: dict[str, Any]) -> int:
        """Send to every connection on every instance; returns those reached on this instance."""
        return self._route(Envelope("all", (), encode_frame(frame_type, payload), frame_type))

    def send_to_connection(self, conn_id: str, frame_type: str, payload: dict[str, Any]) -> int:
        """Send to one connection (on whichever instance holds it); 1 when it was local and queued."""
        envelope = Envelope("conns", (conn_id,), encode_frame(frame_type, payload), frame_type)
        return self.deliver(envelope) if self.connections.has(conn_id) else self._route(envelope)

    def count(self, name: str, by: str | None = None, n: int = 1) -> None:
        """Add to a counter shown by the metrics endpoint (plain, or labelled with `by`)."""
        self.counters.add(name, by, n)

    def connections_of(self, user_id: int) -> list[Connection]:
        """This instance's live connections of a user."""
        return self.connections.of_user(user_id)

    def metrics(self) -> dict[str, Any]:
        """Gauges and every counter (the hub's and the features'), for this instance."""
        connections, users = self.connections.sizes()
        return {"instance_id": self.instance_id, "connections": connections, "users_connected": users,
                "users_online": self.presence.online_users(),
                "relay": "redis" if isinstance(self._relay, RedisRelay) else "local",
                **self.counters.snapshot()}

    # --- delivery --------------------------------------------------------------------------------
    def deliver(self, envelope: Envelope) -> int:
        """Queue an envelope's frame for the matching local connections; never blocks."""
        targets = self.connections.targets(envelope)
        if not targets:
            return 0
        frames = envelope.frames()
        data = b"".join(wire_frame(text) for _, text in frames)  # framed once, for every connection
        reached = 0
        for conn in targets:
            if conn.conn_id != envelope.exclude_conn and conn.enqueue(data, envelope.frame_type, count=False):
                reached += 1
        for frame_type, _ in frames if reached else ():
            self.counters.add("frames_out", by=frame_type, n=reached)
        return reached

    def _route(self, envelope: Envelope) -> int:
        reached = self.deliver(envelope)
        self._relay.publish(envelope)
        return reached

    # --- connection lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the relay listener and the sweeper (idempotent; run by the server's starters)."""
        with self._start_lock:
            if self._sweeper is not None or self._stop.is_set():
                return
            self._sweeper = threading.Thread(target=self._sweep_loop, name="ws-sweeper", daemon=True)
        self._relay.start(self.deliver)
        self._sweeper.start()

    def admit(self, user: "User") -> None:
        """Refuse an upgrade before it happens: 503 while shutting down, 429 over the per-user cap."""
        if not self._accepting:
            self.counters.add("connections_refused", by="shutting_down")
            raise ServiceUnavailable("The server is shutting down; reconnect shortly.")
        cap = self.settings.ws_max_connections_per_user
        if len(self.connections_of(user.id)) >= cap:
            self.counters.add("connections_refused", by="too_many_connections")
            raise ApiError(f"At most {cap} live connections per user; close one first.",
                           code="rate_limited", status=429, headers={"Retry-After": "5"})

    def serve(self, ws: Any, user: "User", token_expires_at: int) -> None:
        """Run one upgraded connection until it closes (in the request greenlet)."""
        self.start()
        conn = Connection(ws, user, f"{self.instance_id}-{next(self._ids)}", self.counters,
                          queue_size=self.settings.ws_send_queue, token_expires_at=token_expires_at,
                          max_message_bytes=self.settings.ws_max_frame_bytes * HARD_FRAME_CAP_FACTOR)
        conn.start()
        if not self.connections.add(conn):
            self.counters.add("connections_refused", by="too_many_connections")
            conn.close(CLOSE_POLICY, "too many live connections for this user", "refused")
            conn.finish()
            return
        self.counters.add("connections_opened")
        try:
            conn.send("system", {"message": "connected", "user_id": user.id, "connection_id": conn.conn_id})
            self._run_hooks(self._connect_hooks, conn)
            self.presence.refresh(conn.user_id)
            self._read_loop(conn)
        except ConnectionClosed:
            pass
        finally:
            last = self.connections.remove(conn)
            self.presence.refresh(conn.user_id)
            self._run_hooks(self._disconnect_hooks, conn, last)
            conn.finish()
            self.counters.add("connections_closed", by=conn.close_label)

    def set_status(self, conn: Connection, status: str) -> None:
        """A connection declares online / in_studio / offline; the user's status is recomputed."""
        conn.status = status
        self.presence.refresh(conn.user_id)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close every connection with 1001, wait for them to go, and clear this instance's presence."""
        self._accepting = False
        for conn in self.connections.all():
            conn.close(CLOSE_GOING_AWAY, "the server is shutting down", "shutdown")
        deadline = time.monotonic() + timeout
        while self.connections.sizes()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.presence.forget_all()
        self._stop.set()
        self._relay.stop()

    def _read_loop(self, conn: Connection) -> None:
        bucket = TokenBucket(self.settings.ws_frames_per_second, self.settings.ws_frame_burst)
        while (data := conn.receive()) is not None:
            if conn.closing:
                break  # closed while this frame arrived: it is dropped
            if bucket.take():
                self._handle(conn, data)
            else:
                self.counters.add("frames_rejected", by="rate_limited")
                self._record_rate_limit(conn.user_id)
                conn.send("error", error_payload("rate_limited", "Too many frames; slow down."))

    def _handle(self, conn: Connection, data: str | bytes) -> None:
        try:
            frame = decode_frame(data, self.settings.ws_max_frame_bytes)
            self.counters.add("frames_in", by=frame.type if self.registry.knows(frame.type) else "unknown")
            self.registry.dispatch(conn, frame)
        except ApiError as exc:
            if isinstance(exc, FrameError):
                self.counters.add("frames_rejected", by=exc.code)
            conn.send("error", error_payload(exc.code, exc.message))
        except Exception:
            log.exception("frame handler failed")
            conn.send("error", error_payload("internal_error", "The server failed to handle this frame."))

    def _run_hooks(self, hooks: list, *args: Any) -> None:
        for hook in list(hooks):
            try:
                hook(*args)
            except Exception:
                log.exception("realtime hook %r failed", hook)

    # --- presence and housekeeping ---------------------------------------------------------------
    def _statuses_of(self, user_id: int) -> list[str]:
        return [c.status for c in self.connections_of(user_id)]

    def _announce_presence(self, user_id: int, status: str) -> None:
        peers = tuple(sorted(self._membership.peers_of(user_id)))
        if peers:
            event = f"user_{status}"
            self._route(Envelope("users", peers, encode_frame("presence", {"user_id": user_id, "status": status}),
                                 "presence", more=((event, encode_frame(event, {"user_id": user_id})),)))

    def _sweep_loop(self) -> None:
        ping = float(max(1, self.settings.ws_ping_interval_seconds))
        heartbeat = min(5.0, ping)
        next_heartbeat = 0.0
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                now = time.monotonic()
                for conn in self.connections.all():
                    conn.sweep(now, ping, stall_limit=2 * ping)
                if now >= next_heartbeat:
                    next_heartbeat = now + heartbeat
                    self.presence.heartbeat()
            except Exception:
                log.exception("realtime sweep failed")
