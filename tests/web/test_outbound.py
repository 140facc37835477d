"""Requests to addresses a project chose never reach this machine or a private network,
unless the operator allows it (FORUM_ALLOW_PRIVATE_OUTBOUND)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpcore
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from forum.settings import Settings
from forum.web.outbound import (
    GuardedTransport,
    PrivateAddressRefused,
    is_public_address,
    outbound_transport,
)
from tests.fake_server import Served


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.10", False),
    ("172.16.5.4", False), ("169.254.169.254", False), ("0.0.0.0", False),
    ("::1", False), ("::ffff:127.0.0.1", False), ("fd00::1", False), ("fe80::1%eth0", False),
    ("100.64.0.1", False), ("224.0.0.1", False),
    ("8.8.8.8", True), ("140.82.112.6", True), ("2606:4700:4700::1111", True),
])
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


class Local:
    url = ""
    hits = 0

    def app(self) -> Starlette:
        async def hello(request: object) -> PlainTextResponse:
            self.hits += 1
            return PlainTextResponse("inside")

        return Starlette(routes=[Route("/", hello)])


async def test_the_guard_refuses_a_local_server_before_connecting() -> None:
    local = Local()
    with Served(local):
        async with httpx.AsyncClient(transport=GuardedTransport()) as client:
            with pytest.raises(PrivateAddressRefused, match="private or local address"):
                await client.get(local.url + "/")
            # The same name resolving to loopback is refused too.
            with pytest.raises(PrivateAddressRefused):
                await client.get(local.url.replace("127.0.0.1", "localhost") + "/")
        assert local.hits == 0
        async with httpx.AsyncClient() as plain:  # the operator's own calls are not guarded
            assert (await plain.get(local.url + "/")).text == "inside"
        assert local.hits == 1


def test_the_operator_may_allow_private_addresses(settings: Settings) -> None:
    assert outbound_transport(settings.model_copy(update={"allow_private_outbound": True})
                              ) is None
    assert isinstance(outbound_transport(
        settings.model_copy(update={"allow_private_outbound": False})), GuardedTransport)


class Recording(httpcore.AsyncNetworkBackend):
    """Where the pinned backend asked to connect; no connection is made."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
                          local_address: str | None = None,
                          socket_options: object = None) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        raise httpcore.ConnectError("recorded only")

    async def sleep(self, seconds: float) -> None:
        return None


def resolving(monkeypatch: pytest.MonkeyPatch, *answers: list[str]) -> list[str]:
    """Make each name lookup answer the next list of addresses; returns the names asked."""
    asked: list[str] = []
    pending = list(answers)

    async def getaddrinfo(self: object, host: str, port: int, **kw: object) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in pending.pop(0)]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return asked


async def test_the_connection_goes_to_the_address_that_was_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebinding name: public for the first lookup, loopback for any later one. The
    # backend looks it up once and connects to that public address, never to the name.
    asked = resolving(monkeypatch, ["140.82.112.6"], ["127.0.0.1"])
    recording = Recording()
    async with httpx.AsyncClient(transport=GuardedTransport(recording)) as client:
        with pytest.raises(httpx.ConnectError, match="recorded only"):
            await client.get("https://rebind.example/api")
    assert asked == ["rebind.example"]
    assert recording.connected == [("140.82.112.6", 443)]


async def test_one_private_address_among_public_ones_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, ["140.82.112.6", "10.0.0.7"])
    recording = Recording()
    async with httpx.AsyncClient(transport=GuardedTransport(recording)) as client:
        with pytest.raises(PrivateAddressRefused, match=r"10\.0\.0\.7"):
            await client.get("http://mixed.example/")
    assert recording.connected == []
