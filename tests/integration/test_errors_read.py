"""Reading groups over a real server: scoping, filters, pages, detail, triage and stats."""
import time
import uuid
from typing import Callable

import pytest

from tests.support.api import Account, Api


def _send(api: Api, account: Account, *items: dict) -> None:
    resp = api.post("/api/v1/errors/batch", account, json={"errors": list(items)})
    assert resp.status_code == 200, resp.text


def _groups(api: Api, account: Account, **params: object) -> list[dict]:
    resp = api.get("/api/v1/errors", account, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["groups"]


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:10]


def test_plain_users_see_only_their_own_events_staff_see_all(api: Api, staff: Callable, tag: str) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    _send(api, alice, {"source": "UI", "severity": "Info", "message": f"Shared {tag} glitch 1"})
    _send(api, bob, {"source": "UI", "severity": "Info", "message": f"Shared {tag} glitch 2", "occurrences": 4},
          {"source": "UI", "severity": "Info", "message": f"Bob only {tag}"})
    mine = _groups(api, alice, q=tag)
    assert [g["message"] for g in mine] == [f"Shared {tag} glitch 1"]
    assert mine[0]["occurrences"] == 1 and mine[0]["users"] == 1
    everyone = {g["message"][:14]: g for g in _groups(api, staff("support"), q=tag)}
    assert everyone[f"Shared {tag}"[:14]]["occurrences"] == 5
    assert everyone[f"Shared {tag}"[:14]]["users"] == 2
    assert len(everyone) == 2
    bob_group = [g for g in _groups(api, bob, q=tag) if g["message"].startswith("Bob")][0]
    assert api.get(f"/api/v1/errors/{bob_group['id']}", alice).status_code == 404


def test_filters_by_source_severity_status_and_text(api: Api, staff: Callable, tag: str) -> None:
    user = api.register()
    _send(api, user, {"source": "Network", "severity": "Warning", "message": f"Net {tag} slow"},
          {"source": "Audio", "severity": "Critical", "message": f"Audio {tag} dead"})
    assert [g["source"] for g in _groups(api, user, q=tag, source="Network")] == ["Network"]
    assert [g["severity"] for g in _groups(api, user, q=tag, severity="critical")] == ["Critical"]
    assert _groups(api, user, q=tag, status="resolved") == []
    assert len(_groups(api, user, q=tag, status="unresolved")) == 2
    assert _groups(api, user, q="no-such-text-" + tag) == []
    resp = api.get("/api/v1/errors", user, params={"severity": "loud"})
    assert resp.status_code == 400


def test_time_window_filters(api: Api, tag: str) -> None:
    user = api.register()
    old = int(time.time()) - 5 * 86400
    _send(api, user, {"source": "UI", "severity": "Error", "message": f"Ancient {tag}", "timestamp": old},
          {"source": "UI", "severity": "Error", "message": f"Fresh {tag}"})
    recent = _groups(api, user, q=tag, since=int(time.time()) - 86400)
    assert [g["message"] for g in recent] == [f"Fresh {tag}"]
    iso_until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(old + 3600))
    assert [g["message"] for g in _groups(api, user, q=tag, until=iso_until)] == [f"Ancient {tag}"]
    assert api.get("/api/v1/errors", user, params={"since": "last tuesday"}).status_code == 400


def test_users_are_counted_inside_the_window_only(api: Api, staff: Callable, tag: str) -> None:
    """Users whose events all fall before `since` are not counted; past windows count their own users."""
    message = f"Users {tag} window"
    now = int(time.time())
    early, late, both = api.register("early"), api.register("late"), api.register("both")
    item = {"source": "UI", "severity": "Error", "message": message}
    _send(api, early, {**item, "timestamp": now - 10 * 86400})
    _send(api, both, {**item, "timestamp": now - 10 * 86400}, item)
    _send(api, late, item)
    support = staff("support")

    def users(**params: object) -> int:
        [group] = _groups(api, support, q=tag, **params)
        return group["users"]

    assert users() == 3
    assert users(since=now - 86400) == 2
    assert users(since=now - 12 * 86400, until=now - 9 * 86400) == 2
    assert users(since=now - 40 * 86400, until=now - 3 * 86400) == 2


