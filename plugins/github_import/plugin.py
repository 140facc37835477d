"""The GitHub bridge's hook implementations: its tables, routes, jobs, settings, pages and
the ``forum github`` commands.

What each part does lives beside it: connection.py (linking a repository), webhook.py
(``POST /webhooks/github``), support_import.py ("+support"), settings_routes.py (the
project's GitHub page), cli.py (``forum github ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from forum.hookspecs import ModelApp, PluginSettings, hookimpl
from plugins.github_import.connection import NAME, GitHubSettings

if TYPE_CHECKING:
    from plugins.github_import.webhook import WebhookHandler

PLUGIN_NAME = NAME


def webhook_handlers() -> list[WebhookHandler]:
    """Who hears a verified, linked delivery, in order (each decides for itself whether
    the event is theirs and returns a line for the log, or None)."""
    return []


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
    return {"topic_actions": "github_import/escalate_topic_actions.html"}
