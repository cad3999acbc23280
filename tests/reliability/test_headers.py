"""Security headers on a real server: the API's strict policy, CORS closed except the Sentry ingest,
the dashboard's own policy (which must allow exactly the scripts Dash serves), and its cookie."""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Callable

import pytest
import requests
from flask import Flask

from app.security_headers import API_POLICY
from tests.integration.test_uploads_formats import wav_bytes
from tests.reliability.access_table import ROUTES, SENTRY_KEY, concrete_path
from tests.support.api import Account, Api
from tests.support.server import ServerProcess

EVIL = "https://evil.example"
AccountOf = Callable[[str], Account]


def _assert_base_headers(resp: requests.Response) -> None:
    label = f"{resp.request.method} {resp.url} -> {resp.status_code}"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", label
    assert resp.headers.get("X-Frame-Options") == "DENY", label
    assert resp.headers.get("Referrer-Policy") == "no-referrer", label
    assert "frame-ancestors 'none'" in resp.headers.get("Content-Security-Policy", ""), label


def test_api_responses_carry_the_strict_policy(own_server: ServerProcess, own_api: Api) -> None:
    user = own_api.register("headers")
    upload = own_api.post("/api/v1/audio/upload", user, files={"file": ("a.wav", wav_bytes(), "audio/wav")})
    responses = [
        own_api.get("/healthz"), own_api.get("/readyz"), own_api.get("/api/v1/openapi.json"),
        own_api.get("/api/v1/auth/me"), own_api.get("/api/v1/auth/me", user), own_api.get("/api/v1/nowhere"),
        own_api.post("/api/v1/errors/batch", user, data=b"{not json", headers={"Content-Type": "application/json"}),
        own_api.post("/api/v1/errors/batch", user, json={"errors": [{"source": "UI", "severity": "Info",
                                                                      "message": "headers"}]}),
        own_api.request("PUT", "/api/v1/auth/me", user), own_api.get("/ws", user), upload,
        own_api.get(upload.json()["upload"]["url"], user),
    ]
    for resp in responses:
        _assert_base_headers(resp)
        assert resp.headers["Content-Security-Policy"] == API_POLICY, resp.url
    for resp in responses[2:-1]:
        assert resp.headers["Content-Type"].startswith("application/json"), resp.url
        if "/api/" in resp.url:
            assert resp.headers["Cache-Control"] == "no-store", resp.url
    assert responses[-1].headers["Cache-Control"] == "private, no-cache"  # the owner's own file


@pytest.mark.parametrize("route", sorted(r for r, a in ROUTES.items() if r[0].startswith("/api/")),
                         ids=lambda r: f"{r[1]} {r[0]}")
def test_cors_is_closed_except_the_sentry_ingest(route: tuple[str, str], own_server: ServerProcess) -> None:
    rule, method = route
    url = own_server.url + concrete_path(rule)
    preflight = requests.options(url, timeout=30, headers={
        "Origin": EVIL, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type"})
    actual = requests.request(method, url, timeout=30, headers={"Origin": EVIL})
    for resp in (preflight, actual):
        assert "Access-Control-Allow-Credentials" not in resp.headers
        if ROUTES[route].who == SENTRY_KEY:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"  # DSN keys are public, like Sentry's
        else:
            assert "Access-Control-Allow-Origin" not in resp.headers, resp.headers
            assert "Access-Control-Allow-Methods" not in resp.headers


def _inline_script_hashes(html: str) -> set[str]:
    """CSP hashes of the inline scripts a browser would run (not comments, not JSON data blocks)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    scripts = [body for attrs, body in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S)
               if not re.search(r'type="(?!(?:text|application)/javascript")', attrs)]
    return {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_the_dashboard_policy_allows_exactly_what_dash_serves(own_server: ServerProcess, own_api: Api,
                                                             own_staff: AccountOf) -> None:
    page = own_api.get("/dashboard/", own_staff("support"))
    assert page.status_code == 200
    _assert_base_headers(page)
    csp = _directives(page.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    inline = _inline_script_hashes(page.text)
    assert inline and inline <= set(scripts), "an inline script of the page is not allowed by a hash"
    for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.text):
        assert src.startswith("/dashboard/"), src  # 'self' only: nothing from another origin
        assert own_api.get(src, own_staff("support")).status_code == 200, src
    login = own_api.get("/dashboard/login")
    _assert_base_headers(login)
    assert login.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]


def _sign_in(base: str, session: requests.Session, account: Account) -> requests.Response:
    form = session.get(f"{base}/dashboard/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return session.post(f"{base}/dashboard/login", allow_redirects=False, timeout=30, data={
        "csrf_token": token, "username": account.username, "password": account.password, "next": "/dashboard/"})


def test_the_dashboard_cookie_is_httponly_samesite_and_path_scoped(own_server: ServerProcess,
                                                                   own_staff: AccountOf) -> None:
    session = requests.Session()
    answer = _sign_in(own_server.url, session, own_staff("support"))
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("dashboard_session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attributes
    assert "Path=/dashboard" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in attributes  # plain HTTP on localhost: a Secure cookie would never come back
    assert session.get(f"{own_server.url}/dashboard/", timeout=30, allow_redirects=False).status_code == 200
    api_call = requests.get(f"{own_server.url}/api/v1/auth/me", cookies=session.cookies, timeout=30)
    assert api_call.status_code == 401  # the session cookie is no credential for the API


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    client = app.test_client()
    services = app.extensions["services"]
    user = services.auth.create_user("httpsstaff", "staff-pass-123", "support")
    form = client.get("/dashboard/login", base_url="https://dash.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post("/dashboard/login", base_url="https://dash.example", data={
        "csrf_token": token, "username": user.username, "password": "staff-pass-123"})
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/healthz").headers  # not over plain HTTP


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure_and_hsts_is_sent(make_app: Callable[..., Flask]) -> None:
    app = make_app(trusted_proxies=("10.0.0.0/8",))
    client = app.test_client()
    user = app.extensions["services"].auth.create_user("proxystaff", "staff-pass-123", "support")
    proxied = {"REMOTE_ADDR": "10.0.0.5"}
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    form = client.get("/dashboard/login", headers=headers, environ_base=proxied).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post("/dashboard/login", headers={**headers, "Origin": "https://localhost"},
                         environ_base=proxied,
                         data={"csrf_token": token, "username": user.username, "password": "staff-pass-123"})
    assert answer.status_code == 303
    assert "Secure" in answer.headers["Set-Cookie"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    spoofed = client.get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert "Strict-Transport-Security" not in spoofed.headers  # only a trusted proxy can say HTTPS


@pytest.mark.parametrize("request_bytes,status,code", [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n",
     431, "headers_too_large"),
    (b"NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"),
])
def test_requests_the_server_cannot_parse_get_a_json_error(own_server: ServerProcess, request_bytes: bytes,
                                                           status: int, code: str) -> None:
    """gunicorn answers these before the app runs; they must still be JSON with the API's headers."""
    import json
    import socket

    with socket.create_connection(("127.0.0.1", own_server.port), timeout=10) as conn:
        conn.sendall(request_bytes)
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0].split()[1] == str(status)
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == API_POLICY
    assert json.loads(body)["error"]["code"] == code
