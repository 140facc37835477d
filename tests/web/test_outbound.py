"""Requests to addresses a project chose never reach this machine or a private network,
unless the operator allows it (FORUM_ALLOW_PRIVATE_OUTBOUND)."""

from __future__ import annotations

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
