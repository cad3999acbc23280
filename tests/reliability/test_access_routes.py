"""Every route against every refused token, the wrong roles and the right ones (tests/reliability/access_table.py).

The route list comes from the app's own URL map: a route added without a row in the table fails
`test_every_route_is_in_the_table`, so nothing new slips past these checks.
"""
from __future__ import annotations

from typing import Callable

import pytest
import requests
import websocket
from flask import Flask

from tests.reliability.access_table import (
    DASHBOARD,
    PUBLIC,
    ROUTES,
    SENTRY_KEY,
    Access,
    concrete_path,
    denied_roles,
    refused_tokens,
    role_claim_escalation,
)
from tests.support.api import Account, Api
from tests.support.server import ServerProcess

AccountOf = Callable[[str], Account]


def _routes_of(app: Flask) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_table(make_app: Callable[..., Flask]) -> None:
    routes = _routes_of(make_app())
    assert routes - set(ROUTES) == set(), "routes without an access row: add them to access_table.ROUTES"
    assert set(ROUTES) - routes == set(), "rows for routes that no longer exist"


@pytest.fixture(scope="module")
def accounts(own_api: Api, own_staff: AccountOf) -> AccountOf:
    """One account per role on the module's server (plain users signed up through the API)."""
    cache: dict[str, Account] = {"user": own_api.register("accessuser")}

    def get(role: str) -> Account:
        if role not in cache:
            cache[role] = own_staff(role)
        return cache[role]

    return get


def _call(server: ServerProcess, method: str, path: str, token: str | None,
          extra: dict[str, str] | None = None) -> requests.Response:
    headers = dict(extra or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, server.url + path, headers=headers, timeout=30, allow_redirects=False)


def _ws_status(server: ServerProcess, token: str | None) -> int:
    """The handshake's status: 101 when upgraded (then closed at once), else the refusal."""
    url = server.ws_url + (f"?token={token}" if token is not None else "")
    try:
        websocket.create_connection(url, timeout=15).close()
        return 101
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code


def _status(server: ServerProcess, rule: str, method: str, token: str | None) -> tuple[int, dict]:
    if rule == "/ws":
        return _ws_status(server, token), {}
    resp = _call(server, method, concrete_path(rule), token)
    is_json = resp.headers.get("Content-Type", "").startswith("application/json")
    return resp.status_code, resp.json() if is_json else {}


def _assert_refused(access: Access, status: int, body: dict, label: str, missing: bool) -> None:
    if access.who == DASHBOARD and missing:
        assert status == (302 if access.page else 401), label  # no session: sign in first
    elif access.who == DASHBOARD or access.who not in (PUBLIC, SENTRY_KEY):
        assert status == 401, label
        assert body == {} or body["error"]["code"] in ("invalid_token", "login_required"), (label, body)
    elif access.who == SENTRY_KEY:
        assert status == 401 and body["error"]["code"] == "missing_key", (label, body)
    else:
        assert status not in (401, 403) and status < 500, label


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[1]} {r[0]}")
def test_route_access(route: tuple[str, str], own_server: ServerProcess, accounts: AccountOf) -> None:
    rule, method = route
    access = ROUTES[route]
    user = accounts("user")
    for name, token in refused_tokens(user.id).items():
        status, body = _status(own_server, rule, method, token)
        _assert_refused(access, status, body, f"{method} {rule} with {name}: {status}", not token)
    for role in denied_roles(access.who):
        status, body = _status(own_server, rule, method, accounts(role).token)
        assert status == 403 and body["error"]["code"] in ("forbidden", "csrf_failed"), (role, status, body)
    if denied_roles(access.who) and "user" in denied_roles(access.who):
        status, _ = _status(own_server, rule, method, role_claim_escalation(user.id))
        assert status == 403, f"a plain user's token claiming admin got {status}"
    allowed = [r for r in ("user", "support", "admin", "service") if r not in denied_roles(access.who)]
    if access.who not in (PUBLIC, SENTRY_KEY):
        for role in allowed:
            status, _ = _status(own_server, rule, method, accounts(role).token)
            assert status not in (401, 403) and status < 500, f"{method} {rule} as {role}: {status}"
