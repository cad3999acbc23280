"""The catalogue is one source: OpenAPI, GET /api/v1/events/types and docs/events.md agree with it."""
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.config import settings_from_env
from app.events.catalogue import CATALOGUE, Notification
from app.events.notifications import DAY_MS, NotificationService
from app.events.sender import EventSender
from app.events.store import SqlNotificationStore

CONTRACT_TYPES = {"new_post", "post_liked", "post_unliked", "new_comment", "new_reaction", "new_follower",
                  "unfollowed", "follow_request_accepted", "notification", "notification_read",
                  "notification_count", "playback_started", "playback_stopped", "like_count_update",
                  "follower_count_update"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_every_contract_type_has_exactly_one_payload_model() -> None:
    assert set(CATALOGUE) == CONTRACT_TYPES
    for entry in CATALOGUE.values():
        assert entry.payload.model_config.get("extra") == "forbid", entry.name
    publishable = {name for name, entry in CATALOGUE.items() if entry.publishable}
    assert publishable == CONTRACT_TYPES - {"notification_read", "notification_count"}
    assert {name for name, entry in CATALOGUE.items() if entry.from_clients} == {"playback_started",
                                                                                "playback_stopped"}


def test_the_openapi_body_is_a_union_on_type_referencing_each_payload_model(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    body = doc["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    union = schemas[body["$ref"].rsplit("/", 1)[-1]]
    mapping = union["discriminator"]["mapping"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {name for name, entry in CATALOGUE.items() if entry.publishable}
    for name, ref in mapping.items():
        request = schemas[ref.rsplit("/", 1)[-1]]
        payload = schemas[request["properties"]["payload"]["$ref"].rsplit("/", 1)[-1]]
        assert set(payload["properties"]) == set(CATALOGUE[name].payload.model_fields), name
        assert payload["additionalProperties"] is False
    for path in ("/api/v1/notifications", "/api/v1/notifications/{notification_id}/read", "/api/v1/events/types"):
        assert path in doc["paths"]


def test_the_types_endpoint_serves_every_schema(app: Flask, client: FlaskClient) -> None:
    services = app.extensions["services"]
    user = services.auth.create_user("catalogue-reader", "long-enough-pass", "user")
    headers = {"Authorization": f"Bearer {services.auth.token_for(user)['token']}"}
    types = client.get("/api/v1/events/types", headers=headers).get_json()["types"]
    assert [t["type"] for t in types] == list(CATALOGUE)
    by_name = {t["type"]: t for t in types}
    assert by_name["notification"]["stored"] is True and "all" not in by_name["notification"]["audiences"]
    assert by_name["notification_count"]["payload_schema"]["required"] == ["unread"]
    assert client.get("/api/v1/events/types").status_code == 401


def test_docs_describe_each_type_and_its_fields() -> None:
    text = DOCS.read_text()
    sections = dict(re.findall(r"^### `([a-z_]+)`\n(.*?)(?=^### |^## )", text, flags=re.M | re.S))
    assert set(sections) == CONTRACT_TYPES
    for name, entry in CATALOGUE.items():
        for field in entry.payload.model_fields:
            assert field in sections[name], (name, field)
        assert "Who" in sections[name] and "xample" in sections[name], name


def test_read_notifications_expire_after_the_configured_age_and_unread_ones_never(app: Flask) -> None:
    services = app.extensions["services"]
    owner = services.auth.create_user("expiry-owner", "long-enough-pass", "user")
    now = [1_700_000_000_000]
    notes = NotificationService(SqlNotificationStore(services.db), EventSender(services.extra["hub"]),
                                clock=lambda: now[0])
    stored = notes.notify([owner.id], Notification(kind="system", title="old")).stored
    notes.notify([owner.id], Notification(kind="system", title="unread"))
    notes.mark_read(owner.id, stored[0].id)
    now[0] += 29 * DAY_MS
    assert notes.expire(30) == 0
    now[0] += 2 * DAY_MS
    assert notes.expire(30) == 1
    now[0] += 3650 * DAY_MS
    assert notes.expire(30) == 0 and notes.unread(owner.id) == 1


def test_the_read_ttl_is_configuration() -> None:
    assert settings_from_env({}).notification_read_ttl_days == 30
    assert settings_from_env({"NOTIFICATION_READ_TTL_DAYS": "7"}).notification_read_ttl_days == 7
