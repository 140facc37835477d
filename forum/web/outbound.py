"""Requests to addresses a project lead typed in (a GitHub Enterprise server, a Mastodon
instance): refused when the host is on this machine or a private network, so a tenant
cannot make the platform reach its internal services (server-side request forgery).

``outbound_transport(settings)`` is an httpx transport that checks the address behind every
request, redirects included, just before connecting. ``FORUM_ALLOW_PRIVATE_OUTBOUND``
lifts the rule, for an installation whose GitHub Enterprise Server sits on its own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING

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


async def check_public_host(host: str, port: int) -> None:
    """Raise ``PrivateAddressRefused`` unless every address of ``host`` is public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise PrivateAddressRefused(
                f"{host} is a private or local address ({address}); this site does not "
                "connect there for a project")


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport behind the check. A client that closes it closes its connection
    pool only: the next client using this transport gets a fresh one."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        await check_public_host(url.host, url.port or (443 if url.scheme == "https" else 80))
        if self.inner is None:
            self.inner = httpx.AsyncHTTPTransport()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        inner, self.inner = self.inner, None
        if inner is not None:
            await inner.aclose()


def outbound_transport(settings: Settings) -> httpx.AsyncBaseTransport | None:
    """The transport for requests to tenant-chosen addresses: guarded, or None (httpx's
    own) when ``allow_private_outbound`` is on."""
    return None if settings.allow_private_outbound else GuardedTransport()
