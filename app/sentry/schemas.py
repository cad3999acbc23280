"""The Sentry ingest's answer, for the OpenAPI document."""
from pydantic import BaseModel


class SentryAnswer(BaseModel):
    """Like Sentry's: the id of the (first) stored event; `{}` when the envelope held no event."""

    id: str | None = None
