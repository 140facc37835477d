"""Atom feeds and sitemap.xml: they parse, and hold only what anonymous visitors may read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from forum.topics.models import Access, TopicKind
from tests.factories import make_project, make_user
from tests.topics.read_data import make_category, make_topic

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


async def content() -> dict[str, object]:
    owner = await make_user()
    project = await make_project("feedy", owner=owner, name="Feedy & Co")
    public = await make_category(project, "public")
    team = await make_category(project, "team", read_access=Access.TEAM)
    security = await make_category(project, "security", private_topics=True)
    hidden = await make_project("hidden", owner=owner, default_visibility="members")
    hidden_cat = await make_category(hidden, "general")
    await make_topic(project, public, owner, title="Public <b>one</b> & more")
    await make_topic(project, team, owner, title="Team only roadmap")
    await make_topic(project, security, owner, title="Private vulnerability",
                     kind=TopicKind.SECURITY_REPORT, is_private=True)
    await make_topic(hidden, hidden_cat, owner, title="Members project topic")
    return {"project": project}


async def test_project_feed_parses_and_excludes_private(client: httpx.AsyncClient,
                                                         db: None) -> None:
    await content()
    response = await client.get("/p/feedy/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Feedy & Co"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Public <b>one</b> & more"]
    entry = entries[0]
    link = entry.find(f"{ATOM}link")
    assert link is not None and link.get("href", "").startswith("http://testserver/p/feedy/t/")
    assert "<p>Body of Public" in (entry.findtext(f"{ATOM}content") or "")
    assert entry.findtext(f"{ATOM}updated")


async def test_category_feed_and_refusals(client: httpx.AsyncClient, db: None) -> None:
    await content()
    root = ET.fromstring((await client.get("/p/feedy/c/public/feed.atom")).content)
    assert len(root.findall(f"{ATOM}entry")) == 1
    assert (await client.get("/p/feedy/c/team/feed.atom")).status_code == 404
    assert (await client.get("/p/feedy/c/nope/feed.atom")).status_code == 404
    assert (await client.get("/p/hidden/feed.atom")).status_code == 404


async def test_sitemap_lists_public_readable_topics(client: httpx.AsyncClient,
                                                    db: None) -> None:
    await content()
    response = await client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    urls = root.findall(f"{SITEMAP}url")
    locs = [u.findtext(f"{SITEMAP}loc") or "" for u in urls]
    assert "http://testserver/p/feedy" in locs
    topic_urls = [u for u in urls if "/t/" in (u.findtext(f"{SITEMAP}loc") or "")]
    assert len(topic_urls) == 1
    assert "public-b-one-b-more" in (topic_urls[0].findtext(f"{SITEMAP}loc") or "")
    assert topic_urls[0].findtext(f"{SITEMAP}lastmod")
    assert not any("hidden" in loc for loc in locs)
