"""Documented shapes of the upload endpoints (the OpenAPI document reads these)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class UploadForm(BaseModel):
    """multipart/form-data with the file in the field `file` (its type is read from its bytes)."""

    file: bytes = Field(description="The file; its name is kept as metadata only.")


class UploadInfo(BaseModel):
    """A stored upload."""

    id: str
    kind: str = Field(description="`audio` or `profile_picture`")
    media_type: str = Field(description="What the bytes are, e.g. audio/wav or image/png")
    size_bytes: int
    sha256: str
    duration_ms: int | None = Field(description="Audio length when the format's header tells it")
    original_name: str | None
    created_at_ms: int
    url: str = Field(description="Where its owner GETs it back")


class UploadResponse(BaseModel):
    """201 body of an upload."""

    upload: UploadInfo
