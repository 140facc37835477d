from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from forum.accounts.models import User
from forum.accounts.passwords import verify_password
from forum.cli import cli
from forum.db import close_db, init_db
from forum.platform import Platform
from forum.plugins import PluginManager
from forum.projects.demo import DEMO_LOGINS, describe, seed_demo
from forum.projects.models import Membership, Project, Role
from forum.settings import Settings


async def counts() -> dict[str, int]:
    return {"users": await User.all().count(), "projects": await Project.all().count(),
            "memberships": await Membership.all().count()}


@pytest.mark.usefixtures("db")
async def test_seed_is_idempotent(platform: Platform) -> None:
    first = await seed_demo(platform)
    assert first.created[:5] == ["user admin", "user alice", "user bob", "project demo",
                                 "bob as member"]
    after_first = await counts()
    # The topics demo (forum_demo hook) adds four members of its own.
    assert after_first == {"users": 7, "projects": 1, "memberships": 6}
    second = await seed_demo(platform)
    assert second.created == []
    assert await counts() == after_first

    project = await Project.get(slug="demo")
    assert project.name == "Demo Project" and project.description
    roles = dict(await Membership.filter(project_id=project.id)
                 .values_list("user__username", "role"))
    assert {name: roles[name] for name in ("alice", "bob")} == {"alice": Role.OWNER,
                                                                "bob": Role.MEMBER}
    for login in DEMO_LOGINS:
        user = await User.get(username=login.username)
        assert user.is_verified
        assert user.is_platform_admin == (login.username == "admin")
        assert verify_password(user.password_hash, login.password)

    lines = describe(second)
    assert "http://testserver/p/demo" in "\n".join(lines)
    assert any("alice" in line and "alice-demo-pass" in line for line in lines)


def test_forum_demo_command_twice_changes_nothing(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORUM_CONFIG_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("FORUM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FORUM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FORUM_SECRET_KEY", "test-secret")
    monkeypatch.setenv("FORUM_BASE_URL", "http://demo.example")
    runner = CliRunner()
    first = runner.invoke(cli, ["demo"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "http://demo.example/p/demo" in first.output
    for login in DEMO_LOGINS:
        assert login.username in first.output and login.password in first.output

    async def snapshot() -> dict[str, int]:
        await init_db(settings, PluginManager())
        try:
            return await counts()
        finally:
            await close_db()

    before = asyncio.run(snapshot())
    second = runner.invoke(cli, ["demo"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert asyncio.run(snapshot()) == before == {"users": 7, "projects": 1, "memberships": 6}
