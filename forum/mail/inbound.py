"""Incoming mail: one pipeline for ``forum mail-in`` (SMTP, or ``--pipe`` from an MTA) and
``POST /mail/inbound``.

``receive_mail(platform, raw)`` takes the message as received and always records it
(``InboundMessage``), whatever becomes of it:

1. over FORUM_MAIL_IN_MAX_BYTES, or MIME that does not parse: rejected;
2. an auto-reply, a bounce, a mailing list or our own mail coming back: dropped (a log
   line, never an answer, so two robots cannot talk to each other forever);
3. not addressed to ``reply+<token>@`` or another address of FORUM_MAIL_IN_DOMAIN:
   rejected (SMTP 550);
4. a reply token that does not verify for the sender (forged, expired, revoked, sent to
   someone else), or a domain that refuses the text: bounced, the sender told why;
5. otherwise the text (quotes and signature stripped) goes to the domains through
   ``forum_mail_reply`` (reply addresses) or ``forum_mail_to_address`` (any other local
   part, e.g. ``support+<project>``), which post it as the user through their own verbs.

Bounces are mail jobs; at most FORUM_MAIL_IN_BOUNCES_PER_HOUR go to one sender per hour.
Posted and bounced messages are kept whole; the others (dropped, rejected) their first
64 KB, and everything for FORUM_MAIL_IN_KEEP_DAYS.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING, Any

from mailparser_reply.parser import EmailMessage as ReplyText

from forum.hookspecs import MailHandled
from forum.mail.inbound_models import InboundMessage, InboundStatus
from forum.mail.outgoing import mail_domain
from forum.mail.reply_tokens import REPLY_PREFIX, TokenError, reply_domain, verify_reply_token
from forum.text import plain

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

KEEP_WHOLE = {InboundStatus.POSTED, InboundStatus.BOUNCED}
KEEP_START_BYTES = 64 * 1024
MAX_HTML_CHARS = 1_000_000
MAX_TEXT_CHARS = 40_000  # more than a post may hold (32,000), with room for the quote's start
TRAILING_BLANKS = re.compile(r"[ \t\f\v\u00a0\u200b]+\n")
BLANK_STRETCHES = re.compile(r"[ \t\f\v\u00a0\u200b]{2,}")
BLANK_RUNS = re.compile(r"\n{3,}")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs"]
LOOP_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
SUPPRESS_VALUES = {"all", "oof", "autoreply"}
# Parts of a message that cannot be read as the sender meant them.
SERIOUS_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.CloseBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
    email_errors.FirstHeaderLineIsContinuationDefect,
)


class MalformedMail(Exception):
    """MIME that cannot be read: refused with nothing posted."""


@dataclass(frozen=True)
class Outcome:
    """What became of a message: its recorded status and reason, and the SMTP answer."""

    status: InboundStatus
    reason: str
    smtp: str
    url: str = ""
    record_id: int | None = None

    @property
    def smtp_code(self) -> int:
        return int(self.smtp[:3])


@dataclass
class _Facts:
    """What the pipeline learned so far, recorded with the message."""

    raw: bytes
    size: int
    sender: str = ""
    rcpt: str = ""
    message_id: str = ""
    subject: str = ""
    target_kind: str = ""
    target_id: int | None = None
    user_id: int | None = None


def parse_message(raw: bytes) -> EmailMessage:
    """The message, or ``MalformedMail`` when it has no sender, no headers, or broken MIME."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it raises is broken input
        raise MalformedMail(f"unreadable message ({type(exc).__name__})") from None
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise MalformedMail("no headers")
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, SERIOUS_DEFECTS):
                raise MalformedMail(f"broken MIME structure ({type(defect).__name__})")
    if not sender_address(message):
        raise MalformedMail("no sender address in From")
    return message


def header(message: EmailMessage, name: str) -> str:
    """A header's value as text (NULs, which PostgreSQL cannot store, left out); empty when
    absent or unreadable."""
    try:
        value = message.get(name)
    except Exception:
        return ""
    return "" if value is None else str(value).replace("\x00", "").strip()


def sender_address(message: EmailMessage) -> str:
    address = parseaddr(header(message, "From"))[1].strip().lower()
    return address if "@" in address else ""


