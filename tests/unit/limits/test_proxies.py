"""TRUSTED_PROXIES: which address is the client, for each way it can be configured."""
from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from app.config import ConfigError
from app.limits.proxies import trusted_proxy_middleware


def echo_remote_addr(environ: dict[str, Any], start_response: Any) -> Any:
    return Response(environ["REMOTE_ADDR"])(environ, start_response)


def client_seen(trusted: tuple[str, ...], peer: str, forwarded: str | None) -> str:
    app = trusted_proxy_middleware(echo_remote_addr, trusted)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return Client(app).get("/", headers=headers, environ_base={"REMOTE_ADDR": peer}).get_data(as_text=True)


@pytest.mark.parametrize("trusted,peer,forwarded,client", [
    ((), "10.0.0.1", "1.2.3.4", "10.0.0.1"),                                  # nothing trusted
    (("10.0.0.1",), "10.0.0.1", "1.2.3.4", "1.2.3.4"),                        # the proxy names the client
    (("10.0.0.1",), "203.0.113.7", "1.2.3.4", "203.0.113.7"),                 # a spoof from anyone else
    (("10.0.0.0/8",), "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4"),   # trusted hops skipped, spoof left
    (("10.0.0.0/8",), "10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),          # all trusted: the leftmost
    (("10.0.0.0/8",), "10.0.0.2", "", "10.0.0.2"),                            # no header
    (("10.0.0.0/8",), "10.0.0.2", "garbage, 10.3.3.3", "10.3.3.3"),           # garbage stops the walk
    (("::1", "127.0.0.1"), "::1", "2001:db8::5", "2001:db8::5"),              # IPv6
    (("1",), "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),                      # one hop: ProxyFix
    (("2",), "10.0.0.1", "6.6.6.6, 1.2.3.4", "6.6.6.6"),                      # two hops
    (("1",), "10.0.0.1", None, "10.0.0.1"),
    (("0",), "10.0.0.1", "1.2.3.4", "10.0.0.1"),                              # zero hops: nothing trusted
])
def test_the_client_address(trusted: tuple[str, ...], peer: str, forwarded: str | None, client: str) -> None:
    assert client_seen(trusted, peer, forwarded) == client


def scheme_seen(trusted: tuple[str, ...], peer: str, proto: str | None) -> str:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(environ["wsgi.url_scheme"])(environ, start_response)

    headers = {"X-Forwarded-Proto": proto} if proto is not None else {}
    return Client(trusted_proxy_middleware(app, trusted)).get(
        "/", headers=headers, environ_base={"REMOTE_ADDR": peer}).get_data(as_text=True)


@pytest.mark.parametrize("trusted,peer,proto,scheme", [
    ((), "10.0.0.1", "https", "http"),                      # nothing trusted: the header is ignored
    (("10.0.0.1",), "10.0.0.1", "https", "https"),          # TLS ended at the trusted proxy
    (("10.0.0.1",), "203.0.113.7", "https", "http"),        # anyone else cannot claim HTTPS
    (("10.0.0.0/8",), "10.0.0.2", "http, https", "https"),  # the nearest proxy's value counts
    (("10.0.0.0/8",), "10.0.0.2", "gopher", "http"),        # nonsense is ignored
    (("10.0.0.0/8",), "10.0.0.2", None, "http"),
    (("1",), "10.0.0.1", "https", "https"),                 # hop count: ProxyFix
])
def test_the_scheme_comes_from_trusted_proxies_only(trusted: tuple[str, ...], peer: str, proto: str | None,
                                                    scheme: str) -> None:
    assert scheme_seen(trusted, peer, proto) == scheme


def test_the_original_peer_is_kept_like_proxyfix_does() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.update(environ)
        return Response("")(environ, start_response)

    Client(trusted_proxy_middleware(app, ("10.0.0.1",))).get(
        "/", headers={"X-Forwarded-For": "1.2.3.4"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen["REMOTE_ADDR"] == "1.2.3.4"
    assert seen["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"] == "10.0.0.1"


def test_a_malformed_list_is_a_start_up_error() -> None:
    with pytest.raises(ConfigError):
        trusted_proxy_middleware(echo_remote_addr, ("10.0.0.1", "proxy.example"))
