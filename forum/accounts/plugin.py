"""The accounts domain's registrations: models, pages and API routes, ``forum createuser``."""

from __future__ import annotations

import click
from starlette.routing import BaseRoute

from forum.hookspecs import hookimpl


@hookimpl
def forum_models() -> list[str]:
    return ["forum.accounts.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.accounts import api, routes

    return [*routes.ROUTES, *api.ROUTES]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.cli import fail, pass_platform, run_with_db
    from forum.platform import Platform

    @cli.command("createuser")
    @click.argument("username")
    @click.argument("email")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                  help="The password (asked for when left out).")
    @click.option("--admin", is_flag=True, help="Make the user a platform admin.")
    @click.option("--verified", is_flag=True, help="Mark the email address as verified.")
    @pass_platform
    def createuser(platform: Platform, username: str, email: str, password: str,
                   admin: bool, verified: bool) -> None:
        """Create a user account."""
        from forum.accounts.models import User
        from forum.accounts.service import do_create_user, send_verification_mail
        from forum.web.errors import UserError

        async def work() -> User:
            user = await do_create_user(platform, username=username, email=email,
                                        password=password, verified=verified,
                                        is_platform_admin=admin)
            if not verified and platform.settings.require_email_verification:
                await send_verification_mail(platform, user)
            return user

        try:
            user = run_with_db(platform, work)
        except UserError as exc:
            details = "; ".join(f"{name}: {text}" for name, text in exc.fields.items())
            fail(details or exc.message)
            return
        role = "platform admin" if user.is_platform_admin else "user"
        if user.is_verified:
            state = "verified"
        elif platform.settings.require_email_verification:
            state = "unverified; a verification link was mailed"
        else:
            state = "unverified"
        click.echo(f"created {role} {user.username} <{user.email}> (id {user.id}, {state})")
