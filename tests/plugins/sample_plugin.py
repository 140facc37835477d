"""A plugin that lives in the tests and uses every kind of hook.

What each hook proves is tested in ``tests/plugins/test_sample_plugin.py``.

Registered by the test fixtures exactly as an entry-point plugin would be: a module with
``hookimpl`` functions. Its model lives in its own Tortoise app, ``sample``.
"""

from __future__ import annotations

import click
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute, Route

from forum import events
from forum.hookspecs import (
    CronDefinition,
    JobDefinition,
    ModelApp,
    PluginSettings,
    hookimpl,
)
from forum.jobs import JobContext

PLUGIN_NAME = "sample"


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "from the sample plugin"})


async def page(request: Request) -> HTMLResponse:
    """A page of the plugin's own, in the site layout (so its footer outlet shows)."""
    from forum.web.templating import render

    return await render(request, "sample/page.html", {"greeting": "Hello from a plugin page"})


async def record_tick(ctx: JobContext, *, label: str = "tick") -> None:
    from tests.plugins.sample.models import SampleRecord

    await SampleRecord.create(kind="cron", label=label)


class SampleSettings(BaseModel):
    greeting: str = "hi"
    max_items: int = 3


@hookimpl
def forum_models() -> ModelApp:
    return ModelApp("sample", ["tests.plugins.sample.models"], "tests.plugins.sample.migrations")


@hookimpl
def forum_routes() -> list[BaseRoute]:
    return [Route("/sample/hello", hello), Route("/sample/page", page)]


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("sample.tick", record_tick)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("sample.tick", kwargs={"label": "every-minute"})]


@hookimpl
def forum_settings_schema() -> PluginSettings:
    return PluginSettings("Sample", SampleSettings)


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"footer": "sample/footer.html"}


@hookimpl
def forum_template_dirs() -> list[str]:
    from pathlib import Path

    return [str(Path(__file__).parent / "sample" / "templates")]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    @cli.command("sample-hello")
    def sample_hello() -> None:
        """Say hello from the sample plugin."""
        click.echo("hello from the sample plugin")


@hookimpl
async def on_project_created(event: events.ProjectCreated) -> None:
    from tests.plugins.sample.models import SampleRecord

    await SampleRecord.create(kind="event", label=f"project:{event.slug}")


@hookimpl
async def on_plugin_toggled(event: events.PluginToggled) -> None:
    from tests.plugins.sample.models import SampleRecord

    state = "on" if event.enabled else "off"
    await SampleRecord.create(kind="toggle", label=f"{event.plugin}:{state}")
