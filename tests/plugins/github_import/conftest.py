"""Fixtures for the GitHub bridge: the fake GitHub server, signed webhook deliveries, the
real payloads from /work/shared/fixtures/github.

``fake_github`` is one server for the session (starting uvicorn costs time), emptied before
each test; ``fake_github.url`` is the API base URL to link a repository with.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.github_import.fake_github import FakeGitHub, FakeServer

FIXTURES = Path("/work/shared/fixtures/github")


@pytest.fixture(scope="session")
def fake_github_server() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_github(fake_github_server: FakeServer) -> Iterator[FakeGitHub]:
    fake_github_server.fake.reset()
    yield fake_github_server.fake
    fake_github_server.fake.reset()


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real payload, e.g. ``payload("issue_comment.created")``."""
    data: dict[str, Any] = json.loads(_fixture_text(name))
    return copy.deepcopy(data)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(event: str, data: dict[str, Any] | bytes, secret: str, *,
           delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub sends for ``data``, signed with ``secret``."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return body, {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                  "X-Hub-Signature-256": signature(secret, body),
                  "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/abc"}


REPO = "Codertocat/Hello-World"  # the repository of the fixtures' payloads
SECRET = "webhook-secret-for-tests"
TOKEN = "github_pat_for_tests"
BOT = "forum-bot"


async def link_repo(platform: Any, fake: FakeGitHub, *, slug: str = "demo",
                    repo: str = REPO, options: dict[str, Any] | None = None) -> Any:
    """A project (owned by a lead) with the plugin on and ``repo`` linked to the fake;
    the fake knows the token and the repository. Returns the Connection."""
    from forum.projects.models import Project
    from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
    from plugins.github_import.connection import GitHubSettings, LinkIn, check_link
    from tests.factories import make_project, make_user

    project = await Project.get_or_none(slug=slug)
    if project is None:
        owner = await make_user(f"{slug}-lead")
        project = await make_project(slug, owner=owner, name=slug.title())
    await do_toggle_plugin(platform, project, "github_import", True)
    if options:
        await do_save_plugin_settings(platform, project, "github_import",
                                      GitHubSettings.model_validate(options))
    fake.add_token(TOKEN)
    if repo.lower() not in fake.repos:
        fake.add_repo(repo)
    return await check_link(platform, project.id, LinkIn(
        repo=repo, token=TOKEN, webhook_secret=SECRET, api_url=fake.url, bot_name=BOT))


def fixture_issue(fake: FakeGitHub, number: int = 1, **fields: Any) -> dict[str, Any]:
    """The fixtures' issue #1 in the fake, with one comment by a stranger."""
    issue = payload("issue_comment.created")["issue"]
    created = fake.add_issue(REPO, number, title=fields.pop("title", issue["title"]),
                             body=fields.pop("body", issue["body"]),
                             author=issue["user"]["login"], author_id=issue["user"]["id"],
                             **fields)
    fake.add_comment(REPO, number, "Same here, on version 2.", author="hubot-fan",
                     author_id=555, association="NONE")
    return created


def support_comment(body: str = f"@{BOT} +support", *, number: int = 1,
                    association: str = "OWNER", login: str = "Codertocat",
                    kind: str = "User", action: str = "created") -> dict[str, Any]:
    """The fixture issue_comment payload with ``body`` as the comment."""
    data = payload("issue_comment.created")
    data["action"] = action
    data["issue"]["number"] = number
    data["comment"]["body"] = body
    data["comment"]["author_association"] = association
    data["comment"]["user"]["login"] = login
    data["comment"]["user"]["type"] = kind
    data["sender"]["login"] = login
    return data
