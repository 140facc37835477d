"""A topic's timeline events show between its posts by time, for every viewer, also when
the page came from the page cache."""

from __future__ import annotations

from datetime import timedelta

import httpx

from forum.platform import Platform
from forum.topics.models import TopicEvent
from forum.topics.service import record_topic_event
from tests.factories import make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_category, make_topic, posts_of


async def test_a_new_event_shows_to_an_anonymous_viewer_whose_page_was_cached(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner, replies=1)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(None)
    first = await client.get(url)
    again = await client.get(url)  # the whole page, from the cache
    assert first.status_code == again.status_code == 200
    assert "topic-timeline" not in again.text
    await record_topic_event(platform, topic.id, "github.escalated",
                             "Escalated to GitHub issue o/r#12",
                             url="https://github.com/o/r/issues/12")
    page = await client.get(url)
    assert page.status_code == 200
    assert '<a href="https://github.com/o/r/issues/12" rel="nofollow noopener">' \
           "Escalated to GitHub issue o/r#12</a>" in page.text
    assert page.text.index("Escalated to GitHub") > page.text.index("<p>Reply 1 to")
    await login(owner)  # a signed-in viewer sees it too
    assert "Escalated to GitHub issue o/r#12" in (await client.get(url)).text


async def test_events_sit_between_posts_by_time_and_only_web_links_are_links(
        client: httpx.AsyncClient, db: None, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner, replies=2)
    posts = await posts_of(topic)
    between = await record_topic_event(platform, topic.id, "github.closed",
                                       "The issue was closed <b>now</b>",
                                       url="javascript:alert(1)")
    await TopicEvent.filter(id=between.id).update(
        created_at=posts[1].created_at + (posts[2].created_at - posts[1].created_at) / 2)
    await record_topic_event(platform, topic.id, "github.reopened", "Reopened")
    await TopicEvent.filter(topic_id=topic.id, kind="github.reopened").update(
        created_at=posts[2].created_at + timedelta(seconds=1))
    html = (await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
    closed_at = html.index("The issue was closed")
    assert html.index("<p>Reply 1 to") < closed_at < html.index("<p>Reply 2 to")
    assert html.index("<p>Reply 2 to") < html.index("Reopened")
    assert "javascript:" not in html
    assert "The issue was closed &lt;b&gt;now&lt;/b&gt;" in html
