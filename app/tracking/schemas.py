"""Shapes of the error-tracking API: the batch item that is validated, and what reads return."""
from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator

SEVERITIES = ("Info", "Warning", "Error", "Critical")
_EARLIEST_TS = 946684800  # 2000-01-01: anything earlier is a client clock or unit bug
_MAX_FUTURE_S = 86400


class ErrorItem(BaseModel):
    """One reported error; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
    source: StrictStr = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Network, Audio, UI or another 1-32 of [A-Za-z0-9_-]")
    severity: StrictStr = Field(description="Info, Warning, Error or Critical, any letter case")
    message: StrictStr = Field(min_length=1, max_length=4096)
    context: dict[str, Any] | None = None
    timestamp: StrictInt | StrictFloat | None = Field(default=None, description="unix seconds; receipt time if absent")
    occurrences: StrictInt = Field(default=1, ge=1, le=1_000_000)

    @field_validator("severity")
    @classmethod
    def _canonical_severity(cls, value: str) -> str:
        for canonical in SEVERITIES:
            if value.lower() == canonical.lower():
                return canonical
        raise ValueError(f"must be one of {', '.join(SEVERITIES)}")

    @field_validator("timestamp")
    @classmethod
    def _plausible_timestamp(cls, value: float | None) -> float | None:
        if value is not None and not _EARLIEST_TS <= value <= time.time() + _MAX_FUTURE_S:
            raise ValueError("must be unix seconds between 2000-01-01 and one day from now")
        return value


class BatchRequest(BaseModel):
    """The envelope: a list of items, each validated on its own."""

    model_config = ConfigDict(extra="forbid")
    errors: list[ErrorItem] = Field(max_length=1000)


class RejectedItem(BaseModel):
    """An item that was not kept, by its index in the batch."""

    index: int
    error: str


class BatchResponse(BaseModel):
    """What was recorded."""

    status: Literal["recorded"]
    accepted: int
    rejected: list[RejectedItem]


class GroupOut(BaseModel):
    """One group as lists show it."""

    id: str
    source: str
    severity: str
    message: str
    occurrences: int
    events: int
    users: int
    first_seen: str
    last_seen: str
    status: str


class GroupList(BaseModel):
    """A page of groups, most recently seen first."""

    groups: list[GroupOut]
    next_cursor: str | None


class EventOut(BaseModel):
    """One stored event with its context."""

    event_id: str
    timestamp: str
    user_id: int
    severity: str
    message: str
    occurrences: int
    context: dict[str, Any]
    release: str = ""
    environment: str = ""
    platform: str = ""


class HourCount(BaseModel):
    """Events and occurrences in one hour."""

    hour: str
    events: int
    occurrences: int


class GroupDetail(GroupOut):
    """A group with its recent events and an hourly histogram."""

    recent_events: list[EventOut]
    histogram: list[HourCount]


class ListQuery(BaseModel):
    """Filters of `GET /errors`; times are ISO-8601 or unix seconds."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(default=None, max_length=32)
    severity: str | None = Field(default=None, max_length=16)
    status: Literal["unresolved", "resolved", "ignored", "regressed"] | None = None
    since: str | None = None
    until: str | None = None
    q: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class DetailQuery(BaseModel):
    """How far back a group's histogram goes."""

    model_config = ConfigDict(extra="forbid")
    hours: int = Field(default=48, ge=1, le=24 * 90)


class StatsQuery(BaseModel):
    """The window of `GET /errors/stats`."""

    model_config = ConfigDict(extra="forbid")
    hours: int = Field(default=24, ge=1, le=24 * 90)


class GroupPatch(BaseModel):
    """A status change by support or admin."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["resolved", "unresolved", "ignored"]


class TopMessage(BaseModel):
    """A group among the most frequent in the window."""

    group_id: str
    message: str
    source: str
    occurrences: int


class StatsResponse(BaseModel):
    """Totals over the window by severity, by source, the top groups and an hourly series."""

    hours: int
    total: int
    events: int
    by_severity: dict[str, int]
    by_source: dict[str, int]
    top_messages: list[TopMessage]
    hourly: list[HourCount]
