"""Linking a repository to a project, the plugin's settings, and a client for a link.

Secrets (the token, the App's private key, the webhook secret) are sealed with Fernet under
a key derived from the site's secret key: a copied database alone does not reveal them, and
no page or command ever shows them back (only whether one is set).

Two ways in, one code path: ``mode`` "token" sends the stored token; "app" asks
``auth.installation_tokens`` for the installation's token. ``api_url`` points at
api.github.com or a GitHub Enterprise Server (``https://ghe.example.com/api/v3``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, Field

from plugins.github_import.auth import installation_tokens
from plugins.github_import.client import DEFAULT_API_URL, GitHubClient
from plugins.github_import.models import AuthMode, Connection

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

NAME = "github_import"  # the entry-point name
REPO_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
BOT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?")

DEFAULT_TEMPLATE = (
    "Thank you, @{author}. This has been recognised as a support request, so it continues "
    "in {project}'s support queue, where the team answers in order:\n\n{link}\n\n"
    "Sign in there with GitHub to confirm the ticket ({reference}). Expected first "
    "response: {expected_response}. For a faster answer, see the support plans: "
    "{plans_url}\n\nThis issue is closed here; the conversation goes on at the link above."
)
PLACEHOLDERS = ("author", "project", "link", "reference", "expected_response", "plans_url",
                "issue_url")


class GitHubSettings(BaseModel):
    """A project's settings for the GitHub bridge (the repositories are linked on the
    plugin's own page, /p/<slug>/github)."""

    private_drafts: bool = Field(
        default=False, description="Tickets imported from GitHub are private when submitted.")
    lock_on_import: bool = Field(default=False, description="Lock the issue after importing it.")
    mirror_comments: bool = Field(
        default=False, description="Mirror comments on linked issues as read-only posts.")
    comment_on_close: bool = Field(
        default=False, description="Comment on the linked issue when the topic is closed.")
    comment_template: str = Field(
        default=DEFAULT_TEMPLATE, max_length=4000,
        description="The bot's comment on an imported issue. Placeholders: "
        + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ".")


def fill_template(template: str, values: dict[str, str]) -> str:
    """Replace the known ``{placeholders}``; anything else in braces stays as written."""
    return re.sub(r"\{([a-z_]+)\}",
                  lambda m: values.get(m.group(1), m.group(0)), template)


async def project_options(platform: Platform, project_id: int) -> GitHubSettings:
    from forum.projects.plugin_settings import project_plugin_settings

    found = await project_plugin_settings(platform, project_id, NAME)
    return found if isinstance(found, GitHubSettings) else GitHubSettings()


# Secrets

def _fernet(platform: Platform) -> Fernet:
    digest = hashlib.sha256(f"github_import:{platform.settings.secret()}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(platform: Platform, value: str) -> str:
    return _fernet(platform).encrypt(value.encode()).decode() if value else ""


def unseal(platform: Platform, sealed: str) -> str:
    """The secret, or "" when none is stored or it was sealed under another site key."""
    if not sealed:
        return ""
    try:
        return _fernet(platform).decrypt(sealed.encode()).decode()
    except InvalidToken:
        log.warning("a GitHub secret cannot be read: the site's secret key changed")
        return ""


def normalize_repo(repo: str) -> str:
    return repo.strip().strip("/").removeprefix("https://github.com/").lower()


async def connection_for_repo(repo: str) -> Connection | None:
    return await Connection.get_or_none(repo=normalize_repo(repo))


@dataclass(frozen=True)
class Credentials:
    """What a connection needs besides the repository, as typed in (not sealed)."""

    mode: AuthMode = AuthMode.TOKEN
    token: str = ""
    app_id: str = ""
    private_key: str = ""
    installation_id: str = ""


def client_for(platform: Platform, connection: Connection) -> GitHubClient:
    """A client authenticated as the connection says (close it after use)."""
    api_url = connection.api_url or DEFAULT_API_URL
    if connection.mode == AuthMode.APP:
        app_id, installation = connection.app_id, connection.installation_id
        key = unseal(platform, connection.private_key_sealed)

        async def provider() -> str:
            return await installation_tokens.token(api_url, app_id, key, installation)

        return GitHubClient(api_url, token_provider=provider)
    return GitHubClient(api_url, token=unseal(platform, connection.token_sealed))


def webhook_secret(platform: Platform, connection: Connection) -> str:
    return unseal(platform, connection.webhook_secret_sealed)


def describe(connection: Connection) -> dict[str, Any]:
    """What the settings page and the CLI show: never a secret, only whether it is set."""
    return {"id": connection.id, "repo": connection.repo, "api_url": connection.api_url,
            "mode": str(connection.mode), "bot_name": connection.bot_name,
            "token_set": bool(connection.token_sealed),
            "app_id": connection.app_id, "installation_id": connection.installation_id,
            "private_key_set": bool(connection.private_key_sealed),
            "webhook_secret_set": bool(connection.webhook_secret_sealed)}
