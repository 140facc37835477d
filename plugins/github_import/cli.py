"""``forum github ...``: link a repository to a project and check the link from a script.

    forum github link PROJECT OWNER/REPO --token ... --webhook-secret ... [--api-url ...]
        [--bot-name ...] [--check]
    forum github link PROJECT OWNER/REPO --app-id ... --installation-id ...
        --private-key-file key.pem --webhook-secret ...
    forum github check PROJECT

Errors are one line on standard error and a non-zero exit. Other ``forum github``
commands (the bulk import) are added to the same group.
"""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from forum.cli import fail, pass_platform, run_with_db
from forum.platform import Platform
from plugins.github_import.client import DEFAULT_API_URL
from plugins.github_import.connection import (
    LinkIn,
    check_connection,
    check_link,
    describe,
)
from plugins.github_import.models import AuthMode, Connection


@click.group()
def github() -> None:
    """The GitHub bridge: link repositories, check them, import issues."""


class CommandError(Exception):
    """Ends a command with one line."""


async def project_id_of(slug: str) -> int:
    from forum.projects.service import project_by_slug

    project = await project_by_slug(slug)
    if project is None:
        raise CommandError(f"no project {slug!r}")
    return project.id


@github.command("link")
@click.argument("project")
@click.argument("repo")
@click.option("--token", default="", help="A fine-grained token with Issues (read and write).")
@click.option("--webhook-secret", default="", help="The secret the repository's webhook signs "
              "with.")
@click.option("--api-url", default=DEFAULT_API_URL, show_default=True,
              help="GitHub Enterprise Server: https://HOST/api/v3")
@click.option("--bot-name", default="", help="The login the bot is called by (@name +support).")
@click.option("--app-id", default="", help="GitHub App mode: the App's id.")
@click.option("--installation-id", default="", help="GitHub App mode: the installation's id.")
@click.option("--private-key-file", type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path),
              default=None, help="GitHub App mode: the App's private key (PEM).")
@click.option("--check", "run_check", is_flag=True, help="Check the link with GitHub after.")
@pass_platform
def link(platform: Platform, project: str, repo: str, token: str, webhook_secret: str,
         api_url: str, bot_name: str, app_id: str, installation_id: str,
         private_key_file: Path | None, run_check: bool) -> None:
    """Link REPO (owner/name) to PROJECT (its slug)."""
    from forum.web.errors import UserError

    key = private_key_file.read_text() if private_key_file is not None else ""
    mode = AuthMode.APP if (app_id or installation_id or key) else AuthMode.TOKEN
    try:
        data = LinkIn(repo=repo, mode=mode, token=token, webhook_secret=webhook_secret,
                      api_url=api_url, bot_name=bot_name, app_id=app_id,
                      installation_id=installation_id, private_key=key)
    except ValidationError as exc:
        error = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
        return

    async def work() -> tuple[Connection, list[str], bool]:
        connection = await check_link(platform, await project_id_of(project), data)
        if not run_check:
            return connection, [], True
        result = await check_connection(platform, connection)
        return connection, result.lines, result.ok

    try:
        connection, lines, ok = run_with_db(platform, work)
    except UserError as exc:
        fail(exc.message)
        return
    except CommandError as exc:
        fail(str(exc))
        return
    shown = describe(connection)
    click.echo(f"linked {shown['repo']} to {project} ({shown['mode']}, {shown['api_url']})")
    for line in lines:
        click.echo(line)
    if not ok:
        fail("the check found problems (above)")


@github.command("check")
@click.argument("project")
@pass_platform
def check(platform: Platform, project: str) -> None:
    """Check every repository linked to PROJECT with GitHub; exit 1 on a problem."""

    async def work() -> list[tuple[str, bool, list[str]]]:
        rows = await Connection.filter(project_id=await project_id_of(project)).order_by("repo")
        results = []
        for row in rows:
            result = await check_connection(platform, row)
            results.append((row.repo, result.ok, result.lines))
        return results

    try:
        results = run_with_db(platform, work)
    except CommandError as exc:
        fail(str(exc))
        return
    if not results:
        fail(f"no repository is linked to {project}")
    for repo, ok, lines in results:
        click.echo(f"{repo}: {'ok' if ok else 'problems'}")
        for line in lines:
            click.echo(f"  {line}")
    if not all(ok for _, ok, _ in results):
        fail("the check found problems (above)")
