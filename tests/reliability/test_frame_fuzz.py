"""Random and malformed WebSocket frames (hypothesis) against a real server.

Every frame is followed by a `ping` with a fresh marker: its `pong` proves the connection is still
served. Frames that cannot be valid must be answered by an `error` frame before that pong;
operations that cannot fit the document are refused and the document's text and revision stay
exactly as they were. No frame may crash a handler (`internal_error`) or close the connection,
except a frame over the hard cap (16x the limit), which is closed with 1009 by design.
"""
from __future__ import annotations

import itertools
import json
import os
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.frames import RESET, Frame, WsClient, insert
from tests.reliability.servers import server_log_problems
from tests.support.api import Account, Api
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.tokens import SERVER_SECRET

TEXT = "hello wörld 😀 ok"
FRAME_LIMIT = 64 * 1024
KNOWN = ("ping", "presence", "auth", "subscribe", "unsubscribe", "operation", "playback_started", "playback_stopped")
# CI: 100 seeded examples per test; FRAME_FUZZ_EXAMPLES=5000 for a long, randomised run.
LONG_RUN = int(os.environ.get("FRAME_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=LONG_RUN or 100, deadline=None, derandomize=not LONG_RUN, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_markers = itertools.count()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server without the per-connection frame budget, so every frame is judged on its content."""
    env = {"SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS, "WS_FRAMES_PER_SECOND": "100000",
           "WS_FRAME_BURST": "100000"}
    proc = ServerProcess(tmp_path_factory.mktemp("framefuzz"), env=env).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def editor_account(fuzz_server: ServerProcess) -> Account:
    return Api(fuzz_server.url).register("fuzzer")


@pytest.fixture(scope="module")
def document(fuzz_server: ServerProcess, editor_account: Account) -> tuple[str, int]:
    """A document holding TEXT (typed by another connection); returns its id and revision."""
    api = Api(fuzz_server.url)
    channel = api.post("/api/v1/channels", editor_account, json={"name": "fuzz"}).json()
    doc = f"channel:{channel['id']}:target"
    writer = WsClient(fuzz_server.ws_url, editor_account.token)
    writer.send("subscribe", {"documentId": doc})
    writer.of_type("snapshot")
    writer.send("operation", insert(doc, 0, 0, TEXT, 1, "seed-1"))
    revision = writer.of_type("operation_ack")["payload"]["revision"]
    writer.close()
    return doc, revision


class Session:
    """The one fuzzing connection, subscribed to the document, and any reply it must never get."""

    def __init__(self, server: ServerProcess, account: Account, doc: str) -> None:
        self.client = WsClient(server.ws_url, account.token)
        self.client.send("subscribe", {"documentId": doc})
        self.client.of_type("snapshot")
        self.bad_replies: list[Frame] = []

    def exchange(self, data: str | bytes) -> list[Frame]:
        """Send `data`, then a ping; the frames that came back before its pong."""
        marker = f"m{next(_markers)}"
        seen = len(self.client.frames)
        self.client.send_raw(data)
        self.client.ping(marker)
        replies = self.client.frames[seen:-1]
        self.bad_replies += [f for f in replies if f["type"] in ("operation_ack", "operation")
                             or f["payload"].get("code") == "internal_error"]
        return replies


@pytest.fixture(scope="module")
def session(fuzz_server: ServerProcess, editor_account: Account, document: tuple[str, int]) -> Iterator[Session]:
    made = Session(fuzz_server, editor_account, document[0])
    yield made
    made.client.close()


def cannot_be_valid(data: str | bytes) -> bool:
    """True when no handler could accept this frame: not a JSON object with a known type and an object payload."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return True
    if not isinstance(obj, dict) or obj.get("type") not in KNOWN:
        return True
    return not isinstance(obj.get("payload", {}), (dict, type(None)))


def _errors(replies: list[Frame]) -> list[Frame]:
    return [f for f in replies if f["type"] == "error"]


raw_frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"type": json_values | st.sampled_from(KNOWN) | st.text(max_size=70),
                           "payload": json_values}).map(json.dumps),
    st.sampled_from(["{", "[]", "null", '"ping"', '{"type": null}', '{"payload": {}}', '{"type": "PING"}',
                     '{"type": "ping", "payload": []}', '"\\ud800"', '{"type": "\\ud800"}', "\x00" * 10]),
)


@given(data=raw_frames)
@FUZZ
def test_random_frames_get_error_frames_and_the_connection_stays(session: Session, data: str | bytes) -> None:
    replies = session.exchange(data)
    if cannot_be_valid(data):
        assert _errors(replies), (data, replies)
    assert session.bad_replies == [], session.bad_replies


def _operation_payloads(doc: str, revision: int) -> st.SearchStrategy[dict[str, Any]]:
    """Operation payloads that look right but cannot fit the document at `revision`."""
    length = len(TEXT)
    op = {"clientId": st.just(77), "opId": st.text(min_size=1, max_size=20)}
    outside = st.integers(length + 1, 2**70) | st.integers(-(2**70), -1)
    out_of_range = st.fixed_dictionaries({"type": st.just("Insert"), "position": outside,
                                          "content": st.text(min_size=1, max_size=8), **op})
    past_the_end = st.builds(lambda p, n: {"type": "Delete", "position": p, "content": "x" * n, "clientId": 77},
                             st.integers(0, length), st.integers(length + 1, 64))
    wrong_text = st.integers(0, length - 1).flatmap(lambda p: st.fixed_dictionaries({
        "type": st.just("Delete"), "position": st.just(p),
        "content": st.text(min_size=1, max_size=4).filter(lambda c, p=p: TEXT[p:p + len(c)] != c), **op}))
    wrong_types = st.fixed_dictionaries({
        "type": st.sampled_from(["Insert", "Delete", "insert", "Retain", "", None, 1]),
        "position": st.sampled_from(["3", 3.5, None, True, [1], {}]),
        "content": st.sampled_from([7, None, ["a"], {"a": 1}, True]),
        "clientId": st.sampled_from(["77", 7.5, None, True, 2**64]), "opId": json_values},
        optional={"extra": json_values})
    empty = st.fixed_dictionaries({"type": st.sampled_from(["Insert", "Delete"]), "position": st.integers(0, length),
                                   "content": st.just(""), **op})
    surrogate = st.fixed_dictionaries({"type": st.just("Insert"), "position": st.integers(0, length),
                                       "content": st.just("a\ud800b"), **op})
    operation = st.one_of(out_of_range, past_the_end, wrong_text, wrong_types, empty, surrogate)
    ahead = st.integers(revision + 1, 2**40)
    bad_revision = st.sampled_from([-1, "1", 1.0, True, None, [revision]])
    return st.one_of(
        st.builds(lambda o: {"documentId": doc, "revision": revision, "operation": o}, operation),
        st.builds(lambda o: {"documentId": doc, "operation": o}, operation),
        st.builds(lambda r, p: {"documentId": doc, "revision": r,
                                "operation": {"type": "Insert", "position": p, "content": "z", "clientId": 5}},
                  ahead, st.integers(0, length)),
        st.builds(lambda r: {"documentId": doc, "revision": r,
                             "operation": {"type": "Insert", "position": 0, "content": "z", "clientId": 5}},
                  bad_revision.filter(lambda r: r is not None)),
        st.builds(lambda d: {"documentId": d, "revision": revision,
                             "operation": {"type": "Insert", "position": 0, "content": "z", "clientId": 5}},
                  json_values.filter(lambda d: d != doc) | st.just("channel:nope:x") | st.just(doc + "x" * 70)),
    )


@pytest.fixture(scope="module")
def operations(document: tuple[str, int]) -> st.SearchStrategy[dict[str, Any]]:
    return _operation_payloads(*document)


@given(data=st.data())
@FUZZ
def test_operations_that_do_not_fit_change_nothing(session: Session, operations: st.SearchStrategy[dict[str, Any]],
                                                   data: st.DataObject) -> None:
    payload = data.draw(operations)
    replies = session.exchange(json.dumps({"type": "operation", "payload": payload}))
    assert _errors(replies), (payload, replies)
    assert session.bad_replies == [], session.bad_replies


def test_the_document_is_untouched_and_the_server_healthy(session: Session, fuzz_server: ServerProcess,
                                                          editor_account: Account, document: tuple[str, int]) -> None:
    """Runs after the fuzz tests above (file order): nothing they sent changed the document."""
    doc, revision = document
    api = Api(fuzz_server.url)
    head = api.get(f"/api/v1/documents/{doc}", editor_account).json()
    assert (head["content"], head["revision"]) == (TEXT, revision)
    history = api.get(f"/api/v1/documents/{doc}/operations?from_revision=0", editor_account).json()["operations"]
    assert [item["op_id"] for item in history] == ["seed-1"]
    assert session.client.closed_with is None
    session.client.ping("still here")
    assert server_log_problems(fuzz_server.log_path) == []


def test_oversized_frames(fuzz_server: ServerProcess, editor_account: Account) -> None:
    """Over the limit: an error frame. Over the hard cap (16x): closed with 1009, and others unaffected."""
    client, bystander = (WsClient(fuzz_server.ws_url, editor_account.token) for _ in range(2))
    for size in (FRAME_LIMIT + 1, 4 * FRAME_LIMIT, 16 * FRAME_LIMIT - 100):
        client.send_raw(json.dumps({"type": "ping", "payload": {"pad": "x" * size}}))
        assert client.of_type("error")["payload"]["code"] == "frame_too_large"
    client.send_raw(b"\x00" * (2 * FRAME_LIMIT))
    assert client.of_type("error")["payload"]["code"] == "frame_too_large"
    client.ping("after large frames")
    try:
        client.send_raw("x" * (17 * FRAME_LIMIT))
    except ConnectionError:
        pass  # the server may cut the socket while the frame is still being written
    assert client.receive(15) is None and client.closed_with in (1009, RESET)
    bystander.ping("unaffected")
    WsClient(fuzz_server.ws_url, editor_account.token).ping("new connections welcome")
    bystander.close()
