"""The door of `/ws`: bad tokens never get a session, good ones do; re-auth on a live connection."""
from typing import Callable

import pytest

from tests.support.hub import WsClient, refusal
from tests.support.api import Account, Api
from tests.support.server import ServerProcess
from tests.support.tokens import bad_tokens


@pytest.mark.parametrize("case", ["missing", "forged", "alg_none", "expired", "unknown_user", "garbage"])
def test_bad_tokens_are_refused_before_the_upgrade(server: ServerProcess, api: Api, case: str) -> None:
    user = api.register()
    token = bad_tokens(user.id)[case]
    url = server.ws_url if token is None else f"{server.ws_url}?token={token}"
    status, body = refusal(url)
    assert status == 401
    assert body["error"]["code"] == "invalid_token"
    if token is not None:
        status, body = refusal(server.ws_url, header={"Authorization": f"Bearer {token}"})
        assert status == 401 and body["error"]["code"] == "invalid_token"


def test_query_token_and_bearer_header_both_open_a_session(server: ServerProcess, api: Api) -> None:
    user = api.register()
    by_query = WsClient(server.ws_url, user.token)
    assert by_query.hello["payload"]["message"] == "connected"
    assert by_query.hello["payload"]["user_id"] == user.id
    assert isinstance(by_query.hello["timestamp"], int) and by_query.hello["timestamp"] > 1_600_000_000_000
    import websocket

    by_header = websocket.create_connection(server.ws_url, header={"Authorization": f"Bearer {user.token}"},
                                            timeout=15)
    assert '"connected"' in by_header.recv()
    by_header.close()
    by_query.close()


def test_auth_frame_refreshes_the_token_of_the_same_user_only(server: ServerProcess, api: Api) -> None:
    user, other = api.register(), api.register()
    client = WsClient(server.ws_url, user.token)
    fresh = api.login(user.username, user.password)
    client.send("auth", {"token": fresh.token})
    assert client.wait_for("system", message="authenticated")["payload"]["expires_at_ms"] > 0
    client.send("auth", {"token": bad_tokens(user.id)["forged"]})
    assert client.wait_for("error")["payload"]["code"] == "invalid_token"
    client.send("auth", {"token": other.token})
    assert client.wait_for("error")["payload"]["code"] == "forbidden"
    client.send("auth", {})
    assert client.wait_for("error")["payload"]["code"] == "invalid_payload"
    client.roundtrip()  # still open and usable
    client.close()


def test_metrics_are_for_support_and_admin(server: ServerProcess, api: Api,
                                           staff: Callable[[str], Account]) -> None:
    user = api.register()
    client = WsClient(server.ws_url, user.token)
    client.roundtrip()
    assert api.get("/api/v1/websocket/metrics").status_code == 401
    denied = api.get("/api/v1/websocket/metrics", user)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    for role in ("support", "admin"):
        resp = api.get("/api/v1/websocket/metrics", staff(role))
        assert resp.status_code == 200
        body = resp.json()
        assert body["connections"] >= 1 and body["users_online"] >= 1
        assert body["frames_in"]["ping"] >= 1 and body["frames_out"]["pong"] >= 1
        assert body["frames_out"]["system"] >= 1
        assert body["connections_refused"].get("invalid_token", 0) >= 0
        for key in ("frames_dropped", "frames_rejected", "connections_opened", "connections_closed"):
            assert key in body
    client.close()
