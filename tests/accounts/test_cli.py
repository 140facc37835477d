"""``forum createuser`` against a database configured through FORUM_* variables."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from tortoise import Tortoise

from forum.accounts.models import User
from forum.cli import cli
from forum.db import init_db
from forum.plugins import PluginManager
from tests.conftest import base_settings


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"FORUM_DATABASE_URL": database_url, "FORUM_DATA_DIR": str(tmp_path),
            "FORUM_SECRET_KEY": "cli-test-secret", "FORUM_CONFIG_FILE": str(tmp_path / "none.toml")}


def users(database_url: str, tmp_path: Path) -> list[User]:
    async def load() -> list[User]:
        await init_db(base_settings(tmp_path, database_url), PluginManager())
        try:
            return await User.all().order_by("id")
        finally:
            await Tortoise.close_connections()

    return asyncio.run(load())


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_createuser_admin_verified(env: dict[str, str], database_url: str,
                                   tmp_path: Path) -> None:
    code, out, err = run(env, "createuser", "Root", "Root@Example.org",
                         "--password", "a long admin passphrase", "--admin", "--verified")
    assert code == 0, err
    assert "created platform admin Root <root@example.org>" in out
    [user] = users(database_url, tmp_path)
    assert user.username == "Root" and user.email == "root@example.org"
    assert user.is_platform_admin and user.is_verified


def test_createuser_plain_user_gets_a_verification_mail_queued(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    code, out, _ = run(env, "createuser", "plain", "plain@example.org",
                       "--password", "a long plain passphrase")
    assert code == 0
    assert "unverified" in out
    [user] = users(database_url, tmp_path)
    assert not user.is_platform_admin and not user.is_verified


@pytest.mark.parametrize("args, message", [
    (["taken", "new@example.org"], "username: This username is already taken."),
    (["fresh", "TAKEN@example.org"], "email: An account with this email address already"),
    (["fresh", "fresh@example.org", "--password", "short"], "password: Use at least 10"),
    (["bad name", "fresh@example.org"], "username: Use letters"),
    (["fresh", "not-an-email"], "email: Enter a valid email address"),
])
def test_createuser_refusals_are_one_line(
    env: dict[str, str], database_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    assert run(env, "createuser", "taken", "taken@example.org",
               "--password", "a long first passphrase")[0] == 0
    if "--password" not in args:
        args = [*args, "--password", "a long second passphrase"]
    code, out, err = run(env, "createuser", *args)
    assert code == 1
    assert out == ""
    assert err.startswith("forum: ") and message in err
    assert err.count("\n") == 1
    assert len(users(database_url, tmp_path)) == 1
