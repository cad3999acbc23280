"""The client's address: `X-Forwarded-For` counts only when it comes through a trusted proxy.

TRUSTED_PROXIES is either a hop count (`1`: Werkzeug's ProxyFix takes the last address the
one proxy in front appended), or a list of proxy addresses / networks
(`10.0.0.5,192.168.0.0/16`): only when the peer is one of them is X-Forwarded-For read, from
the right, skipping trusted hops, and the first untrusted address is the client. Anyone else's
X-Forwarded-For changes nothing. Empty: the TCP peer is the client.

The scheme follows the same trust: X-Forwarded-Proto from a trusted proxy (the value the
nearest one set) makes the request HTTPS, so the dashboard cookie is `Secure` and HSTS is
sent behind a TLS-terminating proxy; from anyone else it is ignored.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ConfigError

WsgiApp = Callable[..., Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_proxy_middleware(wsgi_app: WsgiApp, trusted: tuple[str, ...]) -> WsgiApp:
    """Wrap the WSGI app so `request.remote_addr` is the client, per TRUSTED_PROXIES."""
    if not trusted:
        return wsgi_app
    if len(trusted) == 1 and trusted[0].isdigit():
        hops = int(trusted[0])
        return ProxyFix(wsgi_app, x_for=hops, x_proto=1, x_host=0, x_port=0, x_prefix=0) if hops else wsgi_app
    return TrustedProxies(wsgi_app, _networks(trusted))


def _networks(entries: Iterable[str]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_PROXIES must be a hop count or IP addresses/networks: {exc}") from exc


def _address(text: str) -> Address | None:
    text = text.strip().strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """ProxyFix for a list of proxy addresses instead of a hop count."""

    def __init__(self, app: WsgiApp, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    def trusts(self, address: Address | None) -> bool:
        """True when the address belongs to a configured proxy."""
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """Walk X-Forwarded-For from the right while the hops are trusted proxies."""
        client = peer
        for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
            address = _address(hop)
            if address is None:  # garbage from a trusted hop: stop at the last good address
                break
            client = str(address)
            if not self.trusts(address):
                break
        return client

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        if self.trusts(_address(peer)):
            original = {"REMOTE_ADDR": peer, "wsgi.url_scheme": environ.get("wsgi.url_scheme", "http")}
            client = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
            scheme = _nearest_scheme(environ.get("HTTP_X_FORWARDED_PROTO", ""))
            if client != peer or (scheme and scheme != original["wsgi.url_scheme"]):
                environ["werkzeug.proxy_fix.orig"] = original
                environ["REMOTE_ADDR"] = client
                if scheme:
                    environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)


def _nearest_scheme(forwarded_proto: str) -> str | None:
    """The scheme the nearest proxy reports (the rightmost value), when it is http or https."""
    values = [part.strip().lower() for part in forwarded_proto.split(",") if part.strip()]
    return values[-1] if values and values[-1] in ("http", "https") else None
