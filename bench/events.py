"""Publishing events: POST /api/v1/events latency and fan-out to connected users, with and without storage.

Three figures against one embedded server (SQLite, in-process fan-out, rate limits off):
  live      `like_count_update` to N connected users: request latency, and POST-to-last-arrival
  notify    `notification` to the same N users: one row each, then a frame and a count each
  offline   `notification` to 1000 users nobody is connected as: storage only

    .venv/bin/python bench/events.py [--users 200] [--rounds 30]

Receivers are greenlets in this process (websocket-client under gevent); users are seeded in SQL
directly (hashing a thousand passwords would only measure argon2).
"""
from gevent import monkey

monkey.patch_all()  # noqa: E402  the receivers are greenlets

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import websocket  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

SECRET = "bench-secret-" + "e" * 40


def seed_users(data_dir: Path, count: int, prefix: str, role: str = "user") -> list[tuple[int, str]]:
    """`count` accounts written straight into the server's SQLite file, as (id, token)."""
    from app.auth.tokens import TokenSigner
    from app.models import User
    from app.storage.sql import Database

    db = Database(f"sqlite:///{data_dir / 'app.db'}")
    rows = [User(username=f"{prefix}{i}", password_hash="x", role=role) for i in range(count)]
    with db.session() as session:
        session.add_all(rows)
    db.dispose()
    signer = TokenSigner(SECRET, 3600)
    return [(row.id, signer.issue(row.id, role)) for row in rows]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Receivers:
    """N connections; `wait(frame_type, n)` returns when each has seen `n` frames of that type."""

    def __init__(self, ws_url: str, tokens: list[str]) -> None:
        self.seen: dict[str, list[int]] = {}
        self.sockets = [websocket.create_connection(f"{ws_url}?token={t}", timeout=60) for t in tokens]
        self.readers = [gevent.spawn(self._read, i, ws) for i, ws in enumerate(self.sockets)]

    def _read(self, index: int, ws: websocket.WebSocket) -> None:
        while True:
            try:
                text = ws.recv()
            except Exception:
                return
            kind = text[text.find('"type":"') + 8:].split('"', 1)[0]
            self.seen.setdefault(kind, [0] * len(self.sockets))[index] += 1

    def wait(self, frame_type: str, count: int, timeout: float = 60.0) -> None:
        """Block until every connection has received `count` frames of `frame_type`."""
        deadline = time.monotonic() + timeout
        while min(self.seen.get(frame_type, [0])) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{frame_type}: not every receiver got {count}")
            gevent.sleep(0.001)

    def close(self) -> None:
        """Close every socket."""
        for ws in self.sockets:
            ws.close()


def measure(rounds: int, post: Callable[[], requests.Response], arrived: Callable[[int], None] | None) -> dict:
    """Request latency (ms) and, when `arrived` is given, POST-to-last-arrival (ms) per round."""
    request_ms, fanout_ms = [], []
    for n in range(1, rounds + 1):
        start = time.perf_counter()
        resp = post()
        request_ms.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, resp.text
        if arrived is not None:
            arrived(n)
            fanout_ms.append((time.perf_counter() - start) * 1000)
    row: dict[str, Any] = {"req_p50": percentile(request_ms, 0.5), "req_p99": percentile(request_ms, 0.99)}
    if fanout_ms:
        row.update(all_p50=percentile(fanout_ms, 0.5), all_p99=percentile(fanout_ms, 0.99))
    return row


def main() -> None:
    """Start a server, seed, measure the three figures, print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), env={"SECRET_KEY": SECRET, "RATE_LIMIT_ENABLED": "false"}).start()
        try:
            users = seed_users(server.data_dir, args.users, "listener")
            offline = [uid for uid, _ in seed_users(server.data_dir, 1000, "away")]
            (_sid, service_token), = seed_users(server.data_dir, 1, "publisher", role="service")
            ids = [uid for uid, _ in users]
            receivers = Receivers(server.ws_url, [token for _, token in users])
            receivers.wait("notification_count", 1)
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {service_token}"

            def post(frame_type: str, to: list[int], payload: dict) -> Callable[[], requests.Response]:
                body = {"type": frame_type, "to": {"user_ids": to}, "payload": payload}
                return lambda: http.post(f"{server.url}/api/v1/events", json=body, timeout=60)

            results = {
                f"live x{len(ids)}": measure(args.rounds, post("like_count_update", ids, {"post_id": "p", "count": 1}),
                                             lambda n: receivers.wait("like_count_update", n)),
                f"notify x{len(ids)}": measure(args.rounds, post("notification", ids, {"kind": "k", "title": "t"}),
                                               lambda n: receivers.wait("notification", n)),
                "offline x1000": measure(args.rounds, post("notification", offline, {"kind": "k", "title": "t"}), None),
            }
            receivers.close()
        finally:
            server.stop()
    print(f"{'figure':<16}{'req p50 ms':>12}{'req p99 ms':>12}{'all p50 ms':>12}{'all p99 ms':>12}")
    for name, row in results.items():
        cells = [row["req_p50"], row["req_p99"], row.get("all_p50"), row.get("all_p99")]
        print(f"{name:<16}" + "".join(f"{c:>12.1f}" if c is not None else f"{'-':>12}" for c in cells))


if __name__ == "__main__":
    main()
