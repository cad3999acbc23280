"""A small HTTP client for the API: sign up users, send authorized requests."""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

_names = itertools.count()


def unique_name(prefix: str = "user") -> str:
    """A username no other test in this run uses."""
    return f"{prefix}{os.getpid()}x{next(_names)}"


@dataclass
class Account:
    """A signed-up user and its token."""

    id: int
    username: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """requests against one server, with helpers to make accounts of each role."""

    def __init__(self, base_url: str, data_dir: Any = None, env: dict[str, str] | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        # The server closes keep-alive connections idle for 2 s; a request sent on one just as it
        # closes is reset. Like any HTTP client, resend an idempotent request once on a fresh
        # connection (nothing else is retried: no connect errors, statuses or POSTs).
        self.http.mount("http://", HTTPAdapter(max_retries=Retry(
            total=None, connect=0, read=1, redirect=0, status=0, other=0, raise_on_status=False)))
        self._data_dir = data_dir
        self._env = env or {}

    def request(self, method: str, path: str, account: Account | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if account is not None:
            headers.update(account.headers)
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, account: Account | None = None, **kw: Any) -> requests.Response:
        return self.request("GET", path, account, **kw)

    def post(self, path: str, account: Account | None = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, account, **kw)

    def patch(self, path: str, account: Account | None = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, account, **kw)

    def delete(self, path: str, account: Account | None = None, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, account, **kw)

    def register(self, prefix: str = "user", password: str = "s3cret-pass") -> Account:
        """A new plain user, signed up through the API."""
        name = unique_name(prefix)
        resp = self.post("/api/v1/auth/register", json={"username": name, "password": password})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        return Account(body["user"]["id"], name, password, body["user"]["role"], body["token"])

    def login(self, username: str, password: str) -> Account:
        resp = self.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        return Account(body["user"]["id"], username, password, body["user"]["role"], body["token"])


def staff_factory(server: Any, api: Api) -> Callable[[str], Account]:
    """Accounts of a role on `server`, made through the real CLI (cached per role)."""
    from tests.support.services import cli_create_user, data_dir_env

    cache: dict[str, Account] = {}

    def get(role: str) -> Account:
        if role not in cache:
            name, password = unique_name(role), "staff-pass-123"
            cli_create_user(data_dir_env(server.data_dir), name, password, role)
            cache[role] = api.login(name, password)
        return cache[role]

    return get
