"""The limit header fields and the 429's Retry-After, from given windows."""
from __future__ import annotations

import pytest
from flask import Response

from app.limits.policy import path_class
from app.limits.responses import Window, add_headers, headline


def window(name: str, amount: int, remaining: int, seconds_left: int, breached: bool = False) -> Window:
    return Window(name=name, amount=amount, seconds=60, remaining=remaining, reset_at=1_000_000.25,
                  seconds_left=seconds_left, breached=breached)


def test_fields_of_a_response_that_was_not_limited() -> None:
    response = add_headers(Response(status=200), [window("default", 100, 42, 17), window("auth", 10, 3, 17)])
    assert response.headers["RateLimit-Policy"] == '"default";q=100;w=60, "auth";q=10;w=60'
    assert response.headers["RateLimit"] == '"default";r=42;t=17, "auth";r=3;t=17'
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == ("10", "3")
    assert response.headers["X-RateLimit-Reset"] == "1000001"  # rounded up, never early
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("seconds_left,retry_after", [(17, "17"), (1, "1"), (0, "1")])
def test_retry_after_is_whole_seconds_and_at_least_one(seconds_left: int, retry_after: str) -> None:
    limited = [window("default", 100, 40, 30), window("auth", 10, 0, seconds_left, breached=True)]
    response = add_headers(Response(status=429), limited)
    assert response.headers["Retry-After"] == retry_after
    assert response.headers["X-RateLimit-Limit"] == "10" and response.headers["X-RateLimit-Remaining"] == "0"


def test_no_limit_no_fields() -> None:
    assert not any("ratelimit" in name.lower() for name in add_headers(Response(), []).headers.keys())
    assert headline([]) is None


def test_a_retry_after_the_route_set_itself_is_left_alone() -> None:
    response = Response(status=503, headers={"Retry-After": "5"})
    assert add_headers(response, [window("default", 100, 99, 60)]).headers["Retry-After"] == "5"


@pytest.mark.parametrize("path,kind", [
    ("/api/v1/errors/batch", "default"), ("/api/v1", "default"), ("/api/v10/x", None),
    ("/healthz", "health"), ("/readyz", "health"), ("/ws", "ws_upgrade"), ("/wsx", None),
    ("/dashboard/", "dashboard"), ("/dashboard/_dash-update-component", "dashboard"),
    ("/_dash-layout", "dashboard"), ("/dashboardx", None), ("/api/42/envelope/", None),
])
def test_path_classes(path: str, kind: str | None) -> None:
    assert path_class(path) == kind
