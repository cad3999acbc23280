"""Document ids: `channel:<channel_id>:<field>`, the only kind of document there is."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DOCUMENT_ID = re.compile(r"channel:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{1,64})")
MAX_ID_LENGTH = len("channel:") + 32 + 1 + 64  # longer strings cannot match (nor fill the cache)


@dataclass(frozen=True, slots=True)
class DocumentId:
    """A parsed document id: which channel owns it and which of its fields it is."""

    channel_id: str
    field: str

    def __str__(self) -> str:
        """The wire form, so a DocumentId can be sent back as is."""
        return f"channel:{self.channel_id}:{self.field}"


def parse_document_id(raw: object) -> DocumentId | None:
    """The parsed id, or None when `raw` is not a well-formed document id."""
    return _parse(raw) if isinstance(raw, str) and len(raw) <= MAX_ID_LENGTH else None


@lru_cache(maxsize=4096)
def _parse(raw: str) -> DocumentId | None:
    """Parsed once per id: every operation frame names its document."""
    match = _DOCUMENT_ID.fullmatch(raw)
    return DocumentId(match.group(1), match.group(2)) if match else None
