"""Incoming mail's registrations: its tables, ``POST /mail/inbound`` and ``forum mail-in``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


@hookimpl
def forum_models() -> list[str]:
    return ["forum.mail.inbound_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.mail.inbound_routes import routes

    return routes()


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.mail.smtp_server import mail_in

    cli.add_command(mail_in)
