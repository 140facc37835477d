"""The GitHub bridge's hook implementations: its tables, routes, jobs, settings, pages and
the ``forum github`` commands.

What each part does lives beside it: connection.py (linking a repository), webhook.py
(``POST /webhooks/github``), support_import.py ("+support"), settings_routes.py (the
project's GitHub page), cli.py (``forum github ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from forum.hookspecs import CronDefinition, JobDefinition, ModelApp, PluginSettings, hookimpl
from plugins.github_import.connection import NAME, GitHubSettings

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from forum import events
    from forum.platform import Platform
    from plugins.github_import.webhook import WebhookHandler

PLUGIN_NAME = NAME


def webhook_handlers() -> list[WebhookHandler]:
    """Who hears a verified, linked delivery, in order (each decides for itself whether
    the event is theirs and returns a line for the log, or None)."""
    from plugins.github_import import mirror, support_import, sync

    # State sync first: it only hears issues already linked, so a "support" label on an
    # issue that "+support" is about to import is not told twice.
    return [sync.on_webhook, mirror.on_webhook, support_import.on_webhook]


@hookimpl
def forum_models() -> ModelApp:
    return ModelApp("github_import", ["plugins.github_import.models"],
                    "plugins.github_import.migrations")


@hookimpl
def forum_settings_schema() -> PluginSettings:
    return PluginSettings("GitHub", GitHubSettings)


@hookimpl
def forum_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    # The topic page: the linked issue, and the escalation link for maintainers.
    return {"topic_actions": "github_import/escalate_topic_actions.html",
            # The project's home: the GitHub page, for its owners and leads.
            "project": "github_import/project_links.html"}


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from plugins.github_import import escalate_routes, settings_routes, webhook_routes

    return [*webhook_routes.routes(), *settings_routes.routes(), *escalate_routes.routes()]


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from plugins.github_import import support_import, sync, webhook

    return [
        JobDefinition("github_import.delivery", webhook.process_delivery, max_tries=5),
        JobDefinition("github_import.support", support_import.import_job, max_tries=8),
        JobDefinition("github_import.announce", support_import.announce_job, max_tries=8),
        JobDefinition("github_import.prune_deliveries", webhook.prune_deliveries),
        JobDefinition(sync.CLOSE_JOB, sync.topic_closed_job, max_tries=8),
    ]


@hookimpl
async def on_topic_changed(event: events.TopicChanged, platform: Platform) -> None:
    from plugins.github_import import sync

    await sync.on_topic_changed(platform, event.project, event.topic_id, event.change)


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from plugins.github_import import bulk
    from plugins.github_import.cli import github

    bulk.register(github)  # forum github import
    cli.add_command(github)


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("github_import.prune_deliveries", minute={17}, hour={3})]
