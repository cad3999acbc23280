"""Rate limits in-process (real SQLite, chDB and flask-limiter; the test client as the network)."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from flask import Flask

from app.config import ConfigError
from tests.support.server import free_port

UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def hits(app: Flask, expected: int, timeout: float = 20.0) -> list[tuple[Any, ...]]:
    """Wait for the off-path writer to land `expected` rows in `rate_limit_hits`."""
    analytics = app.extensions["services"].analytics
    deadline = time.monotonic() + timeout
    while True:
        rows = analytics.query("SELECT limit_name, route, method, key_kind, key_hash FROM rate_limit_hits "
                               "ORDER BY ts")
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_every_refused_request_lands_in_clickhouse(make_app: Callable[..., Flask]) -> None:
    app = make_app(rate_limit_auth="1/minute", rate_limit_errors_batch="1/minute")
    client = app.test_client()
    signup = client.post("/api/v1/auth/register", json={"username": "hitter", "password": "s3cret-pass"})
    assert signup.status_code == 201
    auth = {"Authorization": f"Bearer {signup.get_json()['token']}"}
    assert client.post("/api/v1/auth/login", json={"username": "hitter", "password": "x" * 10}).status_code == 429
    batch = {"errors": [{"source": "UI", "severity": "Info", "message": "m"}]}
    assert client.post("/api/v1/errors/batch", json=batch, headers=auth).status_code == 200
    assert client.post("/api/v1/errors/batch", json=batch, headers=auth).status_code == 429
    recorder = app.extensions["services"].extra["rate_limit_recorder"]
    user_id = signup.get_json()["user"]["id"]
    assert hits(app, 2) == [
        ("auth", "/api/v1/auth/login", "POST", "ip", recorder.key_hash("127.0.0.1")),
        ("errors_batch", "/api/v1/errors/batch", "POST", "user", recorder.key_hash(str(user_id))),
    ]
    assert recorder.key_hash("127.0.0.1") != "127.0.0.1" and len(recorder.key_hash("x")) == 16


def test_health_dashboard_and_websocket_have_budgets_of_their_own(make_app: Callable[..., Flask]) -> None:
    app = make_app(rate_limit_default="2/minute", rate_limit_dashboard="2/minute",
                   rate_limit_ws_upgrade="1/minute", rate_limit_health="2/minute")
    client = app.test_client()
    assert [client.get("/api/v1/openapi.json").status_code for _ in range(3)] == [200, 200, 429]
    # The dashboard's login gate answers after the limit is counted, never instead of it.
    dashboard = [client.get(path) for path in ("/dashboard/", "/dashboard/_dash-layout", "/dashboard/")]
    assert [r.status_code == 429 for r in dashboard] == [False, False, True]
    assert dashboard[-1].get_json()["error"]["details"]["limit"] == "dashboard"
    upgrades = [client.get("/ws", headers=UPGRADE) for _ in range(2)]
    assert [r.status_code == 429 for r in upgrades] == [False, True]
    assert upgrades[1].headers["RateLimit-Policy"] == '"ws_upgrade";q=1;w=60'
    health = [client.get("/healthz") for _ in range(3)]
    assert [r.status_code for r in health] == [200, 200, 429]
    assert "Retry-After" not in health[0].headers and int(health[2].headers["Retry-After"]) >= 1


def test_a_proxy_hop_count_takes_the_address_the_proxy_appended(make_app: Callable[..., Flask]) -> None:
    app = make_app(trusted_proxies=("1",), rate_limit_default="1/minute")
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.1.1.1"}

    def status(forwarded: str | None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return client.get("/api/v1/openapi.json", headers=headers, environ_base=proxy).status_code

    assert status("6.6.6.6, 203.0.113.9") == 200
    assert status("7.7.7.7, 203.0.113.9") == 429  # the spoofable left part is not the client
    assert status("203.0.113.10") == 200
    assert status(None) == 200  # no header: the proxy itself is the client


def test_a_closed_failure_mode_refuses_while_redis_is_unreachable(make_app: Callable[..., Flask]) -> None:
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_storage_failure="closed")
    client = app.test_client()
    refused = client.get("/api/v1/openapi.json")
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "rate_limit_unavailable"
    assert refused.headers["Retry-After"] == "5" and "X-RateLimit-Limit" not in refused.headers
    assert client.get("/healthz").status_code == 200  # health is counted in process memory


def test_limits_can_be_switched_off(make_app: Callable[..., Flask]) -> None:
    client = make_app(rate_limit_enabled=False, rate_limit_default="1/minute").test_client()
    responses = [client.get("/api/v1/openapi.json") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert not any(h.startswith(("X-RateLimit", "RateLimit")) for h in responses[-1].headers.keys())


@pytest.mark.parametrize("overrides", [
    {"rate_limit_default": "lots"}, {"rate_limit_auth": ""}, {"rate_limit_storage_failure": "maybe"},
    {"trusted_proxies": ("10.0.0.1", "not-an-address")},
])
def test_bad_limit_settings_stop_start_up(make_app: Callable[..., Flask], overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make_app(**overrides)
