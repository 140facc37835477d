"""How plugins are found and checked: entry points, ``disabled=`` and the closed contract."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pluggy
import pytest

from forum.app import create_app
from forum.hookspecs import hookimpl
from forum.platform import build_platform
from forum.plugins import CORE_PLUGINS, PluginManager
from forum.settings import Settings
from tests.conftest import base_settings
from tests.plugins import sample_plugin
from tests.plugins.conftest import InstallDistribution

GREETER = '''
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from forum.hookspecs import hookimpl


async def greet(request: Request) -> PlainTextResponse:
    return PlainTextResponse("greetings from an installed plugin")


@hookimpl
def forum_routes():
    return [Route("/greeter", greet)]
'''


def route_paths(plugins: PluginManager) -> set[str]:
    return {str(getattr(route, "path", "")) for route in plugins.collect("forum_routes")}


def test_entry_point_plugin_is_discovered(install_distribution: InstallDistribution) -> None:
    install_distribution("forum-greeter", {"greeter": "forum_greeter_plugin"},
                         modules={"forum_greeter_plugin": GREETER})
    plugins = PluginManager()
    assert "greeter" in plugins.names()
    assert "/greeter" in route_paths(plugins)
    # Core domains are registered too, but are not optional per project.
    assert plugins.core == set(CORE_PLUGINS)
    assert not set(plugins.names()) & set(CORE_PLUGINS)


def test_without_entry_points_nothing_is_discovered(
    install_distribution: InstallDistribution,
) -> None:
    install_distribution("forum-greeter", {"greeter": "forum_greeter_plugin"},
                         modules={"forum_greeter_plugin": GREETER})
    plugins = PluginManager(load_entry_points=False)
    assert "greeter" not in plugins.names()
    assert "/greeter" not in route_paths(plugins)


def test_disabled_plugin_is_skipped(install_distribution: InstallDistribution) -> None:
    install_distribution("forum-greeter", {"greeter": "forum_greeter_plugin"},
                         modules={"forum_greeter_plugin": GREETER})
    plugins = PluginManager(disabled=[" greeter ", "not-installed"])
    assert "greeter" not in plugins.names()
    assert "/greeter" not in route_paths(plugins)


@pytest.fixture
async def greeter_client(
    install_distribution: InstallDistribution, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    install_distribution("forum-greeter", {"greeter": "forum_greeter_plugin"},
                         modules={"forum_greeter_plugin": GREETER})
    platform = build_platform(settings, PluginManager(extra=[sample_plugin]))
    app = create_app(settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_installed_plugin_route_answers_in_the_app(
    greeter_client: httpx.AsyncClient,
) -> None:
    response = await greeter_client.get("/greeter")
    assert response.status_code == 200
    assert response.text == "greetings from an installed plugin"


@pytest.mark.parametrize("disabled", ["greeter", "sample, greeter"])
def test_disabled_plugins_setting_is_honoured(
    install_distribution: InstallDistribution, tmp_path: Path, disabled: str
) -> None:
    install_distribution("forum-greeter", {"greeter": "forum_greeter_plugin"},
                         modules={"forum_greeter_plugin": GREETER})
    settings = base_settings(tmp_path, f"sqlite://{tmp_path / 'forum.sqlite3'}",
                             disabled_plugins=disabled)
    platform = build_platform(settings)
    assert "greeter" not in platform.plugins.names()
    assert "/greeter" not in route_paths(platform.plugins)


def make_module(name: str, **attributes: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def test_hookimpl_with_argument_not_in_spec_is_refused() -> None:
    @hookimpl
    def forum_routes(app: object) -> list[object]:
        return []

    bad = make_module("bad_arguments", forum_routes=forum_routes)
    with pytest.raises(pluggy.PluginValidationError, match="app"):
        PluginManager(extra=[bad], load_entry_points=False)


def test_hookimpl_of_unknown_hook_is_refused() -> None:
    @hookimpl
    def forum_sidebar() -> list[object]:
        return []

    bad = make_module("bad_hook_name", forum_sidebar=forum_sidebar)
    with pytest.raises(pluggy.PluginValidationError, match="forum_sidebar"):
        PluginManager(extra=[bad], load_entry_points=False)


def test_entry_point_plugin_with_bad_hookimpl_is_refused(
    install_distribution: InstallDistribution,
) -> None:
    source = GREETER.replace("def forum_routes():", "def forum_routes(request):")
    install_distribution("forum-broken", {"broken": "forum_broken_plugin"},
                         modules={"forum_broken_plugin": source})
    with pytest.raises(pluggy.PluginValidationError, match="request"):
        PluginManager()
    # Switching it off is the way to start without it.
    assert "broken" not in PluginManager(disabled=["broken"]).names()


def test_hookimpl_using_fewer_arguments_than_spec_is_accepted() -> None:
    @hookimpl
    def on_project_created() -> None:
        return None

    fine = make_module("fewer_arguments", on_project_created=on_project_created)
    plugins = PluginManager(extra=[fine], load_entry_points=False)
    assert plugins.names() == ["fewer_arguments"]
