from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from forum.platform import Platform
from forum.projects import plugin_settings
from forum.projects.models import ProjectPlugin
from forum.projects.service import enabled_plugin_names
from tests.factories import make_project


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Everything(BaseModel):
    on: bool = True
    count: int = 2
    ratio: float = 0.5
    mode: Literal["fast", "slow"] = "slow"
    colour: Colour = Colour.BLUE
    label: str = Field(default="x", title="The label", description="Shown on top")
    limit: int | None = None


def test_form_fields_follow_the_schema() -> None:
    fields = {f.name: f for f in plugin_settings.form_fields(Everything, Everything())}
    assert {n: f.kind for n, f in fields.items()} == {
        "on": "checkbox", "count": "number", "ratio": "decimal", "mode": "select",
        "colour": "select", "label": "text", "limit": "number"}
    assert fields["mode"].options == ["fast", "slow"]
    assert fields["colour"].options == ["red", "blue"] and fields["colour"].value == "blue"
    assert (fields["label"].label, fields["label"].help) == ("The label", "Shown on top")
    assert fields["count"].label == "Count"


def test_unchecked_checkbox_means_false() -> None:
    raw = plugin_settings.form_values(Everything, {"count": "4", "csrf_token": "t"})
    assert raw == {"on": False, "count": "4"}
    assert Everything.model_validate(raw).count == 4


@pytest.mark.usefixtures("db")
async def test_settings_read_back_with_defaults(platform: Platform) -> None:
    project = await make_project("acme")
    values = await plugin_settings.project_plugin_settings(platform, project.id, "sample")
    assert values is not None and values.model_dump() == {"greeting": "hi", "max_items": 3}
    await ProjectPlugin.create(project=project, name="sample", enabled=False,
                               settings={"max_items": "not a number any more"})
    values = await plugin_settings.project_plugin_settings(platform, project.id, "sample")
    assert values is not None and values.model_dump() == {"greeting": "hi", "max_items": 3}
    assert await plugin_settings.project_plugin_settings(platform, project.id, "nope") is None


@pytest.mark.usefixtures("db")
async def test_toggle_only_reports_changes(platform: Platform) -> None:
    project = await make_project("acme")
    assert not await plugin_settings.do_toggle_plugin(platform, project, "sample", False)
    assert not await ProjectPlugin.exists()
    assert await plugin_settings.do_toggle_plugin(platform, project, "sample", True)
    assert await enabled_plugin_names(platform, project.id) == {"sample"}
    assert not await plugin_settings.do_toggle_plugin(platform, project, "sample", True)
    assert await plugin_settings.do_toggle_plugin(platform, project, "sample", False)
    assert await enabled_plugin_names(platform, project.id) == set()
    states = await plugin_settings.plugin_states(platform, project)
    sample = next(s for s in states if s.name == "sample")
    assert (sample.enabled, sample.title) == (False, "Sample")
    assert [f.name for f in sample.fields] == ["greeting", "max_items"]
