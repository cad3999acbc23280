"""Ingest over a real server: valid items kept, bad ones reported by index, bad envelopes refused."""
import json
import time
import uuid

import pytest

from tests.support.api import Account, Api


def _item(**overrides: object) -> dict:
    return {"source": "Audio", "severity": "Error", "message": f"Engine stalled {uuid.uuid4().hex[:6]} x",
            **overrides}


def _batch(api: Api, account: Account, items: list) -> "object":
    return api.post("/api/v1/errors/batch", account, json={"errors": items})


def test_valid_batch_is_recorded(api: Api) -> None:
    user = api.register()
    resp = _batch(api, user, [_item(), _item(severity="warning", occurrences=5, context={"retries": 3})])
    assert resp.status_code == 200
    assert resp.json() == {"status": "recorded", "accepted": 2, "rejected": []}


def test_invalid_items_are_rejected_by_index_and_valid_ones_kept(api: Api) -> None:
    user = api.register()
    message = f"Partial batch marker {uuid.uuid4().hex}"
    items = [
        _item(message=message),
        _item(source="bad source!"),
        _item(severity="Fatal"),
        _item(message=""),
        _item(message="x" * 4097),
        _item(occurrences=0),
        _item(occurrences="3"),
        _item(timestamp="yesterday"),
        _item(timestamp=10),
        _item(context=["not", "an", "object"]),
        _item(unexpected="field"),
        "not an object",
        _item(message=message, severity="CRITICAL", occurrences=2),
    ]
    resp = _batch(api, user, items)
    assert resp.status_code == 200
    body = resp.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == list(range(1, 12))
    assert all(r["error"] for r in body["rejected"])
    assert "unknown field" in body["rejected"][9]["error"]
    groups = api.get("/api/v1/errors", user, params={"q": "Partial batch marker"}).json()["groups"]
    assert len(groups) == 1 and groups[0]["occurrences"] == 3 and groups[0]["events"] == 2


def test_batch_with_nothing_valid_is_400_and_stores_nothing(api: Api) -> None:
    user = api.register()
    resp = _batch(api, user, [_item(severity="nope"), _item(source="")])
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "validation_error"
    assert [r["index"] for r in resp.json()["error"]["details"]["rejected"]] == [0, 1]
    assert api.get("/api/v1/errors", user).json()["groups"] == []


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"errors": "x"}', b'{"errors": []}', b'{"items": []}',
    b'{"errors": [], "extra": 1}', b'"errors"',
])
def test_malformed_envelopes_are_400(api: Api, body: bytes) -> None:
    user = api.register()
    resp = api.post("/api/v1/errors/batch", user, data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] in ("malformed_json", "malformed_envelope")


def test_more_than_1000_items_is_413(api: Api) -> None:
    user = api.register()
    resp = _batch(api, user, [_item(message="m")] * 1001)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "too_many_items"


def test_body_over_one_mebibyte_is_413(api: Api) -> None:
    user = api.register()
    items = [_item(message="y" * 4000) for _ in range(300)]
    assert len(json.dumps({"errors": items})) > 1024 * 1024
    resp = _batch(api, user, items)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_no_token_is_401(api: Api) -> None:
    resp = api.post("/api/v1/errors/batch", json={"errors": [_item()]})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "invalid_token"


def test_similar_messages_form_one_group_with_summed_occurrences(api: Api) -> None:
    user = api.register()
    tag = uuid.uuid4().hex[:8]
    items = [_item(message=f"Buffer underrun {tag} after {n} samples", occurrences=n // 256) for n in (256, 512, 1024)]
    assert _batch(api, user, items).json()["accepted"] == 3
    groups = api.get("/api/v1/errors", user, params={"q": tag}).json()["groups"]
    assert len(groups) == 1
    assert groups[0]["occurrences"] == 1 + 2 + 4 and groups[0]["events"] == 3 and groups[0]["users"] == 1


def test_timestamps_are_kept(api: Api) -> None:
    user = api.register()
    ts = int(time.time()) - 3 * 3600
    _batch(api, user, [_item(message="Old one 1", timestamp=ts)])
    group = api.get("/api/v1/errors", user, params={"q": "Old one"}).json()["groups"][0]
    assert group["first_seen"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(ts)))
