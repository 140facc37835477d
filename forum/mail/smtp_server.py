"""``forum mail-in``: an SMTP server (aiosmtpd) that hands each message to the pipeline.

Point the MX of FORUM_MAIL_IN_DOMAIN (or a relay) at it. It takes mail for that domain
only (no relaying: other recipients get 550 at RCPT), answers each message with the
pipeline's verdict (250 posted, dropped or bounced by us; 550 unknown address or forged
token; 552 too big; 554 malformed; 451 when the forum failed, so the sender retries), and
refuses data beyond FORUM_MAIL_IN_MAX_BYTES plus a margin before reading it all. With
FORUM_MAIL_IN_TLS_CERT and FORUM_MAIL_IN_TLS_KEY it offers STARTTLS (not required: most
servers deliver mail opportunistically). ``forum mail-in --pipe`` instead reads one
message on standard input, for MTAs that deliver to a command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
from typing import TYPE_CHECKING, Any

import click
from aiosmtpd.smtp import SMTP

from forum.cli import pass_platform, run_with_db
from forum.mail.inbound import receive_mail
from forum.mail.reply_tokens import reply_domain
from forum.settings import Settings

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

# Messages somewhat over the limit still reach the pipeline, which records them as too
# large; beyond this margin aiosmtpd refuses them itself.
SIZE_MARGIN = 1024 * 1024


class InboundHandler:
    """aiosmtpd's handler: check recipients at RCPT, run the pipeline at DATA."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        domain = reply_domain(self.platform.settings)
        if not domain or address.rpartition("@")[2].lower() != domain:
            return "550 5.7.1 Relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await receive_mail(self.platform, bytes(raw),
                                         recipients=list(envelope.rcpt_tos),
                                         envelope_from=envelope.mail_from)
        except Exception:
            log.exception("inbound mail from %s failed", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        return outcome.smtp


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context for STARTTLS, when a certificate and key are set
    (``OSError``/``ssl.SSLError`` when they cannot be read)."""
    if not (settings.mail_in_tls_cert and settings.mail_in_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.mail_in_tls_cert, settings.mail_in_tls_key)
    return context


async def start_mail_in(platform: Platform, host: str | None = None,
                        port: int | None = None) -> asyncio.Server:
    """Listen on ``host``:``port`` (default FORUM_MAIL_IN_HOST/PORT) in the running loop;
    the database must be open."""
    settings = platform.settings
    loop = asyncio.get_running_loop()
    handler = InboundHandler(platform)
    tls = tls_context(settings)

    def protocol() -> SMTP:
        return SMTP(handler, data_size_limit=settings.mail_in_max_bytes + SIZE_MARGIN,
                    enable_SMTPUTF8=True, decode_data=False, ident="forum mail-in",
                    tls_context=tls, require_starttls=False, loop=loop)

    return await loop.create_server(protocol, host=host or settings.mail_in_host,
                                    port=port or settings.mail_in_port)


# sysexits.h, which MTAs piping mail to a command understand.
EXIT_FOR_SMTP = {550: 67, 552: 65, 554: 65}  # EX_NOUSER, EX_DATAERR
EX_TEMPFAIL = 75


def receive_piped(platform: Platform, raw: bytes, recipient: str | None,
                  sender: str | None) -> int:
    """Run one message from standard input through the pipeline; the exit status."""

    async def work() -> int:
        try:
            outcome = await receive_mail(platform, raw,
                                         recipients=[recipient] if recipient else [],
                                         envelope_from=sender)
        except Exception:
            log.exception("inbound mail on standard input failed")
            return EX_TEMPFAIL
        click.echo(f"{outcome.status}: {outcome.reason or outcome.url}", err=True)
        return EXIT_FOR_SMTP.get(outcome.smtp_code, 0)

    return run_with_db(platform, work)


@click.command("mail-in")
@click.option("--host", default=None, help="Address to listen on (FORUM_MAIL_IN_HOST).")
@click.option("--port", default=None, type=int, help="Port (FORUM_MAIL_IN_PORT).")
@click.option("--pipe", is_flag=True,
              help="Read one message on standard input instead (an MTA's pipe delivery); "
                   "exit 0, or 67 unknown address, 65 malformed or too big, 75 try later.")
@click.option("--recipient", default=None, help="With --pipe: the envelope recipient.")
@click.option("--sender", default=None, help="With --pipe: the envelope sender.")
@pass_platform
def mail_in(platform: Platform, host: str | None, port: int | None, pipe: bool,
            recipient: str | None, sender: str | None) -> None:
    """Receive mail for FORUM_MAIL_IN_DOMAIN: replies by email and support addresses."""
    from forum.cli import fail

    if not reply_domain(platform.settings):
        fail("set FORUM_MAIL_IN_DOMAIN, the domain this server receives mail for", 2)
    if pipe:
        limit = platform.settings.mail_in_max_bytes
        raw = sys.stdin.buffer.read(limit + 1)  # enough to know it is too big
        sys.exit(receive_piped(platform, raw, recipient, sender))
    try:
        tls_context(platform.settings)
    except (OSError, ssl.SSLError) as exc:
        fail(f"cannot use FORUM_MAIL_IN_TLS_CERT / FORUM_MAIL_IN_TLS_KEY: {exc}", 2)

    async def serve() -> None:
        server = await start_mail_in(platform, host, port)
        where = ", ".join(str(s.getsockname()) for s in server.sockets)
        click.echo(f"forum mail-in: receiving mail for @{reply_domain(platform.settings)} "
                   f"on {where}", err=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        run_with_db(platform, serve)
