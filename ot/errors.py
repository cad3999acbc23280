"""Errors of the OT core: each carries a wire code and a sentence a person can read."""

from __future__ import annotations


class OTError(Exception):
    """Base of the core's errors, so a caller can map any of them to one error frame."""

    code = "ot_error"

    def __init__(self, message: str) -> None:
        """Keep the sentence apart from the code so it can be shown as is."""
        super().__init__(message)
        self.message = message


class InvalidOperation(OTError):
    """An operation that is malformed or does not fit the document; nothing was changed."""

    code = "invalid_operation"


class StaleRevision(OTError):
    """The operation's base revision is older than the history the server still keeps."""

    code = "stale_revision"
