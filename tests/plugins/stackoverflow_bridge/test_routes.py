"""The bridge's pages: the list of mirrored questions, "poll now" (leads only), the
settings form, the link from the project page, and the cron entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from forum.jobs import JobContext
from forum.platform import Platform
from forum.projects.models import Role, Visibility
from forum.projects.plugin_settings import do_toggle_plugin
from forum.topics.models import Topic
from plugins.stackoverflow_bridge import plugin
from plugins.stackoverflow_bridge.poll import NAME, poll_project
from tests.factories import add_member, make_project, make_user
from tests.plugins.stackoverflow_bridge.conftest import bridge_on
from tests.plugins.stackoverflow_bridge.fake_stackexchange import FakeStackExchange, so_question
from tests.support import Login, post_form

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_list_shows_questions_newest_first_with_their_state(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(1, "An older question about lists", NOW - timedelta(hours=5),
                        score=4, answer_count=2, is_answered=True, accepted_answer_id=77),
            so_question(2, "A newer question about dicts", NOW - timedelta(hours=1),
                        score=-1))
    await poll_project(platform, project.id)

    page = await client.get(f"/p/{project.slug}/stackoverflow")

    assert page.status_code == 200
    text = page.text
    assert text.index("A newer question about dicts") < text.index("An older question about lists")
    topic = await Topic.get(title="An older question about lists")
    assert f'href="/p/{project.slug}/t/{topic.id}-{topic.slug}"' in text
    assert 'class="so-score">4<' in text and 'class="so-score">-1<' in text
    assert "✓ accepted" in text
    assert 'href="https://stackoverflow.com/questions/1/an-older-question-about-lists"' in text
    assert "Poll now" not in text  # anonymous

    member = await make_user()
    await add_member(project, member, Role.MEMBER)
    await login(member)
    assert "Poll now" not in (await client.get(f"/p/{project.slug}/stackoverflow")).text
    assert (await client.get(f"/p/{project.slug}/stackoverflow?page=x")).status_code == 422


async def test_poll_now_queues_a_poll_for_leads_only(
        client: httpx.AsyncClient, login: Login, platform: Platform, run_jobs: object,
        api: FakeStackExchange) -> None:
    lead, member = await make_user(), await make_user()
    project = await bridge_on(platform, await make_project(owner=await make_user()))
    await add_member(project, lead, Role.LEAD)
    await add_member(project, member, Role.MAINTAINER)
    api.add(so_question(5, "Fetched when the lead asks", NOW - timedelta(hours=1)))
    path = f"/p/{project.slug}/stackoverflow/poll"
    page = f"/p/{project.slug}/stackoverflow"

    await login(member)
    assert (await post_form(client, path, {}, page=page)).status_code == 403
    await login(None)
    assert (await post_form(client, path, {}, page="/login")).status_code == 401
    assert api.requests == []

    await login(lead)
    listing = (await client.get(page)).text
    assert "Poll now" in listing and "Last poll: not yet" in listing
    response = await post_form(client, path, {}, page=page)
    assert response.status_code == 303 and response.headers["location"] == page
    await run_jobs()  # type: ignore[operator]
    assert [r.path for r in api.requests] == ["/2.3/questions"]
    assert await Topic.filter(project_id=project.id, title="Fetched when the lead asks").exists()
    listing = (await client.get(page)).text
    assert "polled: 1 new" in listing and "API quota left today: 8999 of 10000" in listing


async def test_other_projects_and_projects_without_the_bridge_are_404(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        api: FakeStackExchange) -> None:
    lead = await make_user()
    ours = await bridge_on(platform, await make_project(owner=lead))
    hidden = await bridge_on(platform, await make_project(
        owner=await make_user(), default_visibility=Visibility.MEMBERS))
    without = await make_project(owner=lead)
    await login(lead)
    assert (await client.get(f"/p/{ours.slug}/stackoverflow")).status_code == 200
    for slug in (hidden.slug, without.slug):
        assert (await client.get(f"/p/{slug}/stackoverflow")).status_code == 404
        response = await post_form(client, f"/p/{slug}/stackoverflow/poll", {},
                                   page=f"/p/{ours.slug}/stackoverflow")
        assert response.status_code == 404
    await do_toggle_plugin(platform, ours, NAME, False)
    assert (await client.get(f"/p/{ours.slug}/stackoverflow")).status_code == 404
    assert api.requests == []


async def test_settings_form_explains_and_validates(
        client: httpx.AsyncClient, login: Login, platform: Platform,
        api: FakeStackExchange) -> None:
    owner = await make_user()
    project = await bridge_on(platform, await make_project(owner=owner))
    await login(owner)
    page = (await client.get(f"/p/{project.slug}/settings")).text
    assert "Stack Overflow bridge" in page
    assert "1 to 5 Stack Overflow tags" in page and "FORUM_STACKEXCHANGE_KEY" in page
    path = f"/p/{project.slug}/settings/plugins/{NAME}"
    form = {"tags": "python", "site": "stackoverflow", "app_key": "", "poll": "on",
            "backfill_days": "2", "refresh_days": "14"}
    for field, bad in (("tags", "a b c d e f"), ("tags", "bad!tag"), ("site", "http://x"),
                       ("refresh_days", "0")):
        response = await post_form(client, path, {**form, field: bad},
                                   page=f"/p/{project.slug}/settings")
        assert response.status_code == 422, (field, bad)
        assert field in response.text
    response = await post_form(client, path, {**form, "tags": "Python, asyncio"},
                               page=f"/p/{project.slug}/settings")
    assert response.status_code == 303
    assert 'value="python;asyncio"' in (await client.get(f"/p/{project.slug}/settings")).text


async def test_cron_polls_only_the_projects_that_switched_the_bridge_on(
        platform: Platform, db: None, run_jobs: object, api: FakeStackExchange) -> None:
    on = await bridge_on(platform, tags="rust")
    off = await bridge_on(platform, tags="golang")
    await do_toggle_plugin(platform, off, NAME, False)
    assert plugin.forum_cron()[0].minute == {0, 10, 20, 30, 40, 50}

    await plugin.poll_all(JobContext(platform=platform, job_id="t", attempt=1))
    await run_jobs()  # type: ignore[operator]

    assert [r.params["tagged"] for r in api.requests] == ["rust"]
    assert on.id != off.id


async def test_project_page_links_the_list_only_where_the_bridge_is_on(
        client: httpx.AsyncClient, platform: Platform, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    link = f'href="/p/{project.slug}/stackoverflow"'
    assert link in (await client.get(f"/p/{project.slug}")).text
    await do_toggle_plugin(platform, project, NAME, False)
    assert link not in (await client.get(f"/p/{project.slug}")).text


async def test_topic_page_labels_the_question_and_links_it(
        client: httpx.AsyncClient, platform: Platform, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    api.add(so_question(31, "Shown on the topic page", NOW - timedelta(hours=1)))
    await poll_project(platform, project.id)
    topic = await Topic.get(project_id=project.id)
    page = await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")
    assert page.status_code == 200
    assert ('<a class="external-source" href="https://stackoverflow.com/questions/31/'
            'shown-on-the-topic-page" rel="nofollow ugc">on Stack Overflow</a>') in page.text
    assert "answer it on Stack Overflow" in page.text
