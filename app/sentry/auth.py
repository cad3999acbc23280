"""Where a Sentry SDK puts its DSN key: `X-Sentry-Auth`, `Authorization: Sentry`, `?sentry_key=`, or a DSN.

The public key is all the SDKs send (the secret part of old DSNs is ignored, as Sentry does).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_KEY = re.compile(r"^[A-Za-z0-9]{1,64}$")


def parse_auth_header(value: str) -> dict[str, str]:
    """The `key=value` pairs of `Sentry sentry_key=..., sentry_version=7, ...` (empty when not Sentry's)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "sentry":
        return {}
    pairs: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            pairs[name.strip().lower()] = val.strip()
    return pairs


def key_from_request(headers: dict[str, str], args: dict[str, str]) -> str | None:
    """The public key from the auth headers, else the `sentry_key` query parameter, else None."""
    for header in ("X-Sentry-Auth", "Authorization"):
        key = parse_auth_header(headers.get(header, "")).get("sentry_key")
        if key:
            return key
    return args.get("sentry_key") or None


def key_from_dsn(dsn: object) -> str | None:
    """The public key of a DSN (`https://<key>@host/<project>`), as browser tunnels send it."""
    if not isinstance(dsn, str):
        return None
    try:
        return urlsplit(dsn).username or None
    except ValueError:
        return None


def well_formed(key: str) -> bool:
    """Keys are short alphanumeric strings; anything else is unknown without a database lookup."""
    return bool(_KEY.match(key))
