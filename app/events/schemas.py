"""Request and response shapes of the events and notifications endpoints."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (AliasChoices, BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictStr,
                      create_model, model_validator)

from app.events.catalogue import EventType, UserId, publishable_types

MAX_RECIPIENTS = 1000


class Audience(BaseModel):
    """Exactly one of: `user_ids` (1-1000 users), `channel_id` (its members) or `all: true` (everyone connected)."""

    model_config = ConfigDict(extra="forbid")
    user_ids: list[UserId] | None = Field(default=None, min_length=1, max_length=MAX_RECIPIENTS,
                                          validation_alias=AliasChoices("user_ids", "userIds"))
    channel_id: StrictStr | None = Field(default=None, min_length=1, max_length=64,
                                         validation_alias=AliasChoices("channel_id", "channelId"))
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Audience":
        given = [name for name in ("user_ids", "channel_id", "all") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_ids, channel_id or all: true")
        return self

    @property
    def kind(self) -> str:
        """`user_ids`, `channel_id` or `all`."""
        return "user_ids" if self.user_ids is not None else "channel_id" if self.channel_id is not None else "all"


class PublishBase(BaseModel):
    """`{type, to, payload}`: one event of the catalogue for an audience."""

    model_config = ConfigDict(extra="forbid")
    to: Audience


def _request_model(entry: EventType) -> type[PublishBase]:
    """`Publish<Type>`: the body that publishes one type, its payload checked by the type's model."""
    name = "Publish" + "".join(part.title() for part in entry.name.split("_"))
    model = create_model(name, __base__=PublishBase, __doc__=f"Publish `{entry.name}`: {entry.summary}",
                         type=(Literal[entry.name], ...), payload=(entry.payload, ...))  # type: ignore[call-overload]
    return model


PUBLISH_MODELS: dict[str, type[PublishBase]] = {entry.name: _request_model(entry) for entry in publishable_types()}


class PublishRequest(RootModel[Annotated[Union[tuple(PUBLISH_MODELS.values())],  # type: ignore[valid-type]
                                         Field(discriminator="type")]]):
    """The body of POST /api/v1/events: one of the publishable types, told apart by `type`."""


class PublishAnswer(BaseModel):
    """What became of a published event."""

    type: str
    delivered: int = Field(description="connections reached on the instance that took the request")
    relayed: bool = Field(description="true when other instances (through Redis) deliver it too, uncounted")
    recipients: int | None = Field(description="users addressed (after removing duplicates); null for all")
    stored: int = Field(description="notifications stored, one per existing recipient (0 for other types)")
    unknown_user_ids: list[int] = Field(description="notification recipients that are no account: nothing stored")


class EventTypeInfo(BaseModel):
    """One catalogue entry as `GET /api/v1/events/types` lists it."""

    type: str
    summary: str
    publishable: bool
    from_clients: bool
    stored: bool
    audiences: list[str]
    payload_schema: dict[str, Any]


class EventTypeList(BaseModel):
    """The whole catalogue, in a fixed order."""

    types: list[EventTypeInfo]


class NotificationsQuery(BaseModel):
    """`?unread=true` keeps unread ones only; newest first, `limit` per page, `cursor` from the last page."""

    model_config = ConfigDict(extra="forbid")
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=32)


class NotificationOut(BaseModel):
    """A stored notification: the published fields plus its id and times."""

    id: int
    kind: str
    title: str
    body: str | None = None
    data: dict[str, Any] | None = None
    created_at_ms: int
    read_at_ms: int | None


class NotificationList(BaseModel):
    """A page of the caller's notifications and how many are unread in all."""

    notifications: list[NotificationOut]
    next_cursor: str | None
    unread: int


class ReadAnswer(BaseModel):
    """The notification, now read, and how many remain unread."""

    notification: NotificationOut
    unread: int
    changed: StrictBool = Field(description="false when it had already been read")
