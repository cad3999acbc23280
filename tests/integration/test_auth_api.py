"""Auth over a real server: register, login, me, and every refused token."""
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher

from tests.support.api import Api, unique_name
from tests.support.tokens import bad_tokens


def test_register_login_me(api: Api) -> None:
    name = unique_name("alice")
    resp = api.post("/api/v1/auth/register", json={"username": name, "password": "good-pass-1", "email": "a@b.io"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["user"]["username"] == name and body["user"]["role"] == "user"
    assert body["expires_in"] > 0 and body["token"].count(".") == 2
    login = api.login(name, "good-pass-1")
    me = api.get("/api/v1/auth/me", login)
    assert me.status_code == 200 and me.json() == {"user": body["user"]}


def test_username_taken_is_409(api: Api) -> None:
    account = api.register()
    resp = api.post("/api/v1/auth/register", json={"username": account.username, "password": "other-pass-2"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize("body", [
    {"username": "ab", "password": "good-pass-1"},
    {"username": "has space", "password": "good-pass-1"},
    {"username": "valid_name", "password": "short"},
    {"username": "valid_name", "password": "aaaaaaaaaaaa"},
    {"username": "valid_name", "password": 12345678},
    {"username": "valid_name", "password": "good-pass-1", "email": "not-an-email"},
    {"username": "valid_name", "password": "good-pass-1", "role": "admin"},
    {"password": "good-pass-1"},
])
def test_register_refuses_weak_or_malformed_fields(api: Api, body: dict) -> None:
    resp = api.post("/api/v1/auth/register", json=body)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"'])
def test_register_refuses_malformed_json(api: Api, raw: bytes) -> None:
    resp = api.post("/api/v1/auth/register", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] in ("malformed_json", "validation_error")


def test_wrong_password_is_401_invalid_credentials(api: Api) -> None:
    account = api.register()
    for username, password in [(account.username, "wrong-pass-9"), (unique_name("ghost"), "whatever-1")]:
        resp = api.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("kind", ["missing", "forged", "alg_none", "expired", "unknown_user", "garbage"])
def test_bad_tokens_are_401_invalid_token(api: Api, kind: str) -> None:
    token = bad_tokens(1)[kind]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = api.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {"error": {"code": "invalid_token", "message": resp.json()["error"]["message"]}}


def test_errors_never_leak_html_or_traces(api: Api) -> None:
    for resp in (api.get("/no/such/route"), api.request("PUT", "/api/v1/auth/login")):
        assert resp.headers["Content-Type"].startswith("application/json")
        assert "error" in resp.json() and "Traceback" not in resp.text
    assert api.get("/no/such/route").json()["error"]["code"] == "not_found"
    assert api.request("PUT", "/api/v1/auth/login").json()["error"]["code"] == "method_not_allowed"


def test_password_hashing_leaves_the_event_loop_free(api: Api) -> None:
    """Argon2 runs in threads: requests keep being answered while sign-ups hash.

    On the loop, each ~90 ms hash held every other request (and WebSocket) of the worker until
    it was done, so a health check made meanwhile waited about half a hash, or more.
    """
    started = time.perf_counter()
    PasswordHasher().hash("a-password-to-time")
    hash_s = time.perf_counter() - started
    waits: list[float] = []
    with ThreadPoolExecutor(6) as pool:
        signups = [pool.submit(api.register, "hashing") for _ in range(6)]
        while not all(signup.done() for signup in signups):
            started = time.perf_counter()
            assert api.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - started)
        assert all(signup.result().token for signup in signups)
    assert len(waits) >= 3
    assert statistics.median(waits) < hash_s / 4, (hash_s, sorted(waits))
