"""Linking a repository: the project's GitHub page (leads only), the Check button that
says exactly what is wrong, secrets kept sealed, and ``forum github link``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner
from tortoise import Tortoise

from forum.cli import cli
from forum.db import init_db
from forum.platform import Platform
from forum.projects.models import Role
from plugins.github_import.connection import GitHubSettings, check_connection, unseal
from plugins.github_import.models import AuthMode, Connection
from tests.conftest import base_settings, make_plugins
from tests.factories import add_member, make_project, make_user
from tests.plugins.github_import.conftest import REPO, SECRET, TOKEN, link_repo
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.support import Login, post_form

T = TypeVar("T")
HOOK_URL = "http://testserver/webhooks/github"


async def test_lead_links_a_repository_and_secrets_are_never_shown(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    lead = await make_user("lead")
    project = await make_project("demo", owner=lead)
    await login(lead)
    page = await client.get("/p/demo/github")
    assert page.status_code == 200 and "No repository is linked yet." in page.text
    answer = await post_form(client, "/p/demo/github", {
        "repo": REPO, "mode": "token", "token": "ghp_secret_value", "webhook_secret": "whsec",
        "api_url": fake_github.url, "bot_name": "@demo-bot"})
    assert answer.status_code == 303 and answer.headers["location"] == "/p/demo/github"
    connection = await Connection.get(project_id=project.id)
    assert connection.repo == REPO.lower() and connection.bot_name == "demo-bot"
    assert "ghp_secret_value" not in connection.token_sealed
    assert unseal(platform, connection.token_sealed) == "ghp_secret_value"
    assert unseal(platform, connection.webhook_secret_sealed) == "whsec"
    page = await client.get("/p/demo/github")
    assert REPO.lower() in page.text and "ghp_secret_value" not in page.text
    assert "whsec" not in page.text and HOOK_URL in page.text
    # Saving again with blank secrets keeps them.
    await post_form(client, "/p/demo/github", {"repo": REPO, "api_url": fake_github.url,
                                               "bot_name": "other-bot"})
    await connection.refresh_from_db()
    assert connection.bot_name == "other-bot"
    assert unseal(platform, connection.token_sealed) == "ghp_secret_value"


async def test_bad_link_form_names_the_fields(client: httpx.AsyncClient, login: Login) -> None:
    lead = await make_user("lead")
    await make_project("demo", owner=lead)
    await login(lead)
    answer = await post_form(client, "/p/demo/github", {"repo": "not a repo", "mode": "app",
                                                        "api_url": "ftp://x"})
    assert answer.status_code == 422
    for words in ("write the repository as owner/name", "the App&#39;s id",
                  "the installation&#39;s id", "an http(s) URL"):
        assert words in answer.text
    assert not await Connection.exists()


async def test_only_leads_of_the_project_reach_the_page(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    connection = await link_repo(platform, fake_github)
    member, maintainer, stranger = (await make_user("member"), await make_user("maint"),
                                    await make_user("stranger"))
    project = await make_project("other", owner=stranger)
    demo = await Connection.get(id=connection.id)
    from forum.projects.models import Project

    demo_project = await Project.get(id=demo.project_id)
    await add_member(demo_project, member)
    await add_member(demo_project, maintainer, Role.MAINTAINER)
    for user in (member, maintainer, stranger):
        await login(user)
        assert (await client.get("/p/demo/github")).status_code == 403
        refused = await client.post(f"/p/demo/github/{connection.id}/check",
                                    data={"csrf_token": "x"})
        assert refused.status_code == 403
    await login(None)
    assert (await client.get("/p/demo/github")).status_code in (401, 303)
    # The lead of another project cannot touch this project's link through their own page.
    await login(stranger)
    assert project.slug == "other"
    answer = await post_form(client, f"/p/other/github/{connection.id}/unlink", {},
                             page="/p/other/github")
    assert answer.status_code == 404
    assert await Connection.exists(id=connection.id)
    answer = await post_form(client, "/p/other/github", {
        "repo": REPO, "token": "t", "webhook_secret": "s", "api_url": fake_github.url})
    assert answer.status_code == 409 and "already linked to another project" in answer.text


async def test_check_button_reports_what_is_wrong(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    connection = await link_repo(platform, fake_github)
    from forum.projects.models import Project

    lead = await make_user("boss")
    await add_member(await Project.get(id=connection.project_id), lead, Role.LEAD)
    await login(lead)
    page = await post_form(client, f"/p/demo/github/{connection.id}/check", {},
                           page="/p/demo/github")
    assert page.status_code == 200 and "Something is wrong:" in page.text
    assert f"No webhook of {REPO.lower()} points at {HOOK_URL}" in page.text
    fake_github.add_hook(REPO, HOOK_URL, events=["issues"], content_type="form")
    page = await post_form(client, f"/p/demo/github/{connection.id}/check", {},
                           page="/p/demo/github")
    assert "set its content type to application/json" in page.text
    assert "does not send Issue comments events" in page.text
    fake_github.repo(REPO).hooks.clear()
    fake_github.add_hook(REPO, HOOK_URL)
    page = await post_form(client, f"/p/demo/github/{connection.id}/check", {},
                           page="/p/demo/github")
    assert "Everything is in order." in page.text
    assert f"A webhook sends issues and comments to {HOOK_URL}." in page.text


async def test_check_explains_credentials_and_reachability(
        platform: Platform, db: None, fake_github: FakeGitHub) -> None:
    connection = await link_repo(platform, fake_github)
    fake_github.tokens.clear()
    result = await check_connection(platform, connection)
    assert not result.ok and "GitHub refused the credentials (401 Bad credentials)" in \
        result.lines[0]
    fake_github.add_token(TOKEN)
    fake_github.repos.clear()
    result = await check_connection(platform, connection)
    assert f"{REPO.lower()} was not found" in result.lines[0]
    await Connection.filter(id=connection.id).update(api_url="http://127.0.0.1:9")
    await connection.refresh_from_db()
    result = await check_connection(platform, connection)
    assert result.lines[0].startswith("GitHub could not be reached at http://127.0.0.1:9")


async def test_app_mode_check_uses_an_installation_token(
        platform: Platform, db: None, fake_github: FakeGitHub) -> None:
    from plugins.github_import.auth import installation_tokens
    from plugins.github_import.connection import LinkIn, check_link
    from tests.plugins.github_import.test_client import rsa_pair

    installation_tokens.forget()
    private, public = rsa_pair()
    fake_github.add_app("42", public)
    fake_github.add_repo(REPO)
    fake_github.add_hook(REPO, HOOK_URL)
    project = await make_project("appy", owner=await make_user("appy-lead"))
    connection = await check_link(platform, project.id, LinkIn(
        repo=REPO, mode=AuthMode.APP, app_id="42", installation_id="7", private_key=private,
        webhook_secret=SECRET, api_url=fake_github.url))
    result = await check_connection(platform, connection)
    assert result.ok, result.lines
    assert [c.path for c in fake_github.calls] == [
        "/app/installations/7/access_tokens", f"/repos/{REPO.lower()}",
        f"/repos/{REPO.lower()}/hooks"]
    installation_tokens.forget()


def test_settings_schema_defaults() -> None:
    values = GitHubSettings()
    assert not values.private_drafts and not values.lock_on_import
    assert "{link}" in values.comment_template and "{expected_response}" in \
        values.comment_template and "{plans_url}" in values.comment_template


# ``forum github link``: a command run against a database configured by FORUM_* variables.


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
            "FORUM_SECRET_KEY": "cli-test-secret",
            "FORUM_ALLOW_PRIVATE_OUTBOUND": "1", "FORUM_BASE_URL": "http://testserver",
            "FORUM_CONFIG_FILE": str(tmp_path / "none.toml")}


def with_db(database_url: str, tmp_path: Path, work: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        await init_db(base_settings(tmp_path, database_url), make_plugins())
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_link_and_check(env: dict[str, str], database_url: str, tmp_path: Path,
                            fake_github: FakeGitHub) -> None:
    async def setup() -> None:
        await make_project("demo", owner=await make_user("lead"))

    with_db(database_url, tmp_path, setup)
    fake_github.add_token(TOKEN)
    fake_github.add_repo(REPO)
    code, out, err = run(env, "github", "link", "demo", REPO, "--token", TOKEN,
                         "--webhook-secret", SECRET, "--api-url", fake_github.url,
                         "--bot-name", "demo-bot", "--check")
    assert code == 1
    assert out.splitlines()[0] == f"linked {REPO.lower()} to demo (token, {fake_github.url})"
    assert f"No webhook of {REPO.lower()} points at {HOOK_URL}" in out
    assert err.strip() == "forum: the check found problems (above)"
    fake_github.add_hook(REPO, HOOK_URL)
    code, out, err = run(env, "github", "check", "demo")
    assert code == 0, err
    assert out.splitlines()[0] == f"{REPO.lower()}: ok"

    async def stored() -> Any:
        return await Connection.get(repo=REPO.lower())

    connection = with_db(database_url, tmp_path, stored)
    assert connection.bot_name == "demo-bot" and TOKEN not in connection.token_sealed
    assert connection.api_url == fake_github.url


@pytest.mark.parametrize(("args", "error"), [
    (["nope", REPO, "--token", "t", "--webhook-secret", "s"], "forum: no project 'nope'"),
    (["demo", "bad", "--token", "t", "--webhook-secret", "s"],
     "forum: The link is incomplete: repo: write the repository as owner/name."),
    (["demo", REPO, "--webhook-secret", "s"], "forum: The link is incomplete: token: a token "
     "with Issues (read and write) on the repository."),
    (["demo", REPO, "--token", "t"], "forum: The link is incomplete: webhook_secret: the "
     "secret the repository's webhook signs with."),
])
def test_cli_link_errors_are_one_line(env: dict[str, str], database_url: str, tmp_path: Path,
                                      args: list[str], error: str) -> None:
    async def setup() -> None:
        await make_project("demo", owner=await make_user("lead"))

    with_db(database_url, tmp_path, setup)
    code, out, err = run(env, "github", "link", *args)
    assert code == 1 and out == ""
    assert err.strip() == error


async def test_project_home_links_the_github_page_for_leads_only(
        client: httpx.AsyncClient, login: Login) -> None:
    lead, member = await make_user("lead"), await make_user("member")
    project = await make_project("demo", owner=lead)
    await add_member(project, member)
    await login(lead)
    home = await client.get("/p/demo")
    assert 'href="/p/demo/github"' in home.text and "the GitHub plugin is off" in home.text
    await login(member)
    assert 'href="/p/demo/github"' not in (await client.get("/p/demo")).text


async def test_an_api_url_on_this_machine_is_refused_unless_the_operator_allows_it(
        platform: Platform, db: None, fake_github: FakeGitHub) -> None:
    connection = await link_repo(platform, fake_github)
    allowed = await check_connection(platform, connection)  # as the test settings allow
    assert "The token reaches" in allowed.lines[-1]
    calls = len(fake_github.calls)
    platform.settings = platform.settings.model_copy(update={"allow_private_outbound": False})
    result = await check_connection(platform, connection)
    assert not result.ok and "private or local address" in result.lines[0]
    assert len(fake_github.calls) == calls  # nothing reached the fake
