"""Two app instances on a throw-away PostgreSQL and Redis of their own: each store is killed and
restarted under them, and the instances recover by themselves (same worker process, no restart):
HTTP succeeds again, and edits and events fan out across instances again.

The machine's shared PostgreSQL and Redis are never touched: this module starts its own.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import pytest

from ot import Insert
from tests.reliability.frames import WsClient, insert
from tests.reliability.servers import LiveServer, PostgresCluster, RedisServer, server_log_problems
from tests.support.api import Account, Api, unique_name
from tests.support.ot_client import Editor
from tests.support.server import GENEROUS_LIMITS
from tests.support.services import cli_create_user, data_dir_env
from tests.support.tokens import SERVER_SECRET

RECOVERY_SECONDS = 45.0
_posts = itertools.count(1)


class Cluster:
    """Two instances (`a`, `b`) sharing one PostgreSQL database and one Redis."""

    def __init__(self, root: Path) -> None:
        self.pg = PostgresCluster().init()
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE app")
        self.redis = RedisServer().start()
        self.env = {**GENEROUS_LIMITS, "DATABASE_URL": self.pg.url.rsplit("/", 1)[0] + "/app",
                    "REDIS_URL": self.redis.url, "REDIS_PREFIX": "rel", "SECRET_KEY": SERVER_SECRET}
        self.a = LiveServer(root / "a", env=self.env).start_until()  # migrates the shared database first
        self.b = LiveServer(root / "b", env=self.env).start_until()
        self.workers = (self.a.worker_pid(), self.b.worker_pid())
        self.api_a, self.api_b = Api(self.a.url), Api(self.b.url)

    def admin(self) -> Account:
        """An admin made through the CLI against the shared database."""
        name = unique_name("clusteradmin")
        cli_create_user(data_dir_env(self.a.data_dir, **self.env), name, "staff-pass-123", "admin")
        return self.api_a.login(name, "staff-pass-123")

    def close(self) -> None:
        for server in (self.a, self.b):
            server.stop()
        self.redis.stop()
        self.pg.remove()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    made = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield made
    finally:
        made.close()


def eventually(check: Callable[[], Any], timeout: float = RECOVERY_SECONDS, what: str = "recovery") -> Any:
    """Retry `check` until it returns a truthy value without raising; AssertionError after `timeout`."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the store is still coming back
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout}s (last: {last!r})")


def _pair(cluster: Cluster) -> tuple[Account, Account, str, Editor, Editor]:
    alice, bob = cluster.api_a.register("alice"), cluster.api_a.register("bob")
    channel = cluster.api_a.post("/api/v1/channels", alice, json={"name": "shared"}).json()
    cluster.api_a.post(f"/api/v1/channels/{channel['id']}/members", alice, json={"user_id": bob.id})
    doc = f"channel:{channel['id']}:take"
    return (alice, bob, doc, Editor(cluster.a.ws_url, alice.token, doc, 1).connect(),
            Editor(cluster.b.ws_url, bob.token, doc, 2).connect())


def _edit_reaches(writer: Editor, reader: Editor, text: str, timeout: float = 5.0) -> bool:
    """`writer` types `text`; True once `reader` (on the other instance) has it too."""
    writer.edit(Insert(len(writer.client.content), text, writer.client.client_id))
    writer.settle(20)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and text not in reader.client.content:
        reader.receive(0.2)
    return text in reader.client.content


def _event_reaches(cluster: Cluster, admin: Account, listener: WsClient, user_id: int) -> bool:
    """An event published on instance a reaches `listener` on instance b (via the Redis relay)."""
    post = f"p{next(_posts)}"
    body = {"type": "new_post", "to": {"user_ids": [user_id]}, "payload": {"post_id": post, "author_id": 1}}
    assert cluster.api_a.post("/api/v1/events", admin, json=body).status_code == 200
    try:
        listener.wait_for(lambda f: f["type"] == "new_post" and f["payload"]["post_id"] == post, timeout=2)
        return True
    except AssertionError:
        return False


def _converged(cluster: Cluster, owner: Account, doc: str, *editors: Editor) -> None:
    for editor in editors:
        editor.drain(0.3)
    heads = [api.get(f"/api/v1/documents/{doc}", owner).json() for api in (cluster.api_a, cluster.api_b)]
    assert heads[0] == heads[1]
    assert all(editor.client.content == heads[0]["content"] for editor in editors)


def _same_workers(cluster: Cluster) -> None:
    assert (cluster.a.worker_pid(), cluster.b.worker_pid()) == cluster.workers, "an instance restarted"
    for server in (cluster.a, cluster.b):
        assert server_log_problems(server.log_path) == []


def test_redis_restart_fan_out_resumes(cluster: Cluster) -> None:
    admin = cluster.admin()
    alice, bob, doc, writer, reader = _pair(cluster)
    listener = WsClient(cluster.b.ws_url, bob.token)
    assert _edit_reaches(writer, reader, "before ") and _event_reaches(cluster, admin, listener, bob.id)

    cluster.redis.stop()  # kill -9: every subscriber connection drops
    for api in (cluster.api_a, cluster.api_b):
        assert api.get("/api/v1/auth/me", alice).status_code == 200  # limits fail open, SQL unaffected
    writer.edit(Insert(len(writer.client.content), "during ", 1))
    writer.settle(20)  # stored in PostgreSQL; its fan-out to b is lost with Redis
    cluster.redis = RedisServer(port=cluster.redis.port).start()  # empty, as after a crash

    eventually(lambda: _edit_reaches(writer, reader, f"after{time.monotonic():.0f} ", timeout=2),
               what="document fan-out")
    assert "during " in reader.client.content  # the gap was read back from PostgreSQL, in order
    eventually(lambda: _event_reaches(cluster, admin, listener, bob.id), what="event fan-out")
    _converged(cluster, alice, doc, writer, reader)
    _same_workers(cluster)
    for client in (writer, reader, listener):
        client.close()


def test_postgres_restart_instances_recover(cluster: Cluster) -> None:
    alice, bob, doc, writer, reader = _pair(cluster)
    assert _edit_reaches(writer, reader, "before ")
    prober = WsClient(cluster.a.ws_url, alice.token)

    cluster.pg.stop("immediate")  # every pooled connection is now dead
    for api in (cluster.api_a, cluster.api_b):
        down = api.get("/api/v1/auth/me", alice)
        assert down.status_code == 503 and down.headers["Retry-After"].isdigit(), down.text
        assert api.get("/healthz").status_code == 200
    prober.send("operation", insert(doc, 1, 0, "lost? ", 9, "probe-1"))
    assert prober.of_type("error")["payload"]["code"] in ("service_unavailable", "not_a_member")
    prober.ping("alive while PostgreSQL is down")
    cluster.pg.start()

    for api in (cluster.api_a, cluster.api_b):
        eventually(lambda api=api: api.get("/api/v1/auth/me", alice).status_code == 200, what="HTTP")
        eventually(lambda api=api: api.get("/readyz").status_code == 200, what="readiness")
    created = cluster.api_b.post("/api/v1/channels", bob, json={"name": "after the restart"})
    assert created.status_code == 201
    eventually(lambda: _edit_reaches(writer, reader, f"after{time.monotonic():.0f} ", timeout=2),
               what="edits across instances")
    _converged(cluster, alice, doc, writer, reader)
    assert "lost? " not in reader.client.content  # refused while down, never applied later
    _same_workers(cluster)
    for client in (writer, reader, prober):
        client.close()
