"""Rate limits over a real server: each header's value, the 429, the reset, budgets, proxies."""
from __future__ import annotations

import itertools
import re
import time
from typing import Iterator

import pytest
import requests

from tests.integration.test_uploads_formats import png_bytes
from tests.support.api import Account, Api
from tests.support.server import ServerProcess

LIMITS = {"RATE_LIMIT_DEFAULT": "8/minute", "RATE_LIMIT_AUTH": "3/minute", "RATE_LIMIT_UPLOADS": "2/minute",
          "RATE_LIMIT_ERRORS_BATCH": "2/minute", "RATE_LIMIT_HEALTH": "3/2seconds"}
_ips = itertools.count(1)


def fresh_ip() -> dict[str, str]:
    """An X-Forwarded-For naming a client no other test uses (the server trusts 127.0.0.1 as its proxy)."""
    n = next(_ips)
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("limits"),
                         env={"SECRET_KEY": "rl-secret-" + "r" * 40, "TRUSTED_PROXIES": "127.0.0.1", **LIMITS})
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def lapi(limited: ServerProcess) -> Iterator[Api]:
    api = Api(limited.url)
    yield api
    api.http.close()


def register(api: Api, ip: dict[str, str], prefix: str) -> Account:
    """Sign up from a given client address (registration spends that address's budgets)."""
    name = f"{prefix}{next(_ips)}x{int(time.time() * 1000) % 100000}"
    resp = api.post("/api/v1/auth/register", json={"username": name, "password": "s3cret-pass"}, headers=ip)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Account(body["user"]["id"], name, "s3cret-pass", "user", body["token"])


def assert_rate_limited(resp: requests.Response, limit: str, amount: int, window: int) -> int:
    """Check a 429 completely; returns its Retry-After."""
    assert resp.status_code == 429, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    error = resp.json()["error"]
    assert error["code"] == "rate_limited" and error["details"]["limit"] == limit
    retry = resp.headers["Retry-After"]
    assert re.fullmatch(r"[0-9]+", retry) and 1 <= int(retry) <= window
    assert error["details"]["retry_after"] == int(retry)
    assert resp.headers["X-RateLimit-Limit"] == str(amount)
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert f'"{limit}";r=0;t=' in resp.headers["RateLimit"]
    return int(retry)


def test_headers_of_an_unlimited_response(lapi: Api) -> None:
    before = time.time()
    resp = lapi.get("/api/v1/openapi.json", headers=fresh_ip())
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Limit"] == "8"
    assert resp.headers["X-RateLimit-Remaining"] == "7"
    reset = resp.headers["X-RateLimit-Reset"]
    assert re.fullmatch(r"[0-9]+", reset) and before < int(reset) <= time.time() + 61
    assert resp.headers["RateLimit-Policy"] == '"default";q=8;w=60'
    match = re.fullmatch(r'"default";r=7;t=([0-9]+)', resp.headers["RateLimit"])
    assert match and 1 <= int(match.group(1)) <= 60
    assert "Retry-After" not in resp.headers


def test_the_api_budget_is_one_budget_across_routes(lapi: Api) -> None:
    ip = fresh_ip()
    routes = itertools.cycle(["/api/v1/openapi.json", "/api/v1/errors", "/api/v1/audio/some-id"])
    remaining = []
    for route in itertools.islice(routes, 8):
        resp = lapi.get(route, headers=ip)
        assert resp.status_code in (200, 401) and "Retry-After" not in resp.headers
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
    assert remaining == [7, 6, 5, 4, 3, 2, 1, 0]
    assert_rate_limited(lapi.get("/api/v1/errors/stats", headers=ip), "default", 8, 60)
    assert lapi.get("/healthz", headers=ip).status_code == 200  # health has a budget of its own
    assert lapi.get("/api/v1/openapi.json", headers=fresh_ip()).status_code == 200  # others unaffected


