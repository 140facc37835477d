"""Helpers for the incoming-mail tests: settings, a topic to reply to, messages to send."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from forum.accounts.models import User
from forum.mail.reply_tokens import reply_address
from forum.platform import Platform
from forum.topics.models import Post, Topic
from tests.topics.conftest import World, make_world, start_topic

DOMAIN = "reply.example.org"
INBOUND_SETTINGS: dict[str, Any] = {
    "mail_in_domain": DOMAIN,
    "mail_from": "Forum <forum@example.org>",
    "mail_in_secret": "inbound-test-secret",
    "mail_in_max_bytes": 64 * 1024,
}

QUOTED_REPLY = """Thanks, setting strict mode fixed it.

- first I upgraded
- then I set the flag

Best regards,
Ada

On Mon, Nov 23, 2026 at 10:00 AM Forum <forum@example.org> wrote:
> bob replied to your topic
> Read it: http://testserver/p/x
"""
STRIPPED_REPLY = ("Thanks, setting strict mode fixed it.\n\n- first I upgraded\n"
                  "- then I set the flag")


@dataclass
class Scene:
    """A project (tests/topics' World), a topic by ``world.member`` and its reply address."""

    platform: Platform
    world: World
    topic: Topic

    @property
    def author(self) -> User:
        return self.world.member

    async def address(self, user: User | None = None, **kwargs: Any) -> str:
        user = user or self.author
        found = await reply_address(self.platform.settings, kind="topic",
                                    target_id=self.topic.id, user_id=user.id, **kwargs)
        assert found is not None
        return found

    async def replies(self) -> list[Post]:
        return await Post.filter(topic_id=self.topic.id, number__gt=1).order_by("number")


async def make_scene(platform: Platform) -> Scene:
    world = await make_world()
    topic = await start_topic(platform, world, world.member)
    return Scene(platform, world, topic)


def compose(*, sender: str, to: str, text: str = QUOTED_REPLY, subject: str = "Re: topic",
            html: str | None = None, headers: dict[str, str] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example.net")
    for name, value in (headers or {}).items():
        message[name] = value
    if html is None:
        message.set_content(text)
    else:
        message.set_content(html, subtype="html")
    return message