def test_cursor_pagination_walks_every_group_once(api: Api, tag: str) -> None:
    user = api.register()
    base = int(time.time()) - 600
    _send(api, user, *[{"source": f"S{i}", "severity": "Info", "message": f"Paged {tag}", "timestamp": base + i}
                       for i in range(7)])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"q": tag, "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("/api/v1/errors", user, params=params).json()
        seen += [g["source"] for g in body["groups"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"S{i}" for i in range(6, -1, -1)] and pages == 3
    bad = api.get("/api/v1/errors", user, params={"cursor": "!!!"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_group_detail_has_events_with_context_and_histogram(api: Api, tag: str) -> None:
    user = api.register()
    _send(api, user, {"source": "Network", "severity": "Error", "message": f"Upload {tag} failed",
                      "context": {"endpoint": "/api/upload", "http_status": 429}, "occurrences": 2})
    group = _groups(api, user, q=tag)[0]
    detail = api.get(f"/api/v1/errors/{group['id']}", user, params={"hours": 3}).json()
    assert detail["id"] == group["id"] and detail["occurrences"] == 2
    assert detail["recent_events"][0]["context"] == {"endpoint": "/api/upload", "http_status": 429}
    assert len(detail["histogram"]) >= 3
    assert sum(h["occurrences"] for h in detail["histogram"]) == 2
    assert api.get("/api/v1/errors/0123456789abcdef", user).status_code == 404
    assert api.get("/api/v1/errors/not-a-group", user).status_code == 404


def test_only_staff_patch_and_resolved_groups_regress(api: Api, staff: Callable, tag: str) -> None:
    user, support = api.register(), staff("support")
    _send(api, user, {"source": "Audio", "severity": "Error", "message": f"Regress {tag} 1"})
    gid = _groups(api, user, q=tag)[0]["id"]
    assert api.patch(f"/api/v1/errors/{gid}", user, json={"status": "resolved"}).status_code == 403
    assert api.patch(f"/api/v1/errors/{gid}", support, json={"status": "fixed"}).status_code == 400
    assert api.patch(f"/api/v1/errors/{gid}", support, json={"status": "resolved", "x": 1}).status_code == 400
    resp = api.patch(f"/api/v1/errors/{gid}", support, json={"status": "resolved"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved"
    _send(api, user, {"source": "Audio", "severity": "Error", "message": f"Regress {tag} 2"})
    assert _groups(api, user, q=tag)[0]["status"] == "regressed"
    assert api.patch(f"/api/v1/errors/{gid}", support, json={"status": "ignored"}).json()["status"] == "ignored"
    _send(api, user, {"source": "Audio", "severity": "Error", "message": f"Regress {tag} 3"})
    assert _groups(api, user, q=tag)[0]["status"] == "ignored"
    assert api.patch("/api/v1/errors/0123456789abcdef", support, json={"status": "resolved"}).status_code == 404


def test_stats_sum_occurrences_by_severity_and_source(api: Api) -> None:
    user = api.register()
    _send(api, user, {"source": "Audio", "severity": "Error", "message": "Stats a", "occurrences": 3},
          {"source": "UI", "severity": "Info", "message": "Stats b"},
          {"source": "Audio", "severity": "Critical", "message": "Stats c", "occurrences": 2,
           "timestamp": int(time.time()) - 30 * 3600})
    stats = api.get("/api/v1/errors/stats", user, params={"hours": 24}).json()
    assert stats["total"] == 4 and stats["events"] == 2
    assert stats["by_severity"] == {"Error": 3, "Info": 1}
    assert stats["by_source"] == {"Audio": 3, "UI": 1}
    assert stats["top_messages"][0]["message"] == "Stats a" and stats["top_messages"][0]["occurrences"] == 3
    assert len(stats["hourly"]) in (24, 25) and sum(h["occurrences"] for h in stats["hourly"]) == 4
    wider = api.get("/api/v1/errors/stats", user, params={"hours": 48}).json()
    assert wider["total"] == 6 and wider["by_severity"]["Critical"] == 2
    assert api.get("/api/v1/errors/stats", user, params={"hours": 0}).status_code == 400
