"""Request and response shapes of the channel endpoints."""
from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator


class CreateChannel(BaseModel):
    """A new channel: its display name (1-128 characters, trimmed)."""

    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=128)

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class AddMember(BaseModel):
    """The user to add (`user_id` or `userId`)."""

    model_config = ConfigDict(extra="forbid")
    user_id: StrictInt = Field(gt=0, validation_alias=AliasChoices("user_id", "userId"))


class MemberOut(BaseModel):
    """One member of a channel."""

    user_id: int
    username: str
    joined_at_ms: int


class ChannelOut(BaseModel):
    """A channel with its members (the owner is a member)."""

    id: str
    name: str
    owner_id: int
    created_at_ms: int
    members: list[MemberOut]


class ChannelSummary(BaseModel):
    """A channel in a list."""

    id: str
    name: str
    owner_id: int
    created_at_ms: int
    member_count: int


class ChannelList(BaseModel):
    """The caller's channels, newest first."""

    channels: list[ChannelSummary]
