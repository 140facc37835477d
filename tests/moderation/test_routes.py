"""Flags, the review queue, watched words and settings through the web forms and the API:
status codes, the error shape, permission boundaries, and that a refusal changes nothing."""

from __future__ import annotations

import httpx

from forum.moderation.models import Flag, ItemStatus, ReviewItem, WatchedWord
from forum.projects.models import Role
from forum.topics.models import Access, Category, Post
from forum.topics.schemas import TopicIn
from forum.topics.service import create_topic
from tests.factories import add_member, make_user
from tests.moderation.conftest import World, make_world
from tests.support import Login, post_form


def flag_url(post: Post) -> str:
    return f"/api/v1/posts/{post.id}/flags"


async def test_flag_until_hidden_then_review_through_the_api(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    for n, user in enumerate(w.flaggers):
        await login(user)
        response = await client.post(flag_url(w.answer), json={"reason": "spam"})
        assert response.status_code == 201, response.text
        assert response.json()["post_hidden"] is (n == 2)
    await login(w.moderator)
    queue = (await client.get(f"/api/v1/projects/{w.project.slug}/review")).json()["items"]
    assert len(queue) == 1 and queue[0]["post_hidden"] and len(queue[0]["flags"]) == 3
    item_id = queue[0]["id"]
    base = f"/api/v1/projects/{w.project.slug}/review/{item_id}"
    claimed = await client.post(f"{base}/claim", json={})
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == w.moderator.username
    decided = await client.post(f"{base}/decision", json={"action": "approve"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert (await Post.get(id=w.answer.id)).hidden_at is None
    history = (await client.get(f"/api/v1/projects/{w.project.slug}/review/history")).json()
    assert [d["action"] for d in history["decisions"]] == ["approve", "claim"]


async def test_bad_flags_are_refused_with_a_reason(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    response = await client.post(flag_url(w.answer), json={"reason": "spam"})
    assert response.status_code == 401
    await login(w.author)
    own = await client.post(flag_url(w.answer), json={"reason": "spam"})
    assert own.status_code == 403 and "own post" in own.json()["error"]["message"]
    await login(w.flaggers[0])
    assert (await client.post(flag_url(w.answer), json={"reason": "spam"})).status_code == 201
    twice = await client.post(flag_url(w.answer), json={"reason": "off_topic"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"
    no_note = await client.post(flag_url(w.opening), json={"reason": "needs_moderator"})
    assert no_note.status_code == 422 and "note" in no_note.json()["error"]["fields"]
    unknown = await client.post(flag_url(w.opening), json={"reason": "boring"})
    assert unknown.status_code == 422
    # A post in a category only the team reads.
    team_only = await Category.create(project=w.project, name="Staff", slug="staff",
                                      read_access=Access.TEAM, post_access=Access.TEAM)
    moderator = await w.viewer(w.moderator)
    secret = await create_topic(w.platform, moderator, w.project, TopicIn(
        title="Moderator notes on spam", category_id=team_only.id,
        source="Only the team reads this."))
    opening = await Post.get(topic_id=secret.id, number=1)
    hidden = await client.post(flag_url(opening), json={"reason": "spam"})
    assert hidden.status_code == 404
    assert await Flag.all().count() == 1


async def test_review_api_refuses_members_and_other_projects_moderators(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    await login(w.flaggers[0])
    await client.post(flag_url(w.answer), json={"reason": "spam"})
    item = await ReviewItem.get(post_id=w.answer.id)
    base = f"/api/v1/projects/{w.project.slug}/review"
    assert (await client.get(base)).status_code == 403
    refused = await client.post(f"{base}/{item.id}/decision", json={"action": "approve"})
    assert refused.status_code == 403
    other = await make_world(w.platform)
    await login(other.moderator)
    assert (await client.get(base)).status_code == 403
    cross = await client.post(f"{base}/{item.id}/decision", json={"action": "reject"})
    assert cross.status_code == 403 and "reputation" in cross.json()["error"]["message"]
    via_own = await client.post(
        f"/api/v1/projects/{other.project.slug}/review/{item.id}/decision",
        json={"action": "reject"})
    assert via_own.status_code == 404
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.PENDING
    assert (await Post.get(id=w.answer.id)).deleted_at is None


async def test_claimed_item_through_the_api(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    await login(w.flaggers[0])
    await client.post(flag_url(w.answer), json={"reason": "spam"})
    item = await ReviewItem.get(post_id=w.answer.id)
    base = f"/api/v1/projects/{w.project.slug}/review/{item.id}"
    await login(w.moderator)
    assert (await client.post(f"{base}/claim", json={})).status_code == 200
    second = await make_user()
    await add_member(w.project, second, Role.MODERATOR)
    await login(second)
    blocked = await client.post(f"{base}/decision", json={"action": "reject"})
    assert blocked.status_code == 409
    assert w.moderator.username in blocked.json()["error"]["message"]
    assert (await ReviewItem.get(id=item.id)).status == ItemStatus.PENDING


async def test_flag_form_and_page(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    path = f"/posts/{w.answer.id}/flag"
    assert (await client.get(path)).status_code == 303  # log in first
    await login(w.flaggers[0])
    page = await client.get(path)
    assert page.status_code == 200 and 'value="code_of_conduct"' in page.text
    done = await post_form(client, path, {"reason": "spam", "note": ""})
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#post-{w.answer.number}")
    topic_page = await client.get(done.headers["location"].split("#")[0])
    assert "a moderator will look at it" in topic_page.text
    again = await post_form(client, path, {"reason": "spam", "note": ""})
    assert again.status_code == 409 and "already flagged" in again.text
    await login(w.author)
    own = await post_form(client, path, {"reason": "spam", "note": ""})
    assert own.status_code == 403 and "own post" in own.text
    assert await Flag.all().count() == 1


async def test_flag_a_user_form(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    await login(w.flaggers[0])
    path = f"/p/{w.project.slug}/u/{w.author.username}/flag"
    missing_note = await post_form(client, path, {"reason": "needs_moderator", "note": ""})
    assert missing_note.status_code == 422
    done = await post_form(client, path, {"reason": "needs_moderator", "note": "Threats."})
    assert done.status_code == 303
    api = await client.post(f"/api/v1/projects/{w.project.slug}/users/{w.author.username}"
                            "/flags", json={"reason": "spam"})
    assert api.status_code == 409
    assert await Flag.filter(target_type="user").count() == 1


async def test_review_page_for_moderators(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    await login(w.flaggers[0])
    await client.post(flag_url(w.answer), json={"reason": "spam", "note": ""})
    queue = f"/p/{w.project.slug}/review"
    assert (await client.get(queue)).status_code == 403
    await login(w.moderator)
    page = await client.get(queue)
    assert page.status_code == 200 and "Buy cheap watches" in page.text
    item = await ReviewItem.get(post_id=w.answer.id)
    claimed = await post_form(client, f"{queue}/{item.id}/claim", {}, page=queue)
    assert claimed.status_code == 303
    page = await client.get(queue)
    assert f"Claimed by <strong>{w.moderator.username}</strong>" in page.text
    assert f"/u/{w.author.username}/penalties" in page.text
    rejected = await post_form(client, f"{queue}/{item.id}/reject", {"note": "spam"},
                               page=queue)
    assert rejected.status_code == 303
    assert (await Post.get(id=w.answer.id)).deleted_at is not None
    history = await client.get(f"{queue}/history")
    assert history.status_code == 200 and "reject" in history.text
    again = await post_form(client, f"{queue}/{item.id}/approve", {}, page=queue)
    assert again.status_code == 409


async def test_watched_words_page_and_api_for_leads(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    page = f"/p/{w.project.slug}/settings/watched-words"
    api = f"/api/v1/projects/{w.project.slug}/watched-words"
    await login(w.moderator)
    assert (await client.get(page)).status_code == 403
    assert (await client.post(api, json={"word": "x", "action": "block"})).status_code == 403
    await login(w.owner)
    added = await post_form(client, page, {"word": "Casino", "action": "block",
                                           "replacement": ""})
    assert added.status_code == 303
    bad = await post_form(client, page, {"word": "heck", "action": "replace",
                                         "replacement": ""})
    assert bad.status_code == 422
    made = await client.post(api, json={"word": "darn", "action": "replace",
                                        "replacement": "d*rn"})
    assert made.status_code == 201
    listed = (await client.get(api)).json()["words"]
    assert [(x["word"], x["action"]) for x in listed] == [("casino", "block"),
                                                          ("darn", "replace")]
    assert (await client.request("DELETE", f"{api}/{made.json()['id']}", json={})
            ).status_code == 204
    casino = await WatchedWord.get(word="casino")
    removed = await post_form(client, f"{page}/{casino.id}/delete", {}, page=page)
    assert removed.status_code == 303
    assert await WatchedWord.all().count() == 0


async def test_moderation_settings_page_and_api(
        client: httpx.AsyncClient, web_world: World, login: Login) -> None:
    w = web_world
    api = f"/api/v1/projects/{w.project.slug}/moderation/settings"
    await login(w.moderator)
    assert (await client.get(api)).status_code == 403
    await login(w.owner)
    assert (await client.get(api)).json()["hide_threshold"] == 3
    saved = await client.put(api, json={"hide_threshold": 5, "posts_per_user": 0})
    assert saved.status_code == 200 and saved.json()["hide_threshold"] == 5
    wrong = await client.put(api, json={"hide_threshold": -1})
    assert wrong.status_code == 422
    assert (await client.get(api)).json()["hide_threshold"] == 5
    page = f"/p/{w.project.slug}/settings/moderation"
    values = (await client.get(api)).json()
    response = await post_form(client, page, {**{k: str(v) for k, v in values.items()},
                                              "claim_minutes": "45"})
    assert response.status_code == 303
    assert (await client.get(api)).json()["claim_minutes"] == 45


async def test_profile_outlet_links_to_the_user_flag_form(app: object, web_world: World) -> None:
    from types import SimpleNamespace

    from forum.platform import Platform

    platform: Platform = web_world.platform
    template = platform.templates.get_template("moderation/_profile_flag.html")
    context = {"project": web_world.project, "profile_user": web_world.author}
    html = template.render({**context, "user": web_world.flaggers[0]})
    assert f'/p/{web_world.project.slug}/u/{web_world.author.username}/flag"' in html
    assert "/flag" not in template.render({**context, "user": web_world.author})
    assert "/flag" not in template.render({**context, "user": None})
    # Rendered where no profile is shown, it shows nothing (and does not fail).
    assert "/flag" not in template.render({"user": SimpleNamespace(id=1)})
