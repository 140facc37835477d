"""import_edit: an imported post follows its original's edits, past the edit window and
without the gates, as a new revision by its author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum.accounts.service import stage_user
from forum.platform import Platform
from forum.topics.models import Post, PostRevision
from forum.topics.service import import_edit, import_reply, import_topic
from tests.factories import make_project, make_user


async def test_import_edit_replaces_the_text_as_a_revision(platform: Platform, db: None) -> None:
    project = await make_project(owner=await make_user())
    author = await stage_user(platform, "github", "77", "octo")
    topic = await import_topic(platform, project, author, "Issue", "Body", kind="discussion")
    post = await import_reply(platform, topic, author, "first **text**",
                              created_at=datetime.now(UTC) - timedelta(days=30))
    edited = await import_edit(platform, post, "second <script>x</script> **text**")
    stored = await Post.get(id=post.id)
    assert stored.source == "second <script>x</script> **text**" == edited.source
    assert "<strong>text</strong>" in stored.cooked and "<script>" not in stored.cooked
    assert stored.edit_count == 1
    revisions = await PostRevision.filter(post_id=post.id).order_by("number")
    assert [r.source for r in revisions] == ["first **text**",
                                             "second <script>x</script> **text**"]
    assert revisions[-1].editor_id == author.id  # type: ignore[attr-defined]
