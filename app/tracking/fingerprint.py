"""Group similar errors: normalise away the parts of a message that vary between occurrences."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

# Order matters: quoted values and structured ids go before the bare numbers inside them.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`"), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.~-]+){2,}[\\/]?|[A-Za-z]:\\\S*"), "<path>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+(?:[.,]\d+)*"), "<num>"),
    (re.compile(r"\s+"), " "),
)


@lru_cache(maxsize=65536)  # plugins repeat the same messages; the regex pass is the costly part
def normalise_message(message: str) -> str:
    """The message with numbers, hex ids, UUIDs, emails, URLs, paths and quoted values replaced."""
    text = message
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def group_key(*parts: str) -> str:
    """A stable 16-hex-digit group id from the parts that define a group."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:16]


@lru_cache(maxsize=65536)
def fingerprint(source: str, message: str) -> str:
    """The group id of a plugin error: its source plus its normalised message."""
    return group_key("batch", source.lower(), normalise_message(message))
