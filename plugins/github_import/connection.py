"""Linking a repository to a project, the plugin's settings, and a client for a link.

Secrets (the token, the App's private key, the webhook secret) are sealed with Fernet under
a key derived from the site's secret key: a copied database alone does not reveal them, and
no page or command ever shows them back (only whether one is set).

Two ways in, one code path: ``mode`` "token" sends the stored token; "app" asks
``auth.installation_tokens`` for the installation's token. ``api_url`` points at
api.github.com or a GitHub Enterprise Server (``https://ghe.example.com/api/v3``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from forum.web.outbound import outbound_transport
from plugins.github_import.auth import installation_tokens
from plugins.github_import.client import DEFAULT_API_URL, GitHubClient
from plugins.github_import.models import AuthMode, Connection

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

NAME = "github_import"  # the entry-point name
DEFAULT_BOT = "forum-bot"  # the bot's name when a connection names none
REPO_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
BOT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?")

DEFAULT_TEMPLATE = (
    "Thank you, @{author}. This has been recognised as a support request, so it continues "
    "in {project}'s support queue, where the team answers in order:\n\n{link}\n\n"
    "Sign in there with GitHub to confirm the ticket ({reference}). Expected first "
    "response: {expected_response}. For a faster answer, see the support plans: "
    "{plans_url}\n\nThis issue is closed here; the conversation goes on at the link above."
)
TEMPLATE_FIELDS = ("author", "project", "link", "reference", "expected_response", "plans_url",
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
        description="The bot's comment on an imported issue. Fields you can use: "
        + ", ".join("{" + p + "}" for p in TEMPLATE_FIELDS) + ".")


def fill_template(template: str, values: dict[str, str]) -> str:
    """Fill in the known ``{fields}``; anything else in braces stays as written."""
    return re.sub(r"\{([a-z_]+)\}",
                  lambda m: values.get(m.group(1), m.group(0)), template)


async def project_options(platform: Platform, project_id: int) -> GitHubSettings:
    from forum.projects.plugin_settings import project_plugin_settings

    found = await project_plugin_settings(platform, project_id, NAME)
    return found if isinstance(found, GitHubSettings) else GitHubSettings()


# Secrets (sealed under the site key: Platform.seal)

def seal(platform: Platform, value: str) -> str:
    return platform.seal(NAME, value)


def unseal(platform: Platform, sealed: str) -> str:
    """The secret, or "" when none is stored or it was sealed under another site key."""
    return platform.unseal(NAME, sealed)


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
    # The API URL is the project's choice (GitHub Enterprise Server): no private hosts.
    transport = outbound_transport(platform.settings)
    if connection.mode == AuthMode.APP:
        app_id, installation = connection.app_id, connection.installation_id
        key = unseal(platform, connection.private_key_sealed)

        async def provider() -> str:
            return await installation_tokens.token(api_url, app_id, key, installation,
                                                   transport=transport)

        return GitHubClient(api_url, token_provider=provider, transport=transport)
    return GitHubClient(api_url, token=unseal(platform, connection.token_sealed),
                        transport=transport)


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


# Linking a repository (the settings page and ``forum github link``)


class LinkIn(BaseModel):
    """A repository to link, as typed in. Secrets left blank keep the stored ones."""

    repo: str = Field(max_length=140, description="owner/name")
    mode: AuthMode = AuthMode.TOKEN
    token: str = Field(default="", max_length=500)
    app_id: str = Field(default="", max_length=40, pattern=r"^[0-9]*$")
    installation_id: str = Field(default="", max_length=40, pattern=r"^[0-9]*$")
    private_key: str = Field(default="", max_length=10_000)
    webhook_secret: str = Field(default="", max_length=500)
    api_url: str = Field(default=DEFAULT_API_URL, max_length=300)
    bot_name: str = Field(default="", max_length=100)


def link_problems(data: LinkIn) -> dict[str, str]:
    """What is wrong with the typed-in link, by field (empty: nothing)."""
    problems: dict[str, str] = {}
    if not REPO_RE.fullmatch(data.repo.strip()):
        problems["repo"] = "write the repository as owner/name"
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", data.api_url.strip()):
        problems["api_url"] = "an http(s) URL, e.g. https://api.github.com"
    if data.bot_name and not BOT_RE.fullmatch(data.bot_name.strip().lstrip("@")):
        problems["bot_name"] = "a GitHub login, e.g. my-project-bot"
    if data.private_key and "PRIVATE KEY" not in data.private_key:
        problems["private_key"] = "the App's private key in PEM form (BEGIN ... PRIVATE KEY)"
    return problems


async def check_link(platform: Platform, project_id: int, data: LinkIn) -> Connection:
    """Validate (422 naming the fields; 409 when another project has the repository) and
    store the link."""
    from forum.web.errors import Conflict, Invalid

    problems = link_problems(data)
    repo = normalize_repo(data.repo)
    existing = await Connection.get_or_none(repo=repo)
    if existing is not None and existing.project_id != project_id:
        raise Conflict(f"{repo} is already linked to another project.",
                       fields={"repo": "linked elsewhere"})
    def has(sealed: str) -> bool:
        return existing is not None and bool(sealed)

    if data.mode == AuthMode.TOKEN and not data.token and not has(
            existing.token_sealed if existing else ""):
        problems["token"] = "a token with Issues (read and write) on the repository"
    if data.mode == AuthMode.APP:
        if not data.app_id:
            problems["app_id"] = "the App's id"
        if not data.installation_id:
            problems["installation_id"] = "the installation's id"
        if not data.private_key and not has(existing.private_key_sealed if existing else ""):
            problems["private_key"] = "the App's private key"
    if not data.webhook_secret and not has(existing.webhook_secret_sealed if existing else ""):
        problems["webhook_secret"] = "the secret the repository's webhook signs with"
    if problems:
        raise Invalid("The link is incomplete: " + "; ".join(
            f"{k}: {v}" for k, v in problems.items()) + ".", fields=problems)
    return await do_link(platform, project_id, data, existing)


async def do_link(platform: Platform, project_id: int, data: LinkIn,
                  existing: Connection | None) -> Connection:
    values: dict[str, Any] = {
        "project_id": project_id, "mode": data.mode,
        "api_url": data.api_url.strip().rstrip("/"),
        "bot_name": data.bot_name.strip().lstrip("@"),
        "app_id": data.app_id, "installation_id": data.installation_id}
    for name, value in (("token_sealed", data.token), ("webhook_secret_sealed",
                        data.webhook_secret), ("private_key_sealed", data.private_key)):
        if value:
            values[name] = seal(platform, value.strip())
    if existing is None:
        return await Connection.create(repo=normalize_repo(data.repo), **values)
    await Connection.filter(id=existing.id).update(**values)
    await existing.refresh_from_db()
    return existing


async def do_unlink(connection: Connection) -> None:
    await Connection.filter(id=connection.id).delete()


# Checking a link: does the token reach the repository, does a webhook point here?


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    lines: list[str]  # what was found, problems first


def webhook_url(platform: Platform) -> str:
    return f"{platform.settings.public_url.rstrip('/')}/webhooks/github"


def hook_problems(hook: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    config = hook.get("config") if isinstance(hook.get("config"), dict) else {}
    assert isinstance(config, dict)
    if not hook.get("active", False):
        problems.append("The webhook is inactive: switch it on in the repository's settings.")
    if config.get("content_type") != "json":
        problems.append("The webhook sends form data: set its content type to "
                        "application/json.")
    sent = set(hook.get("events") or [])
    missing = [e for e in ("issues", "issue_comment") if e not in sent and "*" not in sent]
    if missing:
        names = {"issues": "Issues", "issue_comment": "Issue comments"}
        problems.append("The webhook does not send " + " and ".join(
            names[m] for m in missing) + " events: tick them in its settings.")
    return problems


async def check_connection(platform: Platform, connection: Connection) -> CheckResult:
    """Ask GitHub whether the stored credentials reach the repository and whether a webhook
    points at this site; say exactly what is wrong."""
    from plugins.github_import.client import GitHubError, RateLimited

    problems: list[str] = []
    found: list[str] = []
    url = webhook_url(platform)
    if not connection.webhook_secret_sealed:
        problems.append("No webhook secret is stored: deliveries cannot be verified.")
    try:
        async with client_for(platform, connection) as gh:
            try:
                repo = await gh.get_repo(connection.repo)
            except RateLimited as limited:
                return CheckResult(False, [f"GitHub's rate limit is reached: try again in "
                                           f"{int(limited.wait_seconds)} seconds."])
            except GitHubError as failed:
                return CheckResult(False, [*problems, _repo_problem(connection, failed)])
            found.append(f"The token reaches {repo.get('full_name', connection.repo)}.")
            permissions = repo.get("permissions")
            if isinstance(permissions, dict) and not (
                    permissions.get("push") or permissions.get("triage")
                    or permissions.get("maintain") or permissions.get("admin")):
                problems.append("The token can only read the repository: it needs Issues "
                                "(read and write) to comment, label and close.")
            try:
                hooks = await gh.list_hooks(connection.repo)
            except GitHubError as failed:
                problems.append(f"The repository's webhooks cannot be read ({failed.status} "
                                f"{failed.message}): give the token Webhooks (read), or "
                                f"check by hand that one points at {url}.")
                return CheckResult(False, [*problems, *found])
    except GitHubError as failed:  # e.g. an App token could not be had
        return CheckResult(False, [*problems, _repo_problem(connection, failed)])
    ours = [h for h in hooks if isinstance(h.get("config"), dict)
            and str(h["config"].get("url", "")).rstrip("/") == url]
    if not ours:
        problems.append(f"No webhook of {connection.repo} points at {url}: add one with "
                        f"content type application/json, the Issues and Issue comments "
                        f"events, and the webhook secret stored here.")
    else:
        hook_issues = hook_problems(ours[0])
        problems.extend(hook_issues)
        if not hook_issues:
            found.append(f"A webhook sends issues and comments to {url}.")
    return CheckResult(not problems, [*problems, *found])


def _repo_problem(connection: Connection, failed: Exception) -> str:
    from plugins.github_import.client import GitHubError

    status = failed.status if isinstance(failed, GitHubError) else 0
    message = failed.message if isinstance(failed, GitHubError) else str(failed)
    if status == 0:
        return f"GitHub could not be reached at {connection.api_url}: {message}"
    if status == 401:
        return f"GitHub refused the credentials (401 {message}): store a valid token."
    if status in (403, 404):
        return (f"{connection.repo} was not found, or the credentials may not see it "
                f"({status} {message}): check the name and the token's repository access.")
    return f"GitHub answered {status} {message} for {connection.repo}."