def test_auth_routes_share_a_tighter_budget(lapi: Api) -> None:
    ip = fresh_ip()
    for _ in range(3):
        resp = lapi.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-pass"}, headers=ip)
        assert resp.status_code == 401
    assert resp.headers["RateLimit-Policy"] == '"default";q=8;w=60, "auth";q=3;w=60'
    assert re.fullmatch(r'"default";r=5;t=\d+, "auth";r=0;t=\d+', resp.headers["RateLimit"])
    refused = lapi.post("/api/v1/auth/register", json={"username": "late", "password": "s3cret-pass"}, headers=ip)
    assert_rate_limited(refused, "auth", 3, 60)
    assert lapi.get("/api/v1/openapi.json", headers=ip).status_code == 200  # the API budget is not spent


def test_the_error_batch_is_limited_per_user(lapi: Api) -> None:
    ip = fresh_ip()
    first, second = register(lapi, ip, "batch"), register(lapi, ip, "batch")
    batch = {"errors": [{"source": "UI", "severity": "Info", "message": "limit test"}]}
    for _ in range(2):
        assert lapi.post("/api/v1/errors/batch", first, json=batch, headers=ip).status_code == 200
    assert_rate_limited(lapi.post("/api/v1/errors/batch", first, json=batch, headers=ip), "errors_batch", 2, 60)
    assert lapi.post("/api/v1/errors/batch", second, json=batch, headers=ip).status_code == 200


def test_uploads_are_limited_per_user(lapi: Api) -> None:
    ip = fresh_ip()
    first, second = register(lapi, ip, "upl"), register(lapi, ip, "upl")
    files = {"file": ("p.png", png_bytes())}
    assert lapi.post("/api/v1/audio/upload", first, files=files, headers=ip).status_code == 415  # still spent
    stored = lapi.post("/api/v1/users/upload-profile-picture", first, files=files, headers=ip)  # one budget
    assert stored.status_code == 201, stored.text
    refused = lapi.post("/api/v1/users/upload-profile-picture", first, files=files, headers=ip)
    assert_rate_limited(refused, "uploads", 2, 60)
    assert lapi.post("/api/v1/users/upload-profile-picture", second, files=files, headers=ip).status_code == 201
    reading = lapi.get(stored.json()["upload"]["url"], first, headers=ip)  # reading back is not an upload
    assert reading.status_code == 200 and reading.headers["RateLimit-Policy"] == '"default";q=8;w=60'


def test_retry_after_is_the_time_to_the_reset(lapi: Api) -> None:
    ip = fresh_ip()
    for _ in range(10):  # 3 per 2 seconds: loop until refused, however slow the machine is
        resp = lapi.get("/healthz", headers=ip)
        if resp.status_code == 429:
            break
    retry = assert_rate_limited(resp, "health", 3, 2)
    time.sleep(retry)  # Retry-After is rounded up, so the window has reset by now
    again = lapi.get("/healthz", headers=ip)
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "2"
    assert "Retry-After" not in again.headers


def test_forwarded_for_from_a_trusted_proxy_names_the_client(lapi: Api) -> None:
    one, two = fresh_ip(), fresh_ip()
    assert lapi.get("/api/v1/openapi.json", headers=one).headers["X-RateLimit-Remaining"] == "7"
    assert lapi.get("/api/v1/openapi.json", headers=one).headers["X-RateLimit-Remaining"] == "6"
    assert lapi.get("/api/v1/openapi.json", headers=two).headers["X-RateLimit-Remaining"] == "7"
    chained = {"X-Forwarded-For": f"{one['X-Forwarded-For']}, 127.0.0.1"}  # our proxy behind another
    assert lapi.get("/api/v1/openapi.json", headers=chained).headers["X-RateLimit-Remaining"] == "5"


def test_forwarded_for_from_an_untrusted_peer_changes_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    proc = ServerProcess(tmp_path_factory.mktemp("untrusted"),
                         env={"SECRET_KEY": "ut-secret-" + "t" * 40, "TRUSTED_PROXIES": "10.0.0.0/8",
                              "RATE_LIMIT_DEFAULT": "3/minute"}).start()
    try:
        with requests.Session() as http:
            statuses = [http.get(proc.url + "/api/v1/openapi.json", headers=fresh_ip()).status_code
                        for _ in range(4)]
    finally:
        proc.stop()
    assert statuses == [200, 200, 200, 429]  # four "different clients" were one peer
