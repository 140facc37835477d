"""Escalation: a maintainer turns a topic into a GitHub issue through the prefilled form;
the exact call to GitHub, the link kept, the timeline, and every boundary."""

from __future__ import annotations

import re

import httpx

from forum.platform import Platform
from forum.projects.models import Role
from forum.topics.models import Post, Topic, TopicEvent
from plugins.github_import.escalate import build_summary
from plugins.github_import.models import IssueLink, LinkOrigin
from tests.factories import add_member, make_project, make_user
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.plugins.github_import.linking import REPO, Linked, link_project
from tests.support import Login, post_form
from tests.topics.read_data import make_category, make_topic, posts_of


async def discussed_topic(linked: Linked) -> Topic:
    """A question with an accepted answer, a well-scored reply and a poor one."""
    category = await make_category(linked.project)
    topic = await make_topic(linked.project, category, linked.member, title="Crash on save",
                             replies=3, repliers=[linked.maintainer, linked.owner])
    posts = await posts_of(topic)
    await Post.filter(id=posts[0].id).update(source="Saving a file crashes with KeyError 'x'.")
    await Post.filter(id=posts[1].id).update(source="Workaround: save twice.", score=1)
    await Post.filter(id=posts[2].id).update(source="The cause is in the cache layer.", score=5)
    await Post.filter(id=posts[3].id).update(source="Me too", score=-2)
    await Topic.filter(id=topic.id).update(accepted_post_id=posts[1].id)
    return await Topic.get(id=topic.id)


def form_path(linked: Linked, topic: Topic) -> str:
    return f"/p/{linked.project.slug}/t/{topic.id}/github/escalate"