def loop_reason(message: EmailMessage, envelope_from: str | None,
                own_address: str, own_domain: str) -> str | None:
    """Why ``message`` is automatic mail that must not be answered, or None (RFC 3834)."""
    auto = header(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = header(message, "Precedence").lower()
    if precedence in LOOP_PRECEDENCE:
        return f"Precedence: {precedence}"
    if header(message, "X-Autoreply") or header(message, "X-Autorespond"):
        return "X-Autoreply"
    suppress = {v.strip().lower() for v in header(message, "X-Auto-Response-Suppress").split(",")}
    if suppress & SUPPRESS_VALUES:
        return "X-Auto-Response-Suppress"
    if envelope_from is not None and envelope_from.strip() in {"", "<>"}:
        return "null envelope sender (a bounce)"
    if header(message, "Return-Path").replace(" ", "") == "<>":
        return "Return-Path: <> (a bounce)"
    sender = sender_address(message)
    if sender.partition("@")[0] in {"mailer-daemon", "mailer_daemon", "mailerdaemon"}:
        return "sent by a mailer daemon"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if sender == own_address:
        return "our own address as sender"
    if re.fullmatch(rf"<[0-9a-f]{{32}}@{re.escape(own_domain)}>",
                    header(message, "Message-ID").lower()):
        return "our own Message-ID"
    return None


def html_to_text(html: str) -> str:
    """The text of an HTML body, its quoted history (blockquotes) left out."""
    return plain.html_to_text(html, quotes=False)


def body_text(message: EmailMessage) -> str:
    """The text the sender wrote: the plain part, else the HTML part as text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception as exc:  # an unknown charset or a broken transfer encoding
        raise MalformedMail(f"unreadable body ({type(exc).__name__})") from None
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        return html_to_text(content[:MAX_HTML_CHARS])
    return content


def strip_reply(text: str) -> str:
    """The new text of a reply: quoted mail, "On ... wrote:" headers and signatures go.

    The reply parser's patterns slow down quadratically on long runs of blanks and blank
    lines, so whitespace is tidied first (stretches of blanks become one, trailing blanks
    go, three or more line ends become two) and the text is cut at MAX_TEXT_CHARS. The
    parser strips every line anyway, so no indentation is lost here."""
    text = text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    text = TRAILING_BLANKS.sub("\n", BLANK_STRETCHES.sub(" ", text))
    text = BLANK_RUNS.sub("\n\n", text)
    replies = ReplyText(text=text, languages=list(REPLY_LANGUAGES),
                        keep_hyphen_lists=True).read().replies
    latest = replies[0].body if replies else ""
    lines = [line for line in latest.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).replace("\x00", "").strip()


def our_address(candidates: Sequence[str], domain: str) -> str:
    """The first of ``candidates`` in our mail domain (lower-cased), or ""."""
    if not domain:
        return ""
    for candidate in candidates:
        address = parseaddr(candidate)[1].strip().lower()
        local, _, host = address.rpartition("@")
        if local and host == domain:
            return address
    return ""


def header_recipients(message: EmailMessage) -> list[str]:
    values = [header(message, name)
              for name in ("Delivered-To", "X-Original-To", "To", "Cc")]
    return [address for _, address in getaddresses([v for v in values if v])]


async def receive_mail(platform: Platform, raw: bytes, *, recipients: Sequence[str] = (),
                       envelope_from: str | None = None, size: int | None = None) -> Outcome:
    """Run one message through the pipeline (see the module doc) and record it.
    ``recipients``: the SMTP envelope's (else To, Cc and friends are read); ``size``: the
    full size when ``raw`` was cut short by the caller."""
    settings = platform.settings
    limit = settings.mail_in_max_bytes
    facts = _Facts(raw=raw[:limit], size=size if size is not None else len(raw))
    if facts.size > limit:
        return await _record(facts, InboundStatus.REJECTED, f"larger than {limit} bytes",
                             "552 5.3.4 Message too big")
    try:
        message = parse_message(raw)
    except MalformedMail as exc:
        return await _record(facts, InboundStatus.REJECTED, f"malformed: {exc}",
                             "554 5.6.0 Malformed message")
    facts.sender = sender_address(message)
    facts.message_id = header(message, "Message-ID")[:255]
    facts.subject = header(message, "Subject")[:255]
    domain = reply_domain(settings)
    facts.rcpt = our_address([*recipients, *header_recipients(message)], domain)
    own = parseaddr(settings.mail_from)[1].lower()
    loop = loop_reason(message, envelope_from, own, mail_domain(settings).lower())
    if loop is not None:
        log.info("inbound mail from %s dropped: %s", facts.sender, loop)
        return await _record(facts, InboundStatus.DROPPED, loop, "250 2.0.0 Dropped")
    if not facts.rcpt:
        return await _record(facts, InboundStatus.REJECTED, "not addressed to this forum",
                             "550 5.1.1 No such mailbox here")
    # A retried delivery (or a provider's retried webhook) of a message already posted.
    if facts.message_id and await InboundMessage.exists(
            message_id=facts.message_id, rcpt_to=facts.rcpt[:254],
            status=InboundStatus.POSTED):
        return await _record(facts, InboundStatus.DROPPED, "duplicate of a posted message",
                             "250 2.0.0 Already received")
    try:
        # Parsing a large body is CPU work: off the event loop, so mail-in keeps serving.
        text = await asyncio.to_thread(lambda: strip_reply(body_text(message)))
    except MalformedMail as exc:
        return await _record(facts, InboundStatus.REJECTED, f"malformed: {exc}",
                             "554 5.6.0 Malformed message")
    local = facts.rcpt.rpartition("@")[0]
    if local.startswith(REPLY_PREFIX):
        return await _reply(platform, facts, local.removeprefix(REPLY_PREFIX), text)
    handled = await ask_domains(platform, "forum_mail_to_address", local_part=local,
                                sender_email=facts.sender, subject=facts.subject, text=text,
                                message_id=facts.message_id)
    if handled is None:
        return await _record(facts, InboundStatus.REJECTED, "no such address",
                             "550 5.1.1 No such mailbox here")
    return await _conclude(platform, facts, handled)


async def _reply(platform: Platform, facts: _Facts, token: str, text: str) -> Outcome:
    try:
        target = await verify_reply_token(platform.settings, token, facts.sender)
    except TokenError as exc:
        if exc.code in {"malformed", "forged"}:
            # Not an address we issued: like an unknown mailbox, and no backscatter.
            return await _record(facts, InboundStatus.REJECTED, f"{exc.code} reply token",
                                 "550 5.1.1 No such mailbox here")
        return await _bounce(platform, facts, f"{exc.code} reply token", exc.message)
    facts.target_kind, facts.target_id = target.kind, target.target_id
    facts.user_id = target.user_id
    if not text:
        return await _bounce(platform, facts, "empty reply",
                             "Your message had no text of its own above the quoted mail.")
    handled = await ask_domains(platform, "forum_mail_reply", target_kind=target.kind,
                                target_id=target.target_id, user_id=target.user_id, text=text,
                                message_id=facts.message_id)
    if handled is None:
        return await _bounce(platform, facts, f"no handler for {target.kind}",
                             "This address no longer takes replies.")
    return await _conclude(platform, facts, handled)


async def _conclude(platform: Platform, facts: _Facts, handled: MailHandled) -> Outcome:
    if handled.ok:
        return await _record(facts, InboundStatus.POSTED, "", "250 2.0.0 Posted",
                             url=handled.url)
    return await _bounce(platform, facts, f"refused: {handled.reason}", handled.reason)


async def ask_domains(platform: Platform, hook_name: str, **kwargs: Any) -> MailHandled | None:
    """The first answer of the hook's implementations that is not None."""
    results = getattr(platform.plugins.pm.hook, hook_name)(platform=platform, **kwargs)
    for index, result in enumerate(results):
        answer = await result if inspect.isawaitable(result) else result
        if answer is not None:
            for rest in results[index + 1:]:
                if inspect.iscoroutine(rest):
                    rest.close()
            assert isinstance(answer, MailHandled)
            return answer
    return None


async def _bounce(platform: Platform, facts: _Facts, reason: str, told: str) -> Outcome:
    """Tell the sender why nothing was posted, unless they had their share this hour."""
    settings = platform.settings
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = await InboundMessage.filter(mail_from=facts.sender, status=InboundStatus.BOUNCED,
                                       created_at__gte=since).count()
    if not facts.sender or sent >= settings.mail_in_bounces_per_hour:
        log.info("inbound mail from %s refused (%s); bounce withheld", facts.sender, reason)
        return await _record(facts, InboundStatus.REJECTED, f"{reason} (bounce withheld)",
                             "550 5.7.1 Not posted: " + _one_line(told))
    headers = {"In-Reply-To": facts.message_id} if facts.message_id else None
    subject = f"Not posted: {facts.subject}" if facts.subject else "Your message was not posted"
    await platform.send_mail(facts.sender, "inbound_bounce",
                             {"reason": told, "original_subject": facts.subject},
                             subject=subject[:200], headers=headers)
    log.info("inbound mail from %s bounced: %s", facts.sender, reason)
    return await _record(facts, InboundStatus.BOUNCED, reason,
                         "250 2.0.0 Not posted; the sender is told why")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


async def _record(facts: _Facts, status: InboundStatus, reason: str, smtp: str, *,
                  url: str = "") -> Outcome:
    # Mail nobody acted on keeps only its beginning: a flood of junk to unknown addresses
    # must not fill the database.
    raw = facts.raw if status in KEEP_WHOLE else facts.raw[:KEEP_START_BYTES]
    row = await InboundMessage.create(
        raw_message=raw, size=facts.size, mail_from=facts.sender[:254],
        rcpt_to=facts.rcpt[:254], message_id=facts.message_id, subject=facts.subject, status=status,
        reason=reason[:500], target_kind=facts.target_kind, target_id=facts.target_id,
        user_id=facts.user_id, url=url[:500])
    return Outcome(status, reason, smtp, url, row.id)


async def forget_old_messages(platform: Platform, *, now: datetime | None = None) -> int:
    """Delete recorded messages older than FORUM_MAIL_IN_KEEP_DAYS; how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=platform.settings.mail_in_keep_days)
    return await InboundMessage.filter(created_at__lt=cutoff).delete()
