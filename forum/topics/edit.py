"""Editing a post (and, on the opening post, the topic's title), with a revision history.

Every version of a post is a ``PostRevision``: number 1 is the original text, each edit adds
the next number, and the newest revision is what the post says now. ``revision_diff`` shows
what one revision changed from the one before, word by word.

The gates are asked (``Act.EDIT_OWN_POST`` or ``Act.EDIT_OTHERS_POST``) and the new text
screened: a held edit hides the post (and, for the opening post, its topic) until approved.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.gates import Act
from forum.projects.models import Project
from forum.text import extract_references
from forum.topics.access import require_user
from forum.topics.gating import require_allowed, screen_text
from forum.topics.models import Category, Post, PostRevision, Topic
from forum.topics.permissions import (
    Viewer,
    can_edit_post,
    can_read_topic,
    can_see_post,
    within_edit_window,
)
from forum.topics.schemas import PostEditIn
from forum.topics.writing import CookedPost, cook_post, slugify
from forum.web.errors import Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from forum.platform import Platform

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class EditDraft:
    """An edit that passed every check: the new text (possibly rewritten by a screener),
    cooked, and why it must wait for review, if it must."""

    source: str
    cooked: CookedPost
    hold_reason: str | None = None


async def check_edit_post(platform: Platform, viewer: Viewer, post: Post,
                          data: PostEditIn, *, ip: str | None = None) -> EditDraft:
    """401 anonymous; 404 unreadable; 403 not the author, the edit window has passed, or
    refused by a gate; 422 a title for a post that is not the opening post, or the text
    blocked by a screener."""
    require_user(viewer)
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if not can_read_topic(viewer, topic, category) or not can_see_post(viewer, post):
        raise NotFound("No such post.")
    project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
    if not can_edit_post(viewer, post, topic, project):
        if viewer.user_id == post.author_id and not within_edit_window(  # type: ignore[attr-defined]
                post, project):
            minutes = project.post_edit_window_minutes
            raise Forbidden(f"Posts can be edited for {minutes} minutes after posting; "
                            "that time has passed.")
        raise Forbidden("You may not edit this post.")
    if data.title is not None and post.number != 1:
        raise Invalid("Only the opening post carries the topic's title.",
                      fields={"title": "only on the opening post"})
    author_id: int = post.author_id  # type: ignore[attr-defined]
    own = viewer.user_id == author_id
    await require_allowed(platform, viewer, project.id,
                          Act.EDIT_OWN_POST if own else Act.EDIT_OTHERS_POST,
                          topic_id=topic.id, post_id=post.id, target_user_id=author_id)
    if data.source == post.source and data.title in (None, topic.title):
        return EditDraft(post.source, await cook_post(project, viewer, post.source, topic.id))
    screened = await screen_text(platform, viewer, project.id, data.source,
                                 title=data.title, topic_id=topic.id, post_id=post.id, ip=ip)
    cooked = await cook_post(project, viewer, screened.source, topic.id)
    return EditDraft(screened.source, cooked, screened.hold_reason)


async def do_edit_post(platform: Platform, viewer: Viewer, post: Post, data: PostEditIn,
                       draft: EditDraft) -> Post:
    """Store the new text as the next revision; rename the topic (new slug) when the title
    changes. Emits ``PostEdited`` with the users mentioned for the first time, and
    ``TopicChanged("edited")`` on a new title. A held edit hides the post instead (see
    forum/topics/hide.py) and emits ``PostHidden``."""
    editor = require_user(viewer)
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    old_mentioned = set(await _previous_mentions(post))
    cooked = draft.cooked
    new_title = data.title if data.title is not None and data.title != topic.title else None
    if draft.source == post.source and new_title is None:
        return post
    async with in_transaction():
        last = await PostRevision.filter(post_id=post.id).order_by("-number").first()
        if last is None:  # a post written before revisions were kept
            last = await PostRevision.create(post_id=post.id, number=1, source=post.source,
                                             title=topic.title if post.number == 1 else None,
                                             editor_id=post.author_id)  # type: ignore[attr-defined]
        await PostRevision.create(post_id=post.id, number=last.number + 1, source=draft.source,
                                  title=(new_title or topic.title) if post.number == 1 else None,
                                  editor_id=editor.id, reason=data.reason.strip())
        post.source = draft.source
        post.cooked = cooked.html
        post.edit_count += 1
        post.edited_at = datetime.now(UTC)
        await post.save(update_fields=["source", "cooked", "edit_count", "edited_at"])
        if new_title is not None:
            await Topic.filter(id=topic.id).update(title=new_title, slug=slugify(new_title))
    if draft.hold_reason is not None:
        from forum.topics.hide import hide_post

        await hide_post(platform, post, draft.hold_reason, None)
        return post
    newly = tuple(u for u in cooked.mentioned_user_ids if u not in old_mentioned)
    await platform.emit(events.PostEdited(
        project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
        editor_id=editor.id, newly_mentioned_user_ids=newly))
    if new_title is not None:
        await platform.emit(events.TopicChanged(
            project=topic.project_id, topic_id=topic.id, actor_id=editor.id,  # type: ignore[attr-defined]
            change="edited"))
    return post


async def _previous_mentions(post: Post) -> tuple[int, ...]:
    """Users the post mentioned before this edit, from its previous text."""
    names = extract_references(post.source).usernames
    if not names:
        return ()
    return tuple(int(str(i)) for i in await User.filter(
        username_lower__in=sorted(names)).values_list("id", flat=True))


async def edit_post(platform: Platform, viewer: Viewer, post: Post, data: PostEditIn, *,
                    ip: str | None = None) -> Post:
    """Check, then edit (``ip``: the client's address, for the screeners)."""
    draft = await check_edit_post(platform, viewer, post, data, ip=ip)
    return await do_edit_post(platform, viewer, post, data, draft)


async def revisions(post: Post) -> list[PostRevision]:
    """Every version of the post, oldest (the original) first."""
    return await PostRevision.filter(post_id=post.id).order_by("number").prefetch_related(
        "editor")


async def revision_diff(post: Post, number: int) -> str:
    """HTML showing what revision ``number`` changed from the one before: removed words in
    ``<del>``, added ones in ``<ins>``, everything escaped. Revision 1 is shown as is.
    NotFound for a revision the post does not have."""
    wanted = await PostRevision.filter(post_id=post.id, number__in=[number - 1, number])
    by_number = {r.number: r for r in wanted}
    if number not in by_number:
        raise NotFound("No such revision.")
    before = by_number.get(number - 1)
    after = by_number[number]
    old = revision_text(before) if before is not None else ""
    return word_diff(old, revision_text(after))


def revision_text(revision: PostRevision) -> str:
    """A version as the diff shows it: the title (opening post) above the text."""
    return f"{revision.title}\n\n{revision.source}" if revision.title else revision.source


def word_diff(old: str, new: str) -> str:
    """Word-level diff of two texts as escaped HTML with ``<ins>`` and ``<del>``."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("replace", "delete"):
            out.append(f"<del>{html.escape(''.join(a[i1:i2]))}</del>")
        if op in ("replace", "insert"):
            out.append(f"<ins>{html.escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)
