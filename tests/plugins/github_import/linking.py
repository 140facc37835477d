"""Test setup for the escalation, sync, mirror and bulk tests: a project with the plugin
switched on and a repository of the fake linked to it (token mode)."""

from __future__ import annotations

from dataclasses import dataclass

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.github_import.connection import NAME, GitHubSettings, seal
from plugins.github_import.models import Connection
from tests.factories import add_member, make_project, make_user
from tests.plugins.github_import.fake_github import FakeGitHub

REPO = "octo-org/hello-world"
TOKEN = "ghp_test_token"
SECRET = "It's a Secret to Everybody"
BOT = "forum-bot"


@dataclass
class Linked:
    project: Project
    owner: User
    maintainer: User
    member: User
    connection: Connection


async def link_project(platform: Platform, fake: FakeGitHub, *, repo: str = REPO,
                       enabled: bool = True, **options: bool) -> Linked:
    owner = await make_user()
    project = await make_project(owner=owner)
    maintainer, member = await make_user(), await make_user()
    await add_member(project, maintainer, Role.MAINTAINER)
    await add_member(project, member, Role.MEMBER)
    if enabled:
        await do_toggle_plugin(platform, project, NAME, True)
    if options:
        await do_save_plugin_settings(platform, project, NAME,
                                      GitHubSettings.model_validate(options))
    fake.add_token(TOKEN)
    if repo.lower() not in fake.repos:
        fake.add_repo(repo)
    connection = await Connection.create(
        project_id=project.id, repo=repo.lower(), api_url=fake.url,
        token_sealed=seal(platform, TOKEN), webhook_secret_sealed=seal(platform, SECRET),
        bot_name=BOT)
    return Linked(project, owner, maintainer, member, connection)
