"""Attribution: the licence by the question's date, the excerpt (HTML stripped, entities
decoded, cut), and the opening post a mirrored question gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.platform import Platform
from forum.topics.models import Post, Topic
from plugins.stackoverflow_bridge.attribution import (
    EXCERPT_CHARS,
    excerpt,
    licence_for,
    plain_text,
    safe_url,
)
from plugins.stackoverflow_bridge.poll import BridgeSettings, poll_project
from tests.plugins.stackoverflow_bridge.conftest import bridge_on
from tests.plugins.stackoverflow_bridge.fake_stackexchange import FakeStackExchange, so_question

SECOND = timedelta(seconds=1)
TO_30 = datetime(2011, 4, 8, tzinfo=UTC)
TO_40 = datetime(2018, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(("created", "licence"), [
    (TO_30 - SECOND, "CC BY-SA 2.5"),
    (TO_30, "CC BY-SA 3.0"),
    (TO_30 + SECOND, "CC BY-SA 3.0"),
    (TO_40 - SECOND, "CC BY-SA 3.0"),
    (TO_40, "CC BY-SA 4.0"),
    (TO_40 + SECOND, "CC BY-SA 4.0"),
    (datetime(2008, 9, 15, tzinfo=UTC), "CC BY-SA 2.5"),
])
def test_licence_by_date(created: datetime, licence: str) -> None:
    assert licence_for(created).name == licence
    assert licence_for(created).url.startswith("https://creativecommons.org/licenses/by-sa/")


def test_html_is_stripped_and_entities_decoded() -> None:
    body = ("<p>I get <code>&lt;b&gt;</code> &amp; &quot;quotes&quot;</p>"
            "<script>alert('x')</script><style>p{}</style>"
            "<pre><code>x = 1\n</code></pre><p>Thanks!</p>")
    assert plain_text(body) == "I get <b> & \"quotes\" x = 1 Thanks!"


def test_excerpt_is_cut_at_a_word() -> None:
    body = "<p>" + "word " * 200 + "</p>"
    text = excerpt(body)
    assert len(text) <= EXCERPT_CHARS + 1 and text.endswith("word…")
    assert excerpt("<p>Short.</p>") == "Short."


def test_only_http_links_are_kept() -> None:
    assert safe_url("javascript:alert(1)", "https://x.test/") == "https://x.test/"
    assert safe_url("https://stackoverflow.com/users/1/a (b)") == \
        "https://stackoverflow.com/users/1/a%20%28b%29"
    assert safe_url(None) == ""


def test_settings_validate_tags_and_site() -> None:
    assert BridgeSettings(tags=" Python; pandas,numpy  python").tags == "python;pandas;numpy"
    for bad in ("a;b;c;d;e;f", "no spaces!", "<script>"):
        with pytest.raises(ValueError):
            BridgeSettings(tags=bad)
    with pytest.raises(ValueError):
        BridgeSettings(site="https://evil.test")
    assert BridgeSettings().tags == "" and BridgeSettings().site == "stackoverflow"


async def test_the_mirrored_topic_attributes_its_author_link_and_licence(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform, backfill_days=30)
    now = datetime.now(UTC)
    api.add(so_question(
        1001, "Why does my *regex* fail?", now - timedelta(days=1), display_name="Ann [Dev]",
        user_id=77, body="<p>My <em>regex</em> &lt;a href&gt; fails <img src=x onerror=alert(1)>"
                         "</p><pre><code>[a](javascript:x)</code></pre>" + "<p>more</p>" * 200))
    await poll_project(platform, project.id, now=now)

    topic = await Topic.get(project_id=project.id)
    post = await Post.get(topic_id=topic.id, number=1)
    html = post.cooked
    assert 'href="https://stackoverflow.com/users/77/ann-dev"' in html
    assert "Ann [Dev]" in html
    assert 'href="https://stackoverflow.com/questions/1001/why-does-my-regex-fail"' in html
    assert "answer it on Stack Overflow" in html
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in html
    assert "CC BY-SA 4.0" in html
    assert "&lt;a href&gt;" in html  # shown as text, not a link
    assert "onerror" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html and "[a](javascript:x)" in html  # text only
    assert html.count("more") < 80  # an excerpt, not a copy
    assert topic.title == "Why does my *regex* fail?"


async def test_old_questions_carry_their_older_licence(
        platform: Platform, db: None, api: FakeStackExchange) -> None:
    project = await bridge_on(platform)
    await _fresh_cursor(project.id, TO_30 - timedelta(days=1))
    api.add(so_question(11, "An early question from 2011", TO_30 - timedelta(hours=1)),
            so_question(12, "A question from 2017 here", datetime(2017, 6, 1, tzinfo=UTC)),
            so_question(13, "A question from 2019 here", datetime(2019, 6, 1, tzinfo=UTC)))
    await poll_project(platform, project.id)
    licences = {t.plugin_data["stackoverflow"]["question_id"]:
                t.plugin_data["stackoverflow"]["licence"]
                for t in await Topic.filter(project_id=project.id)}
    assert licences == {11: "CC BY-SA 2.5", 12: "CC BY-SA 3.0", 13: "CC BY-SA 4.0"}
    early = await Topic.get(project_id=project.id, title__startswith="An early")
    post = await Post.get(topic_id=early.id, number=1)
    assert "https://creativecommons.org/licenses/by-sa/2.5/" in post.cooked


async def _fresh_cursor(project_id: int, since: datetime) -> None:
    from plugins.stackoverflow_bridge.models import PollCursor

    await PollCursor.create(project_id=project_id, fromdate=int(since.timestamp()), seen_ids=[])
