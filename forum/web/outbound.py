"""Requests to addresses a project lead typed in (a GitHub Enterprise server, a Mastodon
instance): refused when the host is on this machine or a private network, so a tenant
cannot make the platform reach its internal services (server-side request forgery).

``outbound_transport(settings)`` is an httpx transport whose connections are opened by
``PinnedBackend``: it resolves the host once, refuses unless every address is public, and
connects to the address it checked. So every request, redirects included, is checked at the
moment it connects, and a name that resolves to a public address for the check and to a
private one a moment later (DNS rebinding) cannot slip through: there is no second lookup.
TLS still verifies the certificate against the host's name. ``FORUM_ALLOW_PRIVATE_OUTBOUND``
lifts the rule, for an installation whose GitHub Enterprise Server sits on its own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING

import httpcore
import httpx

if TYPE_CHECKING:
    from forum.settings import Settings


class PrivateAddressRefused(httpx.TransportError):
    """The host resolves to an address the platform does not reach for a tenant."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def public_address(host: str, port: int) -> str:
    """The address to connect to for ``host``: its first, once every address it resolves to
    is public; else ``PrivateAddressRefused``."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no address")
    for address in addresses:
        if not is_public_address(address):
            raise PrivateAddressRefused(
                f"{host} is a private or local address ({address}); this site does not "
                "connect there for a project")
    return addresses[0]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own network backend, connecting only to the public address it checked."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        address = await public_address(host, port)
        return await self.inner.connect_tcp(address, port, timeout=timeout,
                                            local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None
                                  = None) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressRefused("a Unix socket is local; this site does not connect "
                                    "there for a project")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on ``PinnedBackend``. Clients given a
    transport ignore proxy variables, so connections always go where the check said."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        super().__init__()
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20,
                              keepalive_expiry=5.0)  # httpx's defaults
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(backend))


def outbound_transport(settings: Settings) -> httpx.AsyncBaseTransport | None:
    """The transport for requests to tenant-chosen addresses: guarded, or None (httpx's
    own) when ``allow_private_outbound`` is on."""
    return None if settings.allow_private_outbound else GuardedTransport()
