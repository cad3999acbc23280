"""WebSocket fan-out: connections held by one embedded server process, and broadcast latency.

One sender and N receivers (100, 500, 1000), all members of one channel. The sender flips its
presence (online <-> in_studio); the hub looks up its channel peers in SQL and queues a
`presence` frame (and a `user_*` frame) for every receiver. Latency = arrival of `presence` at
each receiver - the moment the sender wrote its frame, same clock (clients share one process).
Reports p50 / p99 / max over every (round, receiver) pair, and the server worker's RSS.

The peer, in the same run: a bare flask-sock app on the same gunicorn gevent worker that
re-sends each message inline to every other socket (no auth, no SQL, no queues).

    .venv/bin/python bench/ws.py [--sizes 100,500,1000] [--rounds 30] [--skip-peer]

Clients are greenlets (websocket-client under gevent) in this process; the server runs with the
embedded defaults in a temporary DATA_DIR, HTTP rate limits off. Users are seeded in SQL directly
(password hashing 1000 times would only measure argon2).
"""
from gevent import monkey

monkey.patch_all()  # noqa: E402  the clients are greenlets: a thousand sockets in one process

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import websocket  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.pool import Pool  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess, free_port  # noqa: E402

SECRET = "bench-secret-" + "w" * 40
# The raw-reading clients never answer keepalive pings: keep them out of the run's way.
SERVER_ENV = {"SECRET_KEY": SECRET, "RATE_LIMIT_ENABLED": "false", "WS_PING_INTERVAL_SECONDS": "3600"}


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (the server inherits it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def progress(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


class Seeder:
    """Users, a channel and memberships written straight into the server's SQLite file."""

    def __init__(self, data_dir: Path) -> None:
        from app.auth.passwords import hash_password
        from app.auth.tokens import TokenSigner
        from app.storage.sql import Database

        self.db = Database(f"sqlite:///{data_dir / 'app.db'}")
        self.signer = TokenSigner(SECRET, 3600)
        self.password_hash = hash_password("bench-password-1")

    def users(self, count: int, prefix: str) -> list[tuple[int, str]]:
        """`count` new users as (id, token)."""
        from app.models import User

        rows = [User(username=f"{prefix}{i}", password_hash=self.password_hash, role="user") for i in range(count)]
        with self.db.session() as session:
            session.add_all(rows)
        return [(u.id, self.signer.issue(u.id, "user")) for u in rows]

    def join(self, channel_id: str, owner_id: int, user_ids: list[int]) -> None:
        """Add members (creating the channel first); receivers join once connected, so their own
        `online` announcements do not flood the others while they connect."""
        from app.models import Channel, ChannelMember

        with self.db.session() as session:
            if session.get(Channel, channel_id) is None:
                session.add(Channel(id=channel_id, name="bench", owner_id=owner_id))
                session.flush()
            session.add_all([ChannelMember(channel_id=channel_id, user_id=u) for u in user_ids])


class Receiver:
    """One connection that timestamps the sender's presence frames, scanning raw bytes.

    Server frames are unmasked, so the JSON is on the wire as is: counting a needle per read
    keeps the client's own cost out of the figures (a parsed frame costs ~40 us in Python).
    """

    def __init__(self, url: str, needle: bytes, first_round: int, on_arrival: Callable[[int], None]) -> None:
        self.ws = websocket.create_connection(url, timeout=300)
        while '"system"' not in self.ws.recv():  # registered by the hub, not just upgraded
            pass
        self.needle = needle
        self.first_round = first_round  # its first arrival belongs to this round
        self.arrivals: list[float] = []
        self._on_arrival = on_arrival
        gevent.spawn(self._read)

    def _read(self) -> None:
        tail = b""
        while True:
            try:
                chunk = self.ws.sock.recv(65536)
            except Exception:
                return
            if not chunk:
                return
            now = time.perf_counter()
            data = tail + chunk
            tail = data[-(len(self.needle) - 1):]  # a needle split across reads is found next time
            for _ in range(data.count(self.needle)):
                self.arrivals.append(now)
                self._on_arrival(self.first_round + len(self.arrivals) - 1)


class Fanout:
    """The sender, its receivers and the rounds."""

    def __init__(self, sender_url: str, send_text: Callable[[int], str]) -> None:
        self.sender = websocket.create_connection(sender_url, timeout=300)
        gevent.spawn(_drain, self.sender)
        self.send_text = send_text
        self.receivers: list[Receiver] = []
        self.sent: list[float] = []
        self.counts: dict[int, int] = {}
        self.done: dict[int, Event] = {}

    def arrived(self, round_no: int) -> None:
        """Count one arrival; the round is complete when every receiver has it."""
        self.counts[round_no] = self.counts.get(round_no, 0) + 1
        if self.counts[round_no] >= len(self.receivers) and round_no in self.done:
            self.done[round_no].set()

    def connect(self, urls: list[str], sender_id: int) -> None:
        """Open receivers, 50 handshakes at a time."""
        needle = b'{"type":"presence","payload":{"user_id":%d,' % sender_id
        first_round = len(self.sent)
        opened = Pool(50).imap_unordered(lambda u: Receiver(u, needle, first_round, self.arrived), urls)
        self.receivers.extend(opened)

    def close(self) -> None:
        """Close every client socket (a server drains open sockets before it exits)."""
        for ws in [self.sender] + [r.ws for r in self.receivers]:
            try:
                ws.sock.close()
            except Exception:
                pass

    def rounds(self, count: int) -> list[float]:
        """Run `count` rounds (after one warm-up) and return every latency in ms."""
        first = len(self.sent)
        for offset in range(count + 1):
            round_no = len(self.sent)
            self.done[round_no] = Event()
            self.sent.append(time.perf_counter())
            self.sender.send(self.send_text(round_no))
            if not self.done[round_no].wait(timeout=20):
                progress(f"round {round_no}: {self.counts.get(round_no, 0)} of {len(self.receivers)} arrived")
            gevent.sleep(0.05)
        latencies = []
        for receiver in self.receivers:
            for r in range(first + 1, len(self.sent)):
                index = r - receiver.first_round
                if 0 <= index < len(receiver.arrivals):
                    latencies.append((receiver.arrivals[index] - self.sent[r]) * 1000)
        return latencies


def _drain(ws: websocket.WebSocket) -> None:
    try:
        while True:
            ws.recv()
    except Exception:
        return


def worker_rss_mb(master_pid: int) -> float:
    """Resident memory of the server's worker process (the master's child)."""
    try:
        child = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()[0]
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, IndexError):
        pass
    return float("nan")


def run_hub(sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    """Our server: receivers join the channel in steps, then the sender flips its presence."""
    server = ServerProcess(Path(tempfile.mkdtemp(prefix="bench-ws-")), env=SERVER_ENV).start()
    try:
        seeder = Seeder(server.data_dir)
        (sender_id, sender_token), = seeder.users(1, "sender")
        seeder.join("benchfanout1", sender_id, [sender_id])
        users = seeder.users(max(sizes), "rcv")
        statuses = ("in_studio", "online")
        bench = Fanout(f"{server.ws_url}?token={sender_token}", lambda r: json.dumps(
            {"type": "presence", "payload": {"status": statuses[r % 2]}}))
        rows = []
        for size in sizes:
            new = users[len(bench.receivers):size]
            bench.connect([f"{server.ws_url}?token={token}" for _, token in new], sender_id)
            gevent.sleep(1.0)  # let the last connections' own presence settle before they are peers
            seeder.join("benchfanout1", sender_id, [uid for uid, _ in new])
            progress(f"hub: {len(bench.receivers)} receivers connected and in the channel")
            latencies = bench.rounds(rounds)
            rows.append(_row("hub", size, rounds, latencies, worker_rss_mb(server.proc.pid)))
        bench.close()
        return rows
    finally:
        server.stop()


def run_peer(sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    """The bare flask-sock broadcaster on the same worker class."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-peer", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"ws://127.0.0.1:{port}/ws"
        bench = Fanout(url, lambda r: json.dumps(
            {"type": "presence", "payload": {"user_id": 0, "r": r}}, separators=(",", ":")))
        rows = []
        for size in sizes:
            bench.connect([url] * (size - len(bench.receivers)), 0)
            progress(f"peer: {len(bench.receivers)} receivers connected")
            rows.append(_row("bare flask-sock", size, rounds, bench.rounds(rounds), worker_rss_mb(proc.pid)))
        bench.close()
        return rows
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_http(url: str) -> None:
    for _ in range(200):
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def _row(name: str, size: int, rounds: int, latencies: list[float], rss_mb: float) -> dict[str, Any]:
    expected = size * rounds
    return {"server": name, "receivers": size, "samples": len(latencies), "missing": expected - len(latencies),
            "p50": percentile(latencies, 0.5) if latencies else float("nan"),
            "p99": percentile(latencies, 0.99) if latencies else float("nan"),
            "max": max(latencies, default=float("nan")), "rss_mb": rss_mb}


def serve_peer(port: int) -> None:
    """The peer: every message is re-sent inline, by the receiving greenlet, to all other sockets."""
    from flask import Flask
    from flask_sock import Sock
    from gunicorn.app.base import BaseApplication

    app, sock, sockets = Flask("peer"), Sock(), set()
    app.get("/healthz")(lambda: "ok")

    @sock.route("/ws", bp=None)
    def relay(ws: Any) -> None:
        sockets.add(ws)
        ws.send('{"type":"system","payload":{"message":"connected"}}')
        try:
            while True:
                text = ws.receive()
                for other in list(sockets):
                    if other is not ws:
                        try:
                            other.send(text)
                        except Exception:
                            sockets.discard(other)
        finally:
            sockets.discard(ws)

    sock.init_app(app)

    class Peer(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gevent",
                               "worker_connections": 4000, "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Peer().run()


def main() -> None:
    """Parse arguments, run both servers and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--serve-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        return serve_peer(args.serve_peer)
    limit = raise_fd_limit()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = run_hub(sizes, args.rounds) + ([] if args.skip_peer else run_peer(sizes, args.rounds))
    print(f"\nfan-out latency, one sender -> N receivers ({args.rounds} rounds each; open files limit {limit})")
    print(f"{'server':<16}{'receivers':>10}{'samples':>9}{'missing':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'worker RSS MB':>15}")
    for r in rows:
        print(f"{r['server']:<16}{r['receivers']:>10}{r['samples']:>9}{r['missing']:>9}{r['p50']:>9.1f}"
              f"{r['p99']:>9.1f}{r['max']:>9.1f}{r['rss_mb']:>15.0f}")


if __name__ == "__main__":
    main()
