"""Bookmarks: a user keeps posts to come back to. Adding twice or removing what is not
there changes nothing."""

from __future__ import annotations

import contextlib

from tortoise.exceptions import IntegrityError

from forum.topics.access import require_user
from forum.topics.models import Bookmark, Post
from forum.topics.permissions import Viewer


async def bookmark(viewer: Viewer, post: Post, note: str = "") -> bool:
    """Bookmark a post the viewer can read (the caller loaded it through ``locate_post``
    or ``access_topic``). Returns True."""
    user = require_user(viewer)
    if not await Bookmark.exists(user_id=user.id, post_id=post.id):
        with contextlib.suppress(IntegrityError):  # a concurrent request bookmarked it
            await Bookmark.create(user_id=user.id, post_id=post.id, note=note[:200])
    return True


async def unbookmark(viewer: Viewer, post: Post) -> bool:
    """Remove the bookmark. Returns False (no longer bookmarked)."""
    user = require_user(viewer)
    await Bookmark.filter(user_id=user.id, post_id=post.id).delete()
    return False


async def toggle_bookmark(viewer: Viewer, post: Post) -> bool:
    """Bookmark or unbookmark; whether the post is bookmarked afterwards."""
    user = require_user(viewer)
    if await Bookmark.exists(user_id=user.id, post_id=post.id):
        return await unbookmark(viewer, post)
    return await bookmark(viewer, post)


async def bookmarked_post_ids(user_id: int | None, post_ids: list[int]) -> set[int]:
    if user_id is None or not post_ids:
        return set()
    rows = await Bookmark.filter(user_id=user_id, post_id__in=post_ids).values_list(
        "post_id", flat=True)
    return {int(str(r)) for r in rows}
