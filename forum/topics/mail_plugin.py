"""Replies by email to topic notifications (``reply+<token>@``, forum/mail/inbound.py).

The text is posted through the topics' own ``reply`` verb as the token's user, so every
rule of the web applies: who may read and reply, closed and locked topics, penalties and
unaccepted terms (the gates), screening (a held reply waits for review). A refusal is
returned as a reason, which the sender gets back in a bounce; nothing is posted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from forum.accounts.models import User
from forum.hookspecs import MailHandled, hookimpl
from forum.topics.access import locate_topic
from forum.topics.reply import reply
from forum.topics.schemas import ReplyIn
from forum.web.errors import UserError

if TYPE_CHECKING:
    from forum.platform import Platform


@hookimpl
async def forum_mail_reply(target_kind: str, target_id: int, user_id: int, text: str,
                           platform: Platform) -> MailHandled | None:
    if target_kind != "topic":
        return None
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None:
        return MailHandled.refused("Your account is not active.")
    try:
        data = ReplyIn.model_validate({"source": text})
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        return MailHandled.refused(f"The reply cannot be posted as written: {problem}.")
    try:
        found = await locate_topic(user, target_id)
        post = await reply(platform, found.viewer, found.topic, data)
    except UserError as exc:
        return MailHandled.refused(exc.message)
    topic = found.topic
    tail = f"-{topic.slug}" if topic.slug else ""
    return MailHandled.posted(f"{platform.settings.public_url}/p/{found.project.slug}/t/"
                              f"{topic.id}{tail}#post-{post.number}")
