"""The incoming-mail pipeline: replies become posts through the topics' verb; forged,
expired, revoked and cross-user tokens, strangers, robots, oversized and malformed MIME
are refused with nothing posted, and every message is recorded with its reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from forum.gates import Act
from forum.mail.inbound import Outcome, receive_mail
from forum.mail.inbound_models import InboundMessage, InboundStatus
from forum.mail.reply_tokens import revoke_reply_keys
from forum.platform import Platform
from forum.topics.models import Post, Topic
from tests.factories import make_user
from tests.mail.inbound_support import (
    DOMAIN,
    INBOUND_SETTINGS,
    STRIPPED_REPLY,
    Scene,
    compose,
    make_scene,
)
from tests.topics.gatekeeper import Gatekeeper

Mailbox = Callable[[], list[Any]]
RunJobs = Callable[[], Awaitable[int]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


@pytest.fixture
async def scene(platform: Platform, db: None) -> Scene:
    return await make_scene(platform)


@pytest.fixture
def gatekeeper(platform: Platform) -> Iterator[Gatekeeper]:
    keeper = Gatekeeper()
    platform.plugins.pm.register(keeper, name=keeper.PLUGIN_NAME)
    yield keeper
    platform.plugins.pm.unregister(keeper)


async def send(scene: Scene, message: Any, **kwargs: Any) -> Outcome:
    return await receive_mail(scene.platform, bytes(message), **kwargs)


async def only_record() -> InboundMessage:
    [record] = await InboundMessage.all()
    return record


async def test_a_reply_is_posted_as_its_user_without_quotes_or_signature(
        scene: Scene, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    message = compose(sender=f"Member <{scene.author.email}>", to=await scene.address())
    outcome = await send(scene, message)
    assert outcome.status == InboundStatus.POSTED
    assert outcome.smtp.startswith("250")
    [post] = await scene.replies()
    assert post.author_id == scene.author.id  # type: ignore[attr-defined]
    assert post.source == STRIPPED_REPLY
    assert "<li>then I set the flag</li>" in post.cooked
    assert outcome.url == (f"http://testserver/p/{scene.world.project.slug}/t/"
                           f"{scene.topic.id}-{scene.topic.slug}#post-2")
    record = await only_record()
    assert record.raw_message == bytes(message)
    assert (record.status, record.target_kind, record.target_id, record.user_id) == (
        InboundStatus.POSTED, "topic", scene.topic.id, scene.author.id)
    assert record.mail_from == scene.author.email
    assert record.message_id == message["Message-ID"]
    await run_jobs()
    assert scene.author.email not in [m["To"] for m in mailbox()]  # no bounce
    topic = await Topic.get(id=scene.topic.id)
    assert topic.reply_count == 1


async def test_an_html_only_reply_is_turned_into_text(scene: Scene) -> None:
    html = ("<html><head><style>p{}</style></head><body><p>Works &amp; thanks!</p>"
            "<ul><li>one</li><li>two</li></ul>"
            "<div class='gmail_quote'>On Monday Forum wrote:<blockquote>old text</blockquote>"
            "</div></body></html>")
    outcome = await send(scene, compose(sender=scene.author.email, to=await scene.address(),
                                        html=html))
    assert outcome.status == InboundStatus.POSTED
    [post] = await scene.replies()
    assert post.source == "Works & thanks!\n\n- one\n\n- two"
    assert "old text" not in post.source


async def test_the_same_message_twice_is_posted_once(scene: Scene) -> None:
    message = compose(sender=scene.author.email, to=await scene.address())
    assert (await send(scene, message)).status == InboundStatus.POSTED
    again = await send(scene, message)
    assert (again.status, again.reason) == (InboundStatus.DROPPED,
                                            "duplicate of a posted message")
    assert len(await scene.replies()) == 1


async def test_forged_token_is_refused_without_a_bounce(scene: Scene, mailbox: Mailbox,
                                                        run_jobs: RunJobs) -> None:
    address = await scene.address()
    local = address.partition("@")[0]
    flipped = "a" if local[-5] != "a" else "b"
    forged = f"{local[:-5]}{flipped}{local[-4:]}@{DOMAIN}"  # the MAC changed
    for to in (forged, address[:20] + "@" + DOMAIN):
        outcome = await send(scene, compose(sender=scene.author.email, to=to))
        assert outcome.status == InboundStatus.REJECTED
        assert outcome.smtp.startswith("550")
    assert await scene.replies() == []
    reasons = sorted(r.reason for r in await InboundMessage.all())
    assert reasons == ["forged reply token", "malformed reply token"]
    await run_jobs()
    assert mailbox() == []


@pytest.mark.parametrize("case", ["expired", "revoked", "cross_user"])
async def test_expired_revoked_and_cross_user_tokens_bounce(
        case: str, scene: Scene, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    from datetime import UTC, datetime, timedelta

    sender = scene.author.email
    address = await scene.address()
    if case == "expired":
        address = await scene.address(now=datetime.now(UTC) - timedelta(days=365))
    elif case == "revoked":
        await revoke_reply_keys(scene.author.id)
    else:
        sender = (await make_user("mallory")).email  # a member of nothing, with Ada's token
    outcome = await send(scene, compose(sender=sender, to=address, subject="Re: parser"))
    assert outcome.status == InboundStatus.BOUNCED
    assert outcome.reason == f"{case} reply token"
    assert await scene.replies() == []
    record = await only_record()
    assert (record.status, record.reason, record.mail_from) == (
        InboundStatus.BOUNCED, f"{case} reply token", sender)
    await run_jobs()
    [bounce] = mailbox()
    assert bounce["To"] == sender
    assert bounce["Subject"] == "Not posted: Re: parser"
    assert bounce["Auto-Submitted"] == "auto-generated"
    assert "nothing was published" in bounce.get_content()


async def test_someone_the_topic_refuses_gets_a_polite_bounce(
        scene: Scene, mailbox: Mailbox, run_jobs: RunJobs, gatekeeper: Gatekeeper) -> None:
    gatekeeper.refuse[Act.REPLY] = "You are silenced until Friday."
    outcome = await send(scene, compose(sender=scene.author.email, to=await scene.address()))
    assert outcome.status == InboundStatus.BOUNCED
    assert outcome.reason == "refused: You are silenced until Friday."
    assert await scene.replies() == []
    await run_jobs()
    [bounce] = mailbox()
    assert "You are silenced until Friday." in bounce.get_content()


async def test_a_reader_who_lost_access_cannot_post(scene: Scene, mailbox: Mailbox,
                                                    run_jobs: RunJobs) -> None:
    outsider = scene.world.outsider
    address = await scene.address(outsider)
    await Topic.filter(id=scene.topic.id).update(is_private=True)  # now author and team only
    outcome = await send(scene, compose(sender=outsider.email, to=address))
    assert (outcome.status, outcome.reason) == (InboundStatus.BOUNCED,
                                                "refused: No such topic.")
    await Topic.filter(id=scene.topic.id).update(is_private=False, locked=True)
    locked = await send(scene, compose(sender=outsider.email, to=address))
    assert locked.status == InboundStatus.BOUNCED
    assert "no new replies" in locked.reason
    assert await scene.replies() == []


async def test_an_empty_reply_bounces(scene: Scene) -> None:
    text = "On Monday Forum wrote:\n> the whole thing quoted\n"
    outcome = await send(scene, compose(sender=scene.author.email, to=await scene.address(),
                                        text=text))
    assert (outcome.status, outcome.reason) == (InboundStatus.BOUNCED, "empty reply")
    assert await scene.replies() == []


@pytest.mark.parametrize(("headers", "envelope_from", "sender"), [
    ({"Auto-Submitted": "auto-replied"}, None, None),
    ({"Auto-Submitted": "auto-generated; owner-email=x@example.org"}, None, None),
    ({"Precedence": "bulk"}, None, None),
    ({"Precedence": "junk"}, None, None),
    ({"Precedence": "list"}, None, None),
    ({"X-Autoreply": "yes"}, None, None),
    ({"X-Auto-Response-Suppress": "DR, OOF"}, None, None),
    ({"Return-Path": "<>"}, None, None),
    ({}, "", None),
    ({}, None, "MAILER-DAEMON@mx.example.net"),
    ({}, None, "forum@example.org"),
], ids=["auto-replied", "auto-generated", "bulk", "junk", "list", "x-autoreply",
        "suppress", "return-path", "null-sender", "mailer-daemon", "own-address"])
async def test_automatic_mail_is_dropped_silently(
        headers: dict[str, str], envelope_from: str | None, sender: str | None, scene: Scene,
        mailbox: Mailbox, run_jobs: RunJobs) -> None:
    message = compose(sender=sender or scene.author.email, to=await scene.address(),
                      headers=headers)
    outcome = await send(scene, message, envelope_from=envelope_from)
    assert outcome.status == InboundStatus.DROPPED
    assert outcome.smtp.startswith("250")
    assert await scene.replies() == []
    assert (await only_record()).status == InboundStatus.DROPPED
    await run_jobs()
    assert mailbox() == []


async def test_our_own_message_coming_back_is_dropped(scene: Scene) -> None:
    message = compose(sender=scene.author.email, to=await scene.address())
    del message["Message-ID"]
    message["Message-ID"] = "<0123456789abcdef0123456789abcdef@example.org>"
    outcome = await send(scene, message)
    assert (outcome.status, outcome.reason) == (InboundStatus.DROPPED, "our own Message-ID")


async def test_auto_submitted_no_is_a_person(scene: Scene) -> None:
    message = compose(sender=scene.author.email, to=await scene.address(),
                      headers={"Auto-Submitted": "no"})
    assert (await send(scene, message)).status == InboundStatus.POSTED


async def test_a_delivery_report_is_dropped(scene: Scene) -> None:
    raw = (f"From: postmaster@mx.example.net\nTo: {await scene.address()}\n"
           "Subject: Undelivered\nMIME-Version: 1.0\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           "--b\nContent-Type: text/plain\n\nIt failed.\n--b--\n").encode()
    outcome = await receive_mail(scene.platform, raw)
    assert (outcome.status, outcome.reason) == (InboundStatus.DROPPED,
                                                "a delivery or read report")


async def test_an_oversized_message_is_rejected_and_kept_cut(scene: Scene) -> None:
    limit = scene.platform.settings.mail_in_max_bytes
    message = compose(sender=scene.author.email, to=await scene.address(),
                      text="x" * (limit + 10))
    raw = bytes(message)
    outcome = await send(scene, message)
    assert (outcome.status, outcome.smtp_code) == (InboundStatus.REJECTED, 552)
    record = await only_record()
    assert record.size == len(raw)
    assert record.raw_message == raw[:limit]
    assert record.reason == f"larger than {limit} bytes"
    assert await scene.replies() == []


@pytest.mark.parametrize("raw", [
    b"",
    b"this is not an email at all",
    b"From: a@example.org\nTo: x@reply.example.org\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/mixed\n\nno boundary here\n",
    b"From: a@example.org\nTo: x@reply.example.org\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: text/plain\n\nhi\n',
    b"To: x@reply.example.org\nSubject: no sender\n\nhello\n",
    b" continuation first\nFrom: a@example.org\n\nbody\n",
], ids=["empty", "no-headers", "no-boundary", "unclosed", "no-from", "continuation"])
async def test_malformed_mime_is_rejected(raw: bytes, scene: Scene) -> None:
    outcome = await receive_mail(scene.platform, raw)
    assert (outcome.status, outcome.smtp_code) == (InboundStatus.REJECTED, 554)
    assert (await only_record()).reason.startswith("malformed: ")
    assert await scene.replies() == []


async def test_an_undecodable_body_is_rejected(scene: Scene) -> None:
    raw = (f"From: {scene.author.email}\nTo: {await scene.address()}\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=no-such-charset\n"
           "Content-Transfer-Encoding: 8bit\n\nhello\n").encode()
    outcome = await receive_mail(scene.platform, raw)
    assert (outcome.status, outcome.smtp_code) == (InboundStatus.REJECTED, 554)
    assert outcome.reason == "malformed: unreadable body (LookupError)"
    assert await scene.replies() == []


async def test_mail_to_other_addresses_is_refused(scene: Scene) -> None:
    for to in ("someone@elsewhere.example.com", f"nobody@{DOMAIN}"):
        outcome = await send(scene, compose(sender=scene.author.email, to=to))
        assert (outcome.status, outcome.smtp_code) == (InboundStatus.REJECTED, 550)
    assert [r.reason for r in await InboundMessage.all().order_by("id")] == [
        "not addressed to this forum", "no such address"]


async def test_bounces_are_limited_per_sender_and_hour(
        scene: Scene, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    mallory = await make_user("mallory")
    address = await scene.address()
    limit = scene.platform.settings.mail_in_bounces_per_hour
    outcomes = [await send(scene, compose(sender=mallory.email, to=address))
                for _ in range(limit + 2)]
    assert [o.status for o in outcomes] == (
        [InboundStatus.BOUNCED] * limit + [InboundStatus.REJECTED] * 2)
    assert outcomes[-1].reason == "cross_user reply token (bounce withheld)"
    assert outcomes[-1].smtp_code == 550
    await run_jobs()
    assert len(mailbox()) == limit
    assert await InboundMessage.all().count() == limit + 2
    assert await Post.filter(topic_id=scene.topic.id).count() == 1


class SupportAddresses:
    """A stand-in for the tickets domain: ``support+<slug>`` opens a draft."""

    PLUGIN_NAME = "support-addresses"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    from forum.hookspecs import hookimpl

    @hookimpl
    async def forum_mail_to_address(self, local_part: str, sender_email: str, subject: str,
                                    text: str, message_id: str) -> Any:
        from forum.hookspecs import MailHandled

        if not local_part.startswith("support+"):
            return None
        self.calls.append({"local_part": local_part, "sender": sender_email,
                           "subject": subject, "text": text, "message_id": message_id})
        if local_part == "support+closed":
            return MailHandled.refused("This project takes no support requests by email.")
        return MailHandled.posted("http://testserver/p/demo/t/1-draft")


@pytest.fixture
def support(platform: Platform) -> Iterator[SupportAddresses]:
    plugin = SupportAddresses()
    platform.plugins.pm.register(plugin, name=plugin.PLUGIN_NAME)
    yield plugin
    platform.plugins.pm.unregister(plugin)


async def test_other_addresses_go_to_the_domains(scene: Scene, support: SupportAddresses,
                                                 mailbox: Mailbox, run_jobs: RunJobs) -> None:
    message = compose(sender="Newcomer <NEW@example.net>", to=f"support+demo@{DOMAIN}",
                      subject="It crashes", text="It crashes on start.\n\n-- \nNew\n")
    outcome = await send(scene, message)
    assert (outcome.status, outcome.url) == (InboundStatus.POSTED,
                                             "http://testserver/p/demo/t/1-draft")
    assert support.calls == [{"local_part": "support+demo", "sender": "new@example.net",
                              "subject": "It crashes", "text": "It crashes on start.",
                              "message_id": message["Message-ID"]}]
    refused = await send(scene, compose(sender="new@example.net",
                                        to=f"support+closed@{DOMAIN}"))
    assert (refused.status, refused.reason) == (
        InboundStatus.BOUNCED, "refused: This project takes no support requests by email.")
    await run_jobs()
    assert [m["To"] for m in mailbox()] == ["new@example.net"]
    unknown = await send(scene, compose(sender="new@example.net", to=f"sales@{DOMAIN}"))
    assert (unknown.status, unknown.smtp_code) == (InboundStatus.REJECTED, 550)


@pytest.mark.parametrize("filler", ["\n", "\t", "x\n", "> \n", "- \n\n", "\u00a0 \n"],
                         ids=["newlines", "tabs", "short-lines", "quotes", "dashes", "nbsp"])
async def test_hostile_whitespace_is_parsed_quickly(filler: str) -> None:
    """The reply parser is quadratic on some inputs: the text is tidied and cut first."""
    import time

    from forum.mail.inbound import strip_reply

    started = time.perf_counter()
    assert strip_reply("Real answer.\n" + filler * 500_000).startswith("Real answer.")
    assert time.perf_counter() - started < 3


async def test_nul_characters_are_left_out(scene: Scene) -> None:
    """PostgreSQL cannot store NUL in text: headers and body lose them."""
    raw = (f"From: {scene.author.email}\nTo: {await scene.address()}\n"
           "Subject: =?utf-8?b?SGkAdGhlcmU=?=\nMessage-ID: <a\x00b@mail.example.net>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: base64\n\nTnVsAGhlcmUu\n").encode()
    outcome = await receive_mail(scene.platform, raw)
    assert outcome.status == InboundStatus.POSTED
    [post] = await scene.replies()
    assert post.source == "Nulhere."
    record = await only_record()
    assert record.subject == "Hithere"


async def test_only_the_start_of_mail_nobody_acted_on_is_kept(
        scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    from forum.mail import inbound

    monkeypatch.setattr(inbound, "KEEP_START_BYTES", 1000)
    junk = bytes(compose(sender="spam@example.net", to=f"nobody@{DOMAIN}", text="z" * 5000))
    posted = bytes(compose(sender=scene.author.email, to=await scene.address(),
                           text="A real answer.\n" + "w" * 5000))
    assert (await receive_mail(scene.platform, junk)).status == InboundStatus.REJECTED
    assert (await receive_mail(scene.platform, posted)).status == InboundStatus.POSTED
    first, second = await InboundMessage.all().order_by("id")
    assert (first.raw_message, first.size) == (junk[:1000], len(junk))
    assert (second.raw_message, second.size) == (posted, len(posted))


async def test_duplicates_are_judged_per_reply_address(platform: Platform,
                                                      scene: Scene) -> None:
    from forum.mail.reply_tokens import reply_address
    from tests.topics.conftest import start_topic

    other = await start_topic(platform, scene.world, scene.author, title="Second question",
                              source="Another thing entirely.")
    second = await reply_address(platform.settings, kind="topic", target_id=other.id,
                                 user_id=scene.author.id)
    assert second is not None
    first = await scene.address()
    raw = bytes(compose(sender=scene.author.email, to=first, headers={"Cc": second}))
    assert (await receive_mail(platform, raw, recipients=[first])).status == \
        InboundStatus.POSTED
    # The copy for the other topic is not a duplicate: it goes on to the topic, where the
    # screeners refuse the same text posted twice in a row.
    copy = await receive_mail(platform, raw, recipients=[second])
    assert copy.status == InboundStatus.BOUNCED
    assert copy.reason.startswith("refused: You posted the same text")
    again = await receive_mail(platform, raw, recipients=[first])
    assert (again.status, again.reason) == (InboundStatus.DROPPED,
                                            "duplicate of a posted message")
    assert len(await scene.replies()) == 1
    assert await Post.filter(topic_id=other.id).count() == 1
