"""The topics domain's registrations: models, the write API, default categories for new
projects, and demo content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from forum import events
from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.topics.models", "forum.topics.reading"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.topics import api_routes

    return api_routes.routes()


@hookimpl
async def on_project_created(event: events.ProjectCreated) -> None:
    """Every new project starts with the default categories."""
    from forum.projects.models import Project
    from forum.topics.categories import ensure_default_categories

    project = await Project.get_or_none(id=event.id)
    if project is not None:
        await ensure_default_categories(project)


@hookimpl
async def forum_demo(platform: Platform, project_id: int, user_ids: dict[str, int]
                     ) -> list[str]:
    """Questions, answers, votes and accepted answers for the demo project."""
    from forum.topics.demo import seed_topics

    return await seed_topics(platform, project_id, user_ids)
