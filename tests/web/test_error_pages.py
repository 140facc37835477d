from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.app import create_app
from forum.hookspecs import hookimpl
from forum.platform import build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from forum.web.errors import Forbidden


class BrokenRoutes:
    """A plugin whose pages fail in the ways a real page can."""

    PLUGIN_NAME = "broken"

    @hookimpl
    def forum_routes(self) -> list[BaseRoute]:
        async def boom(request: Request) -> Response:
            raise RuntimeError("database exploded: secret detail")

        async def forbidden(request: Request) -> Response:
            raise Forbidden("Only maintainers may do that.")

        return [Route("/boom", boom), Route("/api/v1/boom", boom),
                Route("/forbidden", forbidden)]


@pytest.fixture
async def broken_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    platform = build_platform(settings, PluginManager(extra=[BrokenRoutes()],
                                                      load_entry_points=False))
    app = create_app(settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_unexpected_error_is_a_500_page_without_traceback(
    broken_client: httpx.AsyncClient,
) -> None:
    response = await broken_client.get("/boom", headers={"x-request-id": "req-42"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "req-42" in response.text
    assert "Traceback" not in response.text
    assert "secret detail" not in response.text


async def test_unexpected_api_error_keeps_the_json_shape(broken_client: httpx.AsyncClient) -> None:
    response = await broken_client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "secret detail" not in response.text


async def test_forbidden_is_a_403_page(broken_client: httpx.AsyncClient) -> None:
    response = await broken_client.get("/forbidden")
    assert response.status_code == 403
    assert "Only maintainers may do that." in response.text
    assert "<h1>Not allowed</h1>" in response.text
