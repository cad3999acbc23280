"""Helpers for the events, notifications and playback tests (no tests here)."""
from __future__ import annotations

from typing import Any

import requests

from tests.support.hub import WsClient
from tests.support.api import Account, Api


def publish(api: Api, account: Account | None, frame_type: str, to: dict[str, Any],
            payload: dict[str, Any]) -> requests.Response:
    """POST one event to /api/v1/events."""
    return api.post("/api/v1/events", account, json={"type": frame_type, "to": to, "payload": payload})


def published(api: Api, account: Account, frame_type: str, to: dict[str, Any],
              payload: dict[str, Any]) -> dict[str, Any]:
    """Publish and expect 200; the answer."""
    resp = publish(api, account, frame_type, to, payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def hub_metrics(api: Api, admin: Account) -> dict[str, Any]:
    """The hub's metrics (the events counters among them)."""
    resp = api.get("/api/v1/websocket/metrics", admin)
    assert resp.status_code == 200, resp.text
    return resp.json()


def counter(metrics: dict[str, Any], name: str, label: str) -> int:
    """One labelled counter's value (0 when never counted)."""
    return int(metrics.get(name, {}).get(label, 0))


def settled(*clients: WsClient) -> None:
    """Each client's connection has handled everything queued for it before this call."""
    for client in clients:
        client.roundtrip()


def connect(ws_url: str, account: Account) -> WsClient:
    """A connection that has already received its `notification_count` greeting."""
    client = WsClient(ws_url, account.token)
    client.wait_for("notification_count")
    return client
