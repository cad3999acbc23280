"""A write to a peer that vanished (EPIPE) ends that connection and nothing else.

Before, the inline write raised out of `enqueue`: a fan-out stopped at the dead connection, so
the connections after it missed the frame (a presence change, or a batch of revisions and
their acks, with the editors waiting for those acks stuck). Real sockets: a Unix socket pair
whose client end is closed fails the server end's next write with EPIPE, every time.
"""
from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from app.documents.delivery import deliver
from app.documents.ids import DocumentId
from app.documents.live import LiveDocument, Revision, Subscriber
from app.documents.store import StoredOperation
from app.realtime.connection import Connection
from app.realtime.counters import Counters
from app.realtime.serialized_socket import SerializedSocket
from tests.support.hub import eventually


def _connection(conn_id: str) -> tuple[Connection, socket.socket]:
    """A started Connection over the server end of a socket pair; the client end is returned."""
    server_end, client_end = socket.socketpair()
    ws = SimpleNamespace(sock=SerializedSocket(server_end), connected=True, pong_received=False,
                         close_reason=None, close_message=None, close=lambda **_kw: None)
    counters = Counters(plain=("frames_dropped",), labelled=("frames_out",))
    conn = Connection(ws, SimpleNamespace(id=7), conn_id, counters, queue_size=100,
                      token_expires_at=0, max_message_bytes=1 << 20)
    conn.start()
    return conn, client_end


def _vanished(conn_id: str) -> Connection:
    conn, client_end = _connection(conn_id)
    client_end.close()
    return conn


def _read_until(sock: socket.socket, marker: bytes) -> str:
    """What the server end wrote, up to and including `marker` (5 s at most)."""
    sock.settimeout(5)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


def test_a_write_to_a_vanished_peer_ends_that_connection_without_raising() -> None:
    conn = _vanished("gone")

    conn.enqueue(b"\x81\x02hi", "operation")  # EPIPE inline: handed to the writer, not raised

    eventually(lambda: conn.closing, what="the vanished peer's connection closing")
    assert conn.close_label == "connection_lost"
    assert conn.enqueue(b"\x81\x02hi", "operation") is False  # later frames are dropped


@pytest.mark.parametrize("dead_first", [True, False])
def test_document_fan_out_reaches_the_live_subscriber_past_a_vanished_one(dead_first: bool) -> None:
    gone = _vanished("gone")
    live, live_client = _connection("live")
    doc = LiveDocument(DocumentId("abc", "description"))
    order = [gone, live] if dead_first else [live, gone]
    for conn in order:
        doc.subscribers[conn.conn_id] = Subscriber(conn, 7, 0)
    stored = [StoredOperation(n, f"op{n}", 1, 7, {"type": "Insert", "client_id": 1, "position": 0, "content": "x"}, 1000 + n)
              for n in (1, 2, 3)]
    revisions = [Revision.parse(op) for op in stored]
    origins = {2: live, 3: gone}  # the live connection sent revision 2, the vanished one 3

    deliver(doc, revisions, origins)

    text = _read_until(live_client, b'"op3"')
    assert text.count('"type":"operation"') == 2 and text.count('"type":"operation_ack"') == 1
    assert text.index('"op1"') < text.index('"op2"') < text.index('"op3"')
    assert doc.subscribers["gone"].sent_revision == 3 and doc.subscribers["live"].sent_revision == 3
    eventually(lambda: gone.closing, what="the vanished peer's connection closing")
    assert not live.closing
    live.close()
    live_client.close()
