"""Shapes of the documents API: the history query, and what the reads return (for OpenAPI too)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.documents.service import MAX_HISTORY_PAGE


class HistoryQuery(BaseModel):
    """`?from_revision=N&limit=M`: the revisions after N, at most M of them."""

    model_config = ConfigDict(extra="forbid")
    from_revision: int = Field(default=0, ge=0, description="the revision the caller already has")
    limit: int = Field(default=MAX_HISTORY_PAGE, ge=1, le=MAX_HISTORY_PAGE,
                       description="at most this many revisions; page on with the last one's revision")


class DocumentHead(BaseModel):
    """The document's text at its current revision (empty at 0 when never edited)."""

    document_id: str
    content: str
    revision: int


class OperationItem(BaseModel):
    """One stored revision: the same object as an `operation` frame's payload."""

    document_id: str
    revision: int
    user_id: int
    client_id: int
    op_id: str
    server_timestamp: int = Field(description="unix ms when the server accepted it")
    operation: dict[str, Any] = Field(description="the operation as applied (after transformation)")


class OperationList(BaseModel):
    """The revisions after `from_revision`, oldest first."""

    operations: list[OperationItem]
    has_more: bool = Field(description="true when `limit` cut the list: ask again from the last revision")
