"""The topic page's posts come from fragments shared between viewers: each viewer still
sees only their own votes, bookmarks and edit links, and hidden posts only where allowed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from forum.gates import Flair
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.projects.models import Role
from forum.topics.access import load_viewer
from forum.topics.hide import hide_post, unhide_post
from forum.topics.models import Bookmark, CloseReason, Post, Topic, Vote
from forum.topics.triage import close_topic, merge_topic
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_category, make_topic, posts_of


def pressed_votes(html: str) -> dict[int, str]:
    """post id -> which vote button is pressed ("up", "down" or "")."""
    found: dict[int, str] = {}
    for post_id, body in re.findall(
            r'<form method="post" action="/posts/(\d+)/vote" class="vote">(.*?)</form>', html,
            re.S):
        up = 'class="vote-up voted"' in body
        down = 'class="vote-down voted"' in body
        found[int(post_id)] = "up" if up else "down" if down else ""
    return found


async def test_each_viewer_sees_their_own_votes_bookmarks_and_edit_links(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner, ann, ben = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=3, repliers=[ann, ben])
    posts = await posts_of(topic)
    await Post.filter(topic_id=topic.id).update(created_at=datetime.now(UTC))  # editable
    by_ann = next(p for p in posts if p.author_id == ann.id)  # type: ignore[attr-defined]
    await Vote.create(post=posts[0], user=ann, value=1)
    await Vote.create(post=by_ann, user=ben, value=-1)
    await Bookmark.create(post=posts[1], user=ben)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    pages: dict[str, list[str]] = {}
    for who in (ann, ben, ann):  # ann twice: the second page comes from the fragment
        await login(who)
        response = await client.get(url)
        assert response.status_code == 200
        pages.setdefault(who.username, []).append(response.text)
    first, again = pages[ann.username]
    assert pressed_votes(first) == pressed_votes(again)
    ann_votes, ben_votes = pressed_votes(first), pressed_votes(pages[ben.username][0])
    assert ann_votes[posts[0].id] == "up" and ben_votes[posts[0].id] == ""
    assert ben_votes[by_ann.id] == "down" and by_ann.id not in ann_votes
    # Nobody votes on their own post: no vote form there.
    own = [p.id for p in posts if p.author_id == ann.id]  # type: ignore[attr-defined]
    assert own and all(pid not in ann_votes for pid in own)
    assert f'action="/posts/{posts[1].id}/bookmark"' in first
    assert pages[ben.username][0].count("remove bookmark") == 1
    assert "remove bookmark" not in first
    edit_links = set(re.findall(rf"/p/{project.slug}/posts/(\d+)/edit", first))
    assert edit_links == {str(pid) for pid in own}
    # The session's own CSRF token in every form, never another viewer's or a marker.
    token = re.search(r'name="csrf_token" value="([^"]+)"', first)
    assert token is not None
    ben_token = re.search(r'name="csrf_token" value="([^"]+)"', pages[ben.username][0])
    assert ben_token is not None and ben_token.group(1) != token.group(1)
    for html in (first, again):  # one token per page: the session's own
        assert len(set(re.findall(r'name="csrf_token" value="([^"]+)"', html))) == 1
    assert ben_token.group(1) not in again
    assert "\ue000" not in first and "\ue001" not in first


async def test_hidden_posts_show_to_their_author_and_moderators_only(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform) -> None:
    owner, author, stranger, moderator = (await make_user(), await make_user(),
                                          await make_user(), await make_user())
    project = await make_project(owner=owner)
    await add_member(project, moderator, Role.MODERATOR)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=2, repliers=[author])
    posts = await posts_of(topic)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(stranger)
    assert f'data-post-id="{posts[1].id}"' in (await client.get(url)).text  # cached now
    await hide_post(platform, posts[1], "spam flags", moderator.id)
    for who, sees in ((None, False), (stranger, False), (author, True), (moderator, True),
                      (stranger, False)):
        await login(who)
        html = (await client.get(url)).text
        assert (f'data-post-id="{posts[1].id}"' in html) is sees, who
        assert (f'data-post-id="{posts[2].id}"' in html)
        if sees:
            assert "Hidden until a moderator reviews it: spam flags" in html
    await unhide_post(platform, posts[1], moderator.id)
    await login(stranger)
    html = (await client.get(url)).text
    assert f'data-post-id="{posts[1].id}"' in html and "Hidden until" not in html


class FlairFixed:
    """Answers forum_author_flair with made-up figures, counting its calls."""

    PLUGIN_NAME = "flair-fixed"

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    @hookimpl
    def forum_author_flair(self, project_id: int, user_ids: list[int], platform: Platform
                           ) -> dict[int, Flair]:
        self.calls.append(user_ids)
        return {uid: Flair(reputation=4000 + uid, gold=1, silver=0, bronze=3)
                for uid in user_ids}


async def test_authors_flair_and_flag_links(client: httpx.AsyncClient, db: None,
                                            login: Login, platform: Platform) -> None:
    owner, ann = await make_user(), await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=2, repliers=[ann])
    posts = await posts_of(topic)
    plugin = FlairFixed()
    platform.plugins.pm.register(plugin, name=plugin.PLUGIN_NAME)
    try:
        url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
        await login(ann)
        html = (await client.get(url)).text
        assert plugin.calls == [sorted({owner.id, ann.id})]  # one call for every author
        assert f'<span class="rep">{4000 + ann.id}</span>' in html
        assert f'<span class="rep">{4000 + owner.id}</span>' in html
        assert '<span class="badge-count gold">●1</span>' in html
        assert "silver\">" not in html
        flagged = {int(i) for i in re.findall(r'href="/posts/(\d+)/flag"', html)}
        assert flagged == {p.id for p in posts if p.author_id != ann.id}  # type: ignore[attr-defined]
        await login(None)
        assert "/flag" not in (await client.get(url)).text
    finally:
        platform.plugins.pm.unregister(plugin)


async def test_triage_on_the_topic_page(client: httpx.AsyncClient, db: None, login: Login,
                                        platform: Platform) -> None:
    owner, moderator, member = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member, Role.MEMBER)
    category = await make_category(project)
    original = await make_topic(project, category, owner, replies=1)
    duplicate = await make_topic(project, category, member, replies=1)
    third = await make_topic(project, category, member)
    viewer = await load_viewer(moderator, project)
    url = f"/p/{project.slug}/t/{original.id}-{original.slug}"
    await login(moderator)
    assert f'action="/p/{project.slug}/t/{original.id}/merge"' in (await client.get(url)).text
    await login(member)
    assert "/merge\"" not in (await client.get(url)).text and 'class="triage"' not in (
        await client.get(url)).text
    # A topic closed as a duplicate says of what, with a link.
    await close_topic(platform, viewer, third, CloseReason.DUPLICATE, duplicate_of=original.id)
    html = (await client.get(f"/p/{project.slug}/t/{third.id}-{third.slug}")).text
    assert f'Closed as a duplicate of <a href="{url}" rel="nofollow">{original.title}</a>' in html
    # A merged duplicate's URL redirects to the topic it went into.
    await merge_topic(platform, viewer, duplicate, original.id)
    for who in (member, None):
        await login(who)
        response = await client.get(f"/p/{project.slug}/t/{duplicate.id}-{duplicate.slug}")
        assert response.status_code == 301 and response.headers["location"] == url
    response = await client.get(f"/p/{project.slug}/t/999999")
    assert response.status_code == 404


async def test_anonymous_whole_page_follows_views_and_closing(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform) -> None:
    owner, moderator = await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, moderator, Role.MODERATOR)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=1)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(None)
    await client.get(url)  # counts this visitor's view
    second = (await client.get(url)).text
    assert second == (await client.get(url)).text  # served whole from the fragment
    assert "· 1 view\n" in second
    await Topic.filter(id=topic.id).update(view_count=41)
    assert "41 views" in (await client.get(url)).text
    viewer = await load_viewer(moderator, project)
    await close_topic(platform, viewer, topic, CloseReason.OFF_TOPIC)
    await login(None)
    assert "Closed as off-topic" in (await client.get(url)).text
