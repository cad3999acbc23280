"""The dashboard's password form is limited like the API's login: guessing is throttled."""
from typing import Callable

from flask import Flask


def test_dashboard_login_posts_spend_the_auth_limit(make_app: Callable[..., Flask]) -> None:
    app = make_app(rate_limit_auth="3/minute")
    client = app.test_client()
    statuses = [client.post("/dashboard/login", data={"username": "x", "password": "wrong-pass"},
                            headers={"Origin": "http://localhost"}).status_code for _ in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    assert client.get("/dashboard/login").status_code == 200  # the page itself is not this limit's
