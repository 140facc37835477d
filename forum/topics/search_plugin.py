"""Hook implementations of the topics domain for search (see forum/topics/plugin.py).

Every change to a topic or post queues ``search.index_topic`` for that topic; the job
runs after the change committed, never inside the request.
"""

from __future__ import annotations

import click
from starlette.routing import BaseRoute

from forum import events
from forum.hookspecs import JobDefinition, hookimpl
from forum.platform import Platform

INDEX_JOB = "search.index_topic"


async def _queue(platform: Platform, topic_id: int) -> None:
    await platform.enqueue(INDEX_JOB, topic_id=topic_id)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.topics.search_index import index_topic

    return [JobDefinition(INDEX_JOB, index_topic, max_tries=5)]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.topics.search_routes import routes

    return routes()


def reindex_command() -> click.Command:
    """``forum reindex [--project SLUG]``, built when the CLI asks (forum.cli imports the
    platform, so it is imported here lazily)."""
    from forum.cli import fail, pass_platform, run_with_db
    from forum.projects.models import Project
    from forum.topics.search_index import count_topics, reindex

    @click.command("reindex")
    @click.option("--project", "project_slug", metavar="SLUG", help="Only this project.")
    @pass_platform
    def command(platform: Platform, project_slug: str | None) -> None:
        """Rebuild the search index from the database (all projects, or one)."""

        async def work() -> int | None:
            await platform.search.setup()
            project_id: int | None = None
            if project_slug is not None:
                project = await Project.get_or_none(slug=project_slug)
                if project is None:
                    return None
                project_id = project.id
            total = await count_topics(project_id)
            with click.progressbar(length=total, label="Indexing topics") as bar:
                async for done in reindex(platform, project_id):
                    bar.update(done)
            return total

        total = run_with_db(platform, work)
        if total is None:
            fail(f"no project {project_slug!r}")
            return
        click.echo(f"Indexed {total} topic{'' if total == 1 else 's'}.")

    return command


@hookimpl
def forum_cli(cli: click.Group) -> None:
    cli.add_command(reindex_command())


@hookimpl
async def on_topic_created(event: events.TopicCreated, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_topic_changed(event: events.TopicChanged, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_post_created(event: events.PostCreated, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_post_edited(event: events.PostEdited, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_post_deleted(event: events.PostDeleted, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_answer_accepted(event: events.AnswerAccepted, platform: Platform) -> None:
    await _queue(platform, event.topic_id)  # the topic's state becomes solved (or open)


@hookimpl
async def on_post_hidden(event: events.PostHidden, platform: Platform) -> None:
    await _queue(platform, event.topic_id)


@hookimpl
async def on_post_unhidden(event: events.PostUnhidden, platform: Platform) -> None:
    await _queue(platform, event.topic_id)
