"""The topic page and its forms: canonical URLs, answer order, JSON-LD, the composer,
replies, votes, accepting, bookmarks, editing and the preview."""

from __future__ import annotations

import json
import re

import httpx

from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Bookmark, Post, Topic, TopicKind, TopicState, Vote
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form
from tests.topics.read_data import accept, make_category, make_topic, posts_of


def post_ids_in_order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<section id="post-\d+" class="post[^"]*" '
                                       r'data-post-id="(\d+)"', html)]


async def demo_project() -> tuple[Project, list]:
    owner = await make_user()
    project = await make_project(owner=owner)
    await ensure_default_categories(project)
    return project, [owner]


async def test_canonical_url_and_redirects(client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, title="Where is the manual")
    canonical = f"/p/{project.slug}/t/{topic.id}-where-is-the-manual"
    response = await client.get(canonical)
    assert response.status_code == 200
    assert f'<link rel="canonical" href="http://testserver{canonical}">' in response.text
    for wrong in (f"/p/{project.slug}/t/{topic.id}", f"/p/{project.slug}/t/{topic.id}-old-title"):
        redirect = await client.get(wrong)
        assert redirect.status_code == 301
        assert redirect.headers["location"] == canonical
    assert (await client.get(f"/p/{project.slug}/t/999999")).status_code == 404
    assert (await client.get(f"/p/{project.slug}/t/abc")).status_code == 404
    other = await make_project(owner=owner)
    assert (await client.get(f"/p/{other.slug}/t/{topic.id}")).status_code == 404


