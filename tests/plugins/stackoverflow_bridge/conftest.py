"""Fixtures for the Stack Overflow bridge: the fake API (one server per module, emptied
for each test), settings that point the bridge at it, and a project that switched the
bridge on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from forum.platform import Platform
from forum.projects.models import Project
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.stackoverflow_bridge.poll import NAME, BridgeSettings
from tests.factories import make_project, make_user
from tests.plugins.stackoverflow_bridge.fake_stackexchange import FakeStackExchange, ServedFake


@pytest.fixture(scope="module")
def served_api() -> Iterator[FakeStackExchange]:
    fake = FakeStackExchange()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def api(served_api: FakeStackExchange) -> FakeStackExchange:
    served_api.reset()
    return served_api


@pytest.fixture
def settings_overrides(api: FakeStackExchange) -> dict[str, Any]:
    return {"stackexchange_api_url": api.api_url}


async def bridge_on(platform: Platform, project: Project | None = None,
                    **values: Any) -> Project:
    """A project (new unless given) with the bridge switched on and ``values`` set."""
    if project is None:
        project = await make_project(owner=await make_user())
    await do_toggle_plugin(platform, project, NAME, True)
    await do_save_plugin_settings(platform, project, NAME,
                                  BridgeSettings(**{"tags": "python", **values}))
    return project
