"""Who gets into the dashboard: staff by session cookie or bearer token; nobody else; CSRF refused."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "dashboard-pass-1"
DASH_GETS = ("/dashboard/_dash-layout", "/dashboard/_dash-dependencies", "/dashboard/_favicon.ico",
             "/dashboard/assets/dashboard.css",
             "/dashboard/_dash-component-suites/dash/deps/react@18.3.1.min.js")
PAGES = ("/dashboard/", "/dashboard/errors", "/dashboard/errors/0123456789abcdef?range=7d", "/dashboard/rate-limits")
SAME_ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def dash_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def account(app: Flask, name: str, role: str) -> Any:
    return app.extensions["services"].auth.create_user(name, PASSWORD, role)


def bearer(app: Flask, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.extensions['services'].auth.token_for(user)['token']}"}


def csrf_from(client: FlaskClient, path: str = "/dashboard/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/dashboard/login", data={"username": name, "password": password,
                                                 "csrf_token": csrf_from(client), **extra})


def callback_body(app: Flask) -> dict[str, Any]:
    """A real callback request: the health panel."""
    dash = app.extensions["dashboard"]
    key = next(k for k, cb in dash.callback_map.items() if cb["callback"].__name__ == "update_health")
    return {"output": key, "outputs": {"id": "overview-health", "property": "children"},
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 0}], "state": [],
            "changedPropIds": ["tick.n_intervals"]}


def test_anonymous_gets_the_login_page_or_401(dash_app: Flask) -> None:
    client = dash_app.test_client()
    for page in PAGES:
        resp = client.get(page)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/dashboard/login?next=/dashboard/")
    for path in DASH_GETS:
        resp = client.get(path)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "login_required", path
    resp = client.post("/dashboard/_dash-update-component", json=callback_body(dash_app), headers=SAME_ORIGIN)
    assert resp.status_code == 401 and "children" not in resp.get_data(as_text=True)
    login = client.get("/dashboard/login")
    assert login.status_code == 200 and b'name="csrf_token"' in login.data and b"<form" in login.data


def test_plain_users_get_nothing(dash_app: Flask) -> None:
    user = account(dash_app, "plain", "user")
    client = dash_app.test_client()
    for path in PAGES + DASH_GETS:
        resp = client.get(path, headers=bearer(dash_app, user))
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden", path
    resp = client.post("/dashboard/_dash-update-component", json=callback_body(dash_app),
                       headers=bearer(dash_app, user))
    assert resp.status_code == 403
    resp = sign_in(client, "plain")
    assert resp.status_code == 403 and b"support and admin accounts only" in resp.data
    assert client.get("/dashboard/_dash-layout").status_code == 401  # no session was made


def test_support_signs_in_with_a_cookie_and_uses_the_dashboard(dash_app: Flask) -> None:
    account(dash_app, "helper", "support")
    client = dash_app.test_client()
    assert sign_in(client, "helper", "wrong-password").status_code == 401
    resp = sign_in(client, "helper", next="/dashboard/errors?range=7d")
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/errors?range=7d"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("dashboard_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/dashboard" in cookie and "Secure" not in cookie  # plain HTTP here
    page = client.get("/dashboard/errors?range=7d")
    assert page.status_code == 200 and b"_dash-config" in page.data
    policy = page.headers["Content-Security-Policy"]  # Dash's own scripts run; nothing from elsewhere
    assert "script-src 'self' 'sha256-" in policy and "form-action 'self'" in policy and "unsafe-eval" not in policy
    layout = client.get("/dashboard/_dash-layout")
    assert layout.status_code == 200 and "helper" in layout.get_data(as_text=True)
    assert client.get("/dashboard/_dash-dependencies").status_code == 200
    resp = client.post("/dashboard/_dash-update-component", json=callback_body(dash_app), headers=SAME_ORIGIN)
    assert resp.status_code == 200 and "ClickHouse" in resp.get_data(as_text=True)
    assert client.get("/dashboard/login").status_code == 302  # already signed in: straight in


def test_admin_and_bearer_tokens_work_without_a_session(dash_app: Flask) -> None:
    admin = account(dash_app, "boss", "admin")
    client = dash_app.test_client()
    assert client.get("/dashboard/_dash-layout", headers=bearer(dash_app, admin)).status_code == 200
    resp = client.post("/dashboard/_dash-update-component", json=callback_body(dash_app),
                       headers=bearer(dash_app, admin))  # no Origin: a script's bearer needs no CSRF check
    assert resp.status_code == 200
    resp = client.get("/dashboard/", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"


def test_cookie_posts_from_elsewhere_are_refused(dash_app: Flask) -> None:
    account(dash_app, "helper", "support")
    client = dash_app.test_client()
    sign_in(client, "helper")
    body = callback_body(dash_app)
    for headers in ({"Origin": "http://evil.example"}, {}, {"Origin": "null"},
                    {"Referer": "http://evil.example/dashboard/"}):
        resp = client.post("/dashboard/_dash-update-component", json=body, headers=headers)
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "csrf_failed", headers
    resp = client.post("/dashboard/_dash-update-component", json=body,
                       headers={"Referer": "http://localhost/dashboard/errors"})
    assert resp.status_code == 200


def test_login_and_logout_forms_need_their_csrf_token(dash_app: Flask) -> None:
    account(dash_app, "helper", "support")
    client = dash_app.test_client()
    client.get("/dashboard/login")
    for token in ("", "forged"):
        resp = client.post("/dashboard/login", data={"username": "helper", "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 400 and b"form expired" in resp.data
    assert client.get("/dashboard/_dash-layout").status_code == 401
    sign_in(client, "helper")
    assert client.post("/dashboard/logout", data={}).status_code == 400
    assert client.get("/dashboard/_dash-layout").status_code == 200  # still signed in
    layout = client.get("/dashboard/_dash-layout").get_data(as_text=True)
    token = layout.split('"name":"csrf_token"', 1)[0].rsplit('"value":"', 1)[1].split('"', 1)[0]
    resp = client.post("/dashboard/logout", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/login?signed_out=1"
    assert client.get("/dashboard/_dash-layout").status_code == 401


def test_login_never_redirects_off_the_dashboard(dash_app: Flask) -> None:
    account(dash_app, "helper", "support")
    for target in ("https://evil.example/", "//evil.example/dashboard/", "/api/v1/errors", "/dashboard/\\evil"):
        client = dash_app.test_client()
        resp = sign_in(client, "helper", next=target)
        assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/", target


def test_cookie_is_secure_over_https_and_a_demoted_user_is_let_go(dash_app: Flask) -> None:
    user = account(dash_app, "helper", "support")
    client = dash_app.test_client()
    page = client.get("/dashboard/login", base_url="https://localhost")
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.post("/dashboard/login", base_url="https://localhost",
                       data={"username": "helper", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 303 and "Secure" in resp.headers["Set-Cookie"]
    services = dash_app.extensions["services"]
    from app.models import User

    with services.db.session() as session:
        session.get(User, user.id).role = "user"
    resp = client.get("/dashboard/_dash-layout", base_url="https://localhost")
    assert resp.status_code == 403