async def test_question_answers_accepted_first_then_score(
        client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    helper = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, title="Sorting answers", replies=4,
                             repliers=[helper])
    opening, a1, a2, a3, a4 = await posts_of(topic)
    await Post.filter(id=a2.id).update(score=5)
    await Post.filter(id=a3.id).update(score=5)
    await Post.filter(id=a4.id).update(score=-1)
    await accept(topic, a4)
    html = (await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
    # opening, accepted, then score (ties: oldest first), then the rest
    assert post_ids_in_order(html) == [opening.id, a4.id, a2.id, a3.id, a1.id]
    await Topic.filter(id=topic.id).update(kind=TopicKind.DISCUSSION)
    html = (await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
    assert post_ids_in_order(html) == [opening.id, a1.id, a2.id, a3.id, a4.id]


async def test_qa_page_json_ld(client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    helper = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, title="Escaping </script> tags",
                             replies=2, repliers=[helper])
    await Post.filter(topic_id=topic.id, number=2).update(
        source="Use </script><script>alert(1)</script> carefully & well")
    answer = (await posts_of(topic))[1]
    await accept(topic, answer)
    html = (await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    assert "</" not in blocks[0] and "<script" not in blocks[0]
    data = json.loads(blocks[0])
    assert data["@type"] == "QAPage"
    question = data["mainEntity"]
    assert question["name"] == "Escaping </script> tags"
    assert question["answerCount"] == 2
    assert question["acceptedAnswer"]["text"].startswith("Use </script>")
    assert question["acceptedAnswer"]["url"].endswith("#post-2")
    assert question["acceptedAnswer"]["author"]["name"] == helper.username
    assert len(question["suggestedAnswer"]) == 1
    # Not a question: no QAPage.
    discussion = await make_topic(project, category, owner, kind=TopicKind.DISCUSSION)
    html = (await client.get(f"/p/{project.slug}/t/{discussion.id}-{discussion.slug}")).text
    assert "application/ld+json" not in html


async def test_view_counted_once_per_viewer(client: httpx.AsyncClient, db: None,
                                            login: Login) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await client.get(url)
    await client.get(url)
    assert (await Topic.get(id=topic.id)).view_count == 1
    await login(owner)
    await client.get(url)
    assert (await Topic.get(id=topic.id)).view_count == 2


async def test_ask_answer_vote_accept_through_forms(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    project, _ = await demo_project()
    asker = await make_user()
    await add_member(project, asker)  # members create tags on first use
    helper = await make_user()
    await login(asker)
    page = await client.get(f"/p/{project.slug}/new?category=questions")
    assert page.status_code == 200
    assert '<option value="questions" selected>' in page.text
    assert 'value="announcements"' not in page.text  # team-only posting
    assert 'hx-get="/p/' + project.slug + '/similar"' in page.text
    response = await post_form(client, f"/p/{project.slug}/new", {
        "title": "How do I frobnicate widgets", "source": "I tried **everything**.",
        "category": "questions", "kind": "", "tags": "widgets, frob"})
    assert response.status_code == 303
    topic = await Topic.get(title="How do I frobnicate widgets")
    assert response.headers["location"] == f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    assert sorted(t.name for t in await topic.tags.all()) == ["frob", "widgets"]

    await login(helper)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    response = await post_form(client, f"/p/{project.slug}/t/{topic.id}/reply",
                               {"source": "Turn it off and on again."}, page=url)
    assert response.status_code == 303
    answer = await Post.get(topic_id=topic.id, number=2)
    assert response.headers["location"] == f"{url}#post-2"
    # The helper cannot accept.
    html = (await client.get(url)).text
    assert "Accept this answer" not in html

    await login(asker)
    html = (await client.get(url)).text
    assert "Accept this answer" in html
    response = await post_form(client, f"/posts/{answer.id}/vote", {"value": "1"}, page=url)
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}#post-2"
    assert (await Post.get(id=answer.id)).score == 1
    html = (await client.get(url)).text
    assert 'class="vote-up voted"' in html
    response = await post_form(client, f"/p/{project.slug}/t/{topic.id}/accept",
                               {"post_id": str(answer.id)}, page=url)
    assert response.status_code == 303
    fresh = await Topic.get(id=topic.id)
    assert fresh.accepted_post_id == answer.id and fresh.state == TopicState.SOLVED
    html = (await client.get(url)).text
    assert "Accepted answer" in html and "withdraw acceptance" in html
    # Voting on your own post is refused with a message, nothing stored.
    opening = await Post.get(topic_id=topic.id, number=1)
    response = await post_form(client, f"/posts/{opening.id}/vote", {"value": "1"}, page=url)
    assert response.status_code == 303
    assert not await Vote.exists(post_id=opening.id)
    assert "own post" in (await client.get(url)).text
    # Bookmark and un-bookmark.
    await post_form(client, f"/posts/{answer.id}/bookmark", {"bookmarked": "1"}, page=url)
    assert await Bookmark.exists(post_id=answer.id, user_id=asker.id)
    assert "remove bookmark" in (await client.get(url)).text
    await post_form(client, f"/posts/{answer.id}/bookmark", {"bookmarked": "0"}, page=url)
    assert not await Bookmark.exists(post_id=answer.id, user_id=asker.id)


async def test_composer_errors_rerender_with_status(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    project, _ = await demo_project()
    user = await make_user()
    await login(user)
    response = await post_form(client, f"/p/{project.slug}/new", {
        "title": "?!", "source": "   ", "category": "questions", "kind": "", "tags": ""})
    assert response.status_code == 422
    assert "A title needs" in response.text or "title" in response.text
    assert 'class="field has-error"' in response.text
    assert await Topic.all().count() == 0
    response = await post_form(client, f"/p/{project.slug}/new", {
        "title": "Team news from me", "source": "Hello there", "category": "announcements",
        "kind": "", "tags": ""})
    assert response.status_code == 403
    assert await Topic.all().count() == 0
    await login(None)
    response = await client.get(f"/p/{project.slug}/new")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_reply_refused_on_locked_topic_keeps_draft(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    member = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member, Role.MEMBER)
    topic = await make_topic(project, await make_category(project), owner, locked=True)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(member)
    html = (await client.get(url)).text
    assert "This topic is locked" in html
    assert 'action="/p/' + project.slug + f'/t/{topic.id}/reply"' not in html
    response = await post_form(client, f"/p/{project.slug}/t/{topic.id}/reply",
                               {"source": "Let me in please"}, page=f"/p/{project.slug}")
    assert response.status_code == 409
    assert await Post.filter(topic_id=topic.id).count() == 1
    await login(owner)  # moderators may still reply
    assert 'id="composer"' in (await client.get(url)).text


async def test_edit_page_shows_history_and_saves(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    project, (owner,) = await demo_project()
    await login(owner)
    await post_form(client, f"/p/{project.slug}/new", {
        "title": "Original title here", "source": "first words", "category": "questions",
        "kind": "", "tags": ""})
    topic = await Topic.get(title="Original title here")
    opening = await Post.get(topic_id=topic.id, number=1)
    edit_url = f"/p/{project.slug}/posts/{opening.id}/edit"
    assert 'href="' + edit_url + '"' in (await client.get(
        f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
    response = await post_form(client, edit_url, {
        "title": "Better title here", "source": "second words", "reason": "clarity"})
    assert response.status_code == 303
    assert (await Topic.get(id=topic.id)).title == "Better title here"
    page = await client.get(edit_url)
    assert page.status_code == 200
    assert "<del>" in page.text and "<ins>" in page.text and "clarity" in page.text
    stranger = await make_user()
    await login(stranger)
    response = await post_form(client, edit_url, {"title": "Hijacked title", "source": "x y",
                                                  "reason": ""}, page=f"/p/{project.slug}")
    assert response.status_code == 403
    assert (await Topic.get(id=topic.id)).title == "Better title here"


async def test_preview_cooks_markdown(client: httpx.AsyncClient, db: None,
                                      login: Login) -> None:
    project, (owner,) = await demo_project()
    await login(owner)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      (await client.get(f"/p/{project.slug}/new")).text)
    assert token
    response = await client.post(f"/p/{project.slug}/preview",
                                 data={"source": "**bold** <script>alert(1)</script>"},
                                 headers={"X-CSRF-Token": token.group(1)})
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.text
    assert "<script" not in response.text
    response = await client.post(f"/p/{project.slug}/preview", data={"source": "x"})
    assert response.status_code == 403  # no CSRF token


async def test_deleted_posts_greyed_for_moderators_only(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    from datetime import UTC, datetime

    owner = await make_user()
    member = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    topic = await make_topic(project, await make_category(project), member, replies=1)
    await Post.filter(topic_id=topic.id, number=2).update(deleted_at=datetime.now(UTC))
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(member)
    assert "Reply 1 to" not in (await client.get(url)).text
    await login(owner)
    html = (await client.get(url)).text
    assert "Reply 1 to" in html and 'class="post deleted"' in html


async def test_anonymous_posts_cache_follows_every_change(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    from datetime import UTC, datetime

    project, (owner,) = await demo_project()
    helper = await make_user()
    await login(owner)
    await post_form(client, f"/p/{project.slug}/new", {
        "title": "Cached question here", "source": "original words", "category": "questions",
        "kind": "", "tags": ""})
    topic = await Topic.get(title="Cached question here")
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"

    async def anonymous() -> str:
        await login(None)
        first = (await client.get(url)).text
        assert (await client.get(url)).text.count("data-post-id") == first.count(
            "data-post-id")
        return first

    def scores(html: str) -> list[str]:
        return re.findall(r'class="post-score"[^>]*>(-?\d+)<', html)

    assert scores(await anonymous()) == ["0"]
    await login(helper)
    await post_form(client, f"/p/{project.slug}/t/{topic.id}/reply",
                    {"source": "an answer"}, page=url)
    assert "an answer" in await anonymous()
    answer = await Post.get(topic_id=topic.id, number=2)
    await login(owner)
    await post_form(client, f"/posts/{answer.id}/vote", {"value": "1"}, page=url)
    assert scores(await anonymous()) == ["0", "1"]
    await login(owner)
    await post_form(client, f"/posts/{answer.id}/vote", {"value": "-1"}, page=url)
    assert scores(await anonymous()) == ["0", "-1"]
    await login(owner)
    opening = await Post.get(topic_id=topic.id, number=1)
    await post_form(client, f"/p/{project.slug}/posts/{opening.id}/edit", {
        "title": "Cached question here", "source": "edited words", "reason": ""})
    html = await anonymous()
    assert "edited words" in html and "original words" not in html
    await login(owner)
    await post_form(client, f"/p/{project.slug}/t/{topic.id}/accept",
                    {"post_id": str(answer.id)}, page=url)
    assert "Accepted answer" in await anonymous()
    await Post.filter(id=answer.id).update(deleted_at=datetime.now(UTC))
    assert "an answer" not in await anonymous()


async def test_preview_of_refused_markdown_is_422_not_500(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    project, (owner,) = await demo_project()
    await login(owner)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      (await client.get(f"/p/{project.slug}/new")).text)
    assert token
    response = await client.post(f"/p/{project.slug}/preview",
                                 data={"source": ">" * 200 + " deep"},
                                 headers={"X-CSRF-Token": token.group(1)})
    assert response.status_code == 422
