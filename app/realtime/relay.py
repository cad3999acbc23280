"""Fan-out across instances: every frame is delivered locally, then relayed for the other instances."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """A frame to deliver: `target` is `users`, `conns` or `all`; `ids` are user or connection ids.

    `more` holds (frame_type, text) of frames that always follow this one (presence sends two):
    each connection gets them in one write.
    """

    target: str
    ids: tuple[Any, ...]
    text: str
    frame_type: str
    exclude_conn: str | None = None
    more: tuple[tuple[str, str], ...] = ()

    def frames(self) -> list[tuple[str, str]]:
        """Every (frame_type, text) carried, in order."""
        return [(self.frame_type, self.text), *self.more]

    def to_json(self, origin: str) -> str:
        """The wire form on the relay, tagged with the instance that published it."""
        return json.dumps({"o": origin, "t": self.target, "i": list(self.ids), "f": self.text,
                           "y": self.frame_type, "x": self.exclude_conn, "m": [list(m) for m in self.more]},
                          separators=(",", ":"))

    @staticmethod
    def from_json(raw: str | bytes) -> tuple[str, "Envelope"]:
        """Parse a relayed envelope: (origin instance, envelope)."""
        obj = json.loads(raw)
        more = tuple((str(t), str(f)) for t, f in obj.get("m") or ())
        return obj["o"], Envelope(obj["t"], tuple(obj["i"]), obj["f"], obj["y"], obj.get("x"), more)


Deliver = Callable[[Envelope], int]


class LocalRelay:
    """One process: local delivery is all there is."""

    def start(self, deliver: Deliver) -> None:
        """Nothing to listen to."""

    def publish(self, envelope: Envelope) -> None:
        """Nobody else to tell."""

    def stop(self) -> None:
        """Nothing to stop."""


class RedisRelay:
    """Redis pub/sub between instances; a listener greenlet delivers what the others publish."""

    def __init__(self, client: Any, channel: str, instance_id: str) -> None:
        self._client = client
        self._channel = channel
        self._instance_id = instance_id
        self._stopped = threading.Event()
        self._listener: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self, deliver: Deliver) -> None:
        """Start listening once (idempotent)."""
        with self._start_lock:
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, args=(deliver,),
                                                  name="ws-redis-relay", daemon=True)
                self._listener.start()

    def publish(self, envelope: Envelope) -> None:
        """Tell the other instances; a Redis outage costs them this frame, never the caller."""
        try:
            self._client.publish(self._channel, envelope.to_json(self._instance_id))
        except Exception as exc:  # redis.RedisError or a socket error: log and carry on locally
            log.warning("relay publish failed: %s", exc)

    def stop(self) -> None:
        """Stop the listener (it notices within a second)."""
        self._stopped.set()

    def _listen(self, deliver: Deliver) -> None:
        while not self._stopped.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._deliver(message["data"], deliver)
            except Exception as exc:  # reconnect after an outage; pub/sub is at-most-once anyway
                log.warning("relay listener lost Redis (%s); retrying", exc)
                self._stopped.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    def _deliver(self, raw: str | bytes, deliver: Deliver) -> None:
        try:
            origin, envelope = Envelope.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("relay ignored a malformed envelope")
            return
        if origin != self._instance_id:
            deliver(envelope)