async def test_the_form_is_prefilled_with_the_title_and_the_summary(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    await login(linked.maintainer)
    page = await client.get(form_path(linked, topic))
    assert page.status_code == 200
    assert 'name="title" value="Crash on save"' in page.text
    assert f'<option value="{REPO}" selected>' in page.text
    url = f"http://testserver/p/{linked.project.slug}/t/{topic.id}-{topic.slug}"
    assert f"[Crash on save]({url})" in page.text
    assert "&gt; Saving a file crashes with KeyError" in page.text
    assert "Accepted answer by @" in page.text and "&gt; Workaround: save twice." in page.text
    assert "(score 5," in page.text and "&gt; The cause is in the cache layer." in page.text
    assert "Me too" not in page.text  # a down-voted reply is not a key post
    assert fake_github.calls == []  # nothing is sent before the maintainer submits


async def test_summary_orders_the_parts_and_counts_the_rest(
        db: None, platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    posts = await Post.filter(topic_id=topic.id).order_by("number").prefetch_related("author")
    body = build_summary("https://f.example/t/1", "Proj", topic, posts)
    assert body.startswith("Escalated from the Proj forum: [Crash on save](https://f.example/t/1)")
    assert body.index("Reported by") < body.index("Accepted answer") < body.index("(score 5,")
    assert body.endswith("1 more reply in the discussion: https://f.example/t/1")
    assert "[#3](https://f.example/t/1#post-3)" in body


async def test_escalating_creates_the_issue_keeps_the_link_and_shows_it(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    await login(linked.maintainer)
    response = await post_form(client, form_path(linked, topic), {
        "title": "Crash on save (KeyError)", "body": "Summary here", "repo": REPO,
        "labels": "bug, needs-triage, bug"})
    assert response.status_code == 303
    topic_path = f"/p/{linked.project.slug}/t/{topic.id}-{topic.slug}"
    assert response.headers["location"] == topic_path
    assert fake_github.writes() == [("POST", f"/repos/{REPO}/issues", {
        "title": "Crash on save (KeyError)", "body": "Summary here",
        "labels": ["bug", "needs-triage"]})]
    assert fake_github.calls[-1].headers["authorization"] == "Bearer ghp_test_token"
    issue = fake_github.repo(REPO).issues[1]
    link = await IssueLink.get(topic_id=topic.id)
    assert (link.repo, link.issue_number, link.origin, link.html_url, link.project_id) == (
        REPO, 1, LinkOrigin.ESCALATED, issue["html_url"], linked.project.id)
    event = await TopicEvent.get(topic_id=topic.id)
    assert event.kind == "github.escalated" and event.url == issue["html_url"]
    assert event.text == f"{linked.maintainer.username} escalated this to GitHub issue {REPO}#1"
    assert event.actor_id == linked.maintainer.id  # type: ignore[attr-defined]
    page = await client.get(topic_path)
    assert f'GitHub issue: <a href="{issue["html_url"]}" rel="noopener">{REPO}#1</a>' in page.text
    assert "GitHub issue created" in page.text or f"{REPO}#1 created" in page.text
    await login(None)  # anonymous readers see the link and the timeline line too
    anonymous = await client.get(topic_path)
    assert issue["html_url"] in anonymous.text
    assert "escalated this to GitHub issue" in anonymous.text


async def test_escalating_twice_says_it_is_already_linked(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    await login(linked.owner)
    data = {"title": "Crash", "body": "b", "repo": REPO, "labels": ""}
    assert (await post_form(client, form_path(linked, topic), data)).status_code == 303
    again = await post_form(client, form_path(linked, topic), data)
    assert again.status_code == 409
    assert "This topic is already linked to" in again.text
    assert f'rel="noopener">{REPO}#1</a>' in again.text
    assert (await client.get(form_path(linked, topic))).status_code == 409
    assert len(fake_github.calls_to("POST", "/issues")) == 1
    assert await IssueLink.filter(topic_id=topic.id).count() == 1


async def test_bad_input_is_refused_before_github_is_called(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    other = await link_project(platform, fake_github, repo="someone/else")
    topic = await discussed_topic(linked)
    await login(linked.maintainer)
    path = form_path(linked, topic)
    for data, field in (({"title": " ", "repo": REPO}, "title"),
                        ({"title": "x" * 300, "repo": REPO}, "title"),
                        ({"title": "ok", "repo": other.connection.repo}, "repo"),
                        ({"title": "ok", "repo": REPO, "labels": ",".join(
                            f"l{n}" for n in range(11))}, "labels"),
                        ({"title": "ok", "repo": REPO, "body": "b" * 60_001}, "body")):
        response = await post_form(client, path, {"body": "", "labels": "", **data})
        assert response.status_code == 422, data
        assert re.search(r'has-error">\s*<span>[^<]*</span>\s*<(input|textarea|select)[^>]*'
                         rf'name="{field}"', response.text), field
    assert fake_github.calls == []
    assert not await IssueLink.exists(topic_id=topic.id)


async def test_github_refusing_is_a_502_and_nothing_is_kept(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    await login(linked.maintainer)
    fake_github.limit_next(403, retry_after=30)
    response = await post_form(client, form_path(linked, topic),
                               {"title": "Crash", "body": "", "repo": REPO, "labels": ""})
    assert response.status_code == 502
    assert "rate limit: try again in 31 seconds" in response.text
    assert not await IssueLink.exists(topic_id=topic.id)
    assert not await TopicEvent.exists(topic_id=topic.id)


async def test_who_may_escalate(client: httpx.AsyncClient, db: None, login: Login,
                                platform: Platform, fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    path = form_path(linked, topic)
    supporter, moderator = await make_user(), await make_user()
    await add_member(linked.project, supporter, Role.SUPPORTER)
    await add_member(linked.project, moderator, Role.MODERATOR)
    for user in (linked.member, supporter, moderator, await make_user(), None):
        await login(user)
        assert (await client.get(path)).status_code == 403
        token_page = f"/p/{linked.project.slug}" if user is not None else "/login"
        response = await post_form(client, path, {"title": "t", "repo": REPO, "body": "",
                                                  "labels": ""}, page=token_page)
        assert response.status_code == 403
    admin = await make_user(admin=True)
    for user in (linked.owner, admin):
        await login(user)
        assert (await client.get(path)).status_code == 200
    # Another project's topic, through this project's URL: not found.
    elsewhere = await make_project(owner=linked.owner)
    foreign = await make_topic(elsewhere, await make_category(elsewhere), linked.owner)
    await login(linked.owner)
    assert (await client.get(form_path(linked, foreign))).status_code == 404
    assert fake_github.calls == []


async def test_a_project_without_the_plugin_has_no_escalation(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github, enabled=False)
    topic = await discussed_topic(linked)
    await login(linked.owner)
    assert (await client.get(form_path(linked, topic))).status_code == 404
    actions = f"/p/{linked.project.slug}/t/{topic.id}/github/actions"
    assert (await client.get(actions)).text == ""


async def test_the_topic_page_offers_the_link_to_maintainers_only(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    page_path = f"/p/{linked.project.slug}/t/{topic.id}-{topic.slug}"
    actions = f"/p/{linked.project.slug}/t/{topic.id}/github/actions"
    await login(linked.maintainer)
    assert f'hx-get="{actions}"' in (await client.get(page_path)).text
    link = (await client.get(actions)).text
    assert f'href="{form_path(linked, topic)}">Escalate to GitHub issue</a>' in link
    await login(linked.member)
    assert actions not in (await client.get(page_path)).text
    assert (await client.get(actions)).text == ""


async def test_a_private_topics_text_is_not_copied_into_the_summary(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform,
        fake_github: FakeGitHub) -> None:
    linked = await link_project(platform, fake_github)
    topic = await discussed_topic(linked)
    await Topic.filter(id=topic.id).update(is_private=True)
    await login(linked.maintainer)
    page = await client.get(form_path(linked, topic))
    assert page.status_code == 200
    assert "The forum topic is private: its text is not copied here." in page.text
    assert "KeyError" not in page.text and "Workaround" not in page.text
