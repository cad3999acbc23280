"""The live-event catalogue: one payload model per event type, and who may send each type.

Ids: a user of this platform is an integer (`user_id`, `author_id`, `follower_id`, ...); an object
of the publishing backend (`post_id`, `comment_id`) is a string of 1-64 of `[A-Za-z0-9_.:-]` (an
integer is accepted and sent as its decimal string). Keys may be snake_case or camelCase; frames
carry snake_case, and optional fields left out are absent from the frame.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (AliasChoices, AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt,
                      StrictStr, field_validator)
from pydantic.alias_generators import to_camel

MAX_USER_ID = 2**31 - 1  # the SQL `users.id` column is a 32-bit integer
MAX_DATA_BYTES = 4096
EVERY_AUDIENCE = ("user_ids", "channel_id", "all")


def _snake_or_camel(name: str) -> AliasChoices | str:
    camel = to_camel(name)
    return AliasChoices(name, camel) if camel != name else name


def _int_as_text(value: Any) -> Any:
    """Object ids are strings; a publisher's integer id is accepted as its decimal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


UserId = Annotated[StrictInt, Field(gt=0, le=MAX_USER_ID, description="a user id of this platform (integer)")]
ObjectId = Annotated[str, BeforeValidator(_int_as_text),
                     Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="an id of the publishing backend: a string (an integer is accepted)")]
Count = Annotated[StrictInt, Field(ge=0, le=2**53)]


class EventPayload(BaseModel):
    """Base of every payload: snake_case or camelCase keys in, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              alias_generator=AliasGenerator(validation_alias=_snake_or_camel))

    def wire(self) -> dict[str, Any]:
        """The payload as frames carry it: snake_case keys, optional fields left out when absent."""
        return self.model_dump(exclude_none=True)


class NewPost(EventPayload):
    """A post was published (to its author's followers, say)."""

    post_id: ObjectId
    author_id: UserId
    title: StrictStr | None = Field(default=None, min_length=1, max_length=300)


class PostLiked(EventPayload):
    """`user_id` liked a post; `like_count` is the new total when the publisher knows it."""

    post_id: ObjectId
    user_id: UserId
    like_count: Count | None = None


class PostUnliked(PostLiked):
    """`user_id` took a like back."""


class NewComment(EventPayload):
    """A comment on a post; `text` is a preview."""

    post_id: ObjectId
    comment_id: ObjectId
    author_id: UserId
    text: StrictStr | None = Field(default=None, max_length=2000)


class NewReaction(EventPayload):
    """`user_id` reacted to a post (or to one of its comments) with `reaction` (an emoji or a name)."""

    post_id: ObjectId
    user_id: UserId
    reaction: StrictStr = Field(min_length=1, max_length=32)
    comment_id: ObjectId | None = None


class NewFollower(EventPayload):
    """`follower_id` now follows `followed_id`."""

    follower_id: UserId
    followed_id: UserId


class Unfollowed(NewFollower):
    """`follower_id` stopped following `followed_id`."""


class FollowRequestAccepted(NewFollower):
    """`followed_id` accepted the follow request of `follower_id`."""


class Notification(EventPayload):
    """Something to tell a user that waits until read; the frame adds `id` and `created_at_ms`."""

    kind: StrictStr = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="e.g. like, comment, follow, system")
    title: StrictStr = Field(min_length=1, max_length=200)
    body: StrictStr | None = Field(default=None, max_length=2000)
    data: dict[str, Any] | None = Field(default=None, description=f"any JSON object up to {MAX_DATA_BYTES} bytes")

    @field_validator("data")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, separators=(",", ":")).encode()) > MAX_DATA_BYTES:
            raise ValueError(f"must encode to at most {MAX_DATA_BYTES} bytes of JSON")
        return value


class NotificationRead(EventPayload):
    """A notification of the user's was read (on any of its connections)."""

    id: StrictInt = Field(gt=0)


class NotificationCount(EventPayload):
    """How many of the user's notifications are unread."""

    unread: Count


class PlaybackStarted(EventPayload):
    """`user_id` started playing a post; from a client, the server fills `user_id` with the sender's."""

    post_id: ObjectId
    user_id: UserId | None = None


class PlaybackStopped(PlaybackStarted):
    """`user_id` stopped playing a post (also sent when its connection goes)."""


class LikeCountUpdate(EventPayload):
    """A post's like count changed."""

    post_id: ObjectId
    count: Count


class FollowerCountUpdate(EventPayload):
    """A user's follower count changed."""

    user_id: UserId
    count: Count


@dataclass(frozen=True)
class EventType:
    """One catalogue entry: its payload model and who may send it."""

    name: str
    payload: type[EventPayload]
    publishable: bool = True  # by admin and service accounts through POST /api/v1/events
    from_clients: bool = False  # by any signed-in client as a /ws frame
    stored: bool = False  # kept per recipient until read
    audiences: tuple[str, ...] = EVERY_AUDIENCE

    @property
    def summary(self) -> str:
        """The payload model's one-line description."""
        return (self.payload.__doc__ or "").strip()


CATALOGUE: dict[str, EventType] = {entry.name: entry for entry in (
    EventType("new_post", NewPost),
    EventType("post_liked", PostLiked),
    EventType("post_unliked", PostUnliked),
    EventType("new_comment", NewComment),
    EventType("new_reaction", NewReaction),
    EventType("new_follower", NewFollower),
    EventType("unfollowed", Unfollowed),
    EventType("follow_request_accepted", FollowRequestAccepted),
    # Stored per recipient: everyone would mean a row per account, so it is addressed by list or channel.
    EventType("notification", Notification, stored=True, audiences=("user_ids", "channel_id")),
    # Derived from stored state: only the server can say them truthfully.
    EventType("notification_read", NotificationRead, publishable=False),
    EventType("notification_count", NotificationCount, publishable=False),
    EventType("playback_started", PlaybackStarted, from_clients=True),
    EventType("playback_stopped", PlaybackStopped, from_clients=True),
    EventType("like_count_update", LikeCountUpdate),
    EventType("follower_count_update", FollowerCountUpdate),
)}


def publishable_types() -> list[EventType]:
    """The types POST /api/v1/events accepts, in catalogue order."""
    return [entry for entry in CATALOGUE.values() if entry.publishable]
