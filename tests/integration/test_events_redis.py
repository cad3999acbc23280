"""Two instances on one Redis and one PostgreSQL: published events, notifications and playback cross them."""

import pytest

from tests.support.events import connect, published, settled
from tests.support.hub import shared_channel
from tests.support.api import Api, unique_name
from tests.support.server import ServerProcess
from tests.support.services import cli_create_user, data_dir_env

pytestmark = [pytest.mark.redis, pytest.mark.pg, pytest.mark.slow]


def test_events_notifications_and_playback_cross_instances(pair: list[ServerProcess], pg_url: str) -> None:
    one, two = pair
    api = Api(one.url)
    name = unique_name("service")
    cli_create_user(data_dir_env(one.data_dir, DATABASE_URL=pg_url), name, "service-pass-123", "service")
    service = api.login(name, "service-pass-123")
    alice, bob, stranger = api.register(), api.register(), api.register()
    shared_channel(api, alice, bob)
    far, near = connect(two.ws_url, alice), connect(one.ws_url, bob)
    outsider = connect(two.ws_url, stranger)

    answer = published(api, service, "new_post", {"user_ids": [alice.id]}, {"post_id": "p", "author_id": bob.id})
    assert answer["delivered"] == 0 and answer["relayed"] is True  # alice is connected to the other instance
    far.wait_for("new_post", post_id="p")

    stored = published(api, service, "notification", {"user_ids": [alice.id]}, {"kind": "system", "title": "hi"})
    assert stored["stored"] == 1
    notification_id = far.wait_for("notification", title="hi")["payload"]["id"]
    far.wait_for("notification_count", unread=1)
    other_api = Api(two.url)
    assert other_api.post(f"/api/v1/notifications/{notification_id}/read", alice).status_code == 200
    other_api.http.close()
    far.wait_for("notification_read", id=notification_id)

    near.send("playback_started", {"post_id": "mix"})
    far.wait_for("playback_started", post_id="mix", user_id=bob.id)
    near.close()
    far.wait_for("playback_stopped", post_id="mix", user_id=bob.id)
    settled(outsider)
    assert outsider.of_type("new_post") == [] and outsider.of_type("playback_started") == []
    for client in (far, outsider):
        client.close()
    api.http.close()
