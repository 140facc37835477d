"""Atom feeds per project and per category, and the platform's sitemap.xml.

Both show only what an anonymous visitor may read: public projects, categories everyone
reads, topics that are neither private nor deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.projects.models import Project, Visibility
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer, read_scope
from forum.topics.queries import TopicFilter, list_topics, readable_q
from forum.web.errors import NotFound

FEED_SIZE = 30
SITEMAP_LIMIT = 50_000
ANONYMOUS = Viewer(None, None, False)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _public_project(slug: str) -> Project:
    project = await Project.get_or_none(slug=slug, default_visibility=Visibility.PUBLIC)
    if project is None:
        raise NotFound("No such project.")
    return project


def _topic_path(project: Project, topic: Topic) -> str:
    tail = f"-{topic.slug}" if topic.slug else ""
    return f"/p/{project.slug}/t/{topic.id}{tail}"


async def _atom(request: Request, project: Project, category: Category | None) -> Response:
    base = request.app.state.platform.settings.public_url
    scope = await read_scope(ANONYMOUS, project.id)
    ids: tuple[int, ...] | None = None
    if category is not None:
        if category.id not in scope.category_ids:
            raise NotFound("No such category.")
        children: list[Any] = await Category.filter(parent_id=category.id).values_list(
            "id", flat=True)
        ids = (category.id, *(int(c) for c in children))
    listing = await list_topics(scope, TopicFilter(category_ids=ids), limit=FEED_SIZE)
    topics = listing.topics
    openings = {p.topic_id: p for p in await Post.filter(  # type: ignore[attr-defined]
        topic_id__in=[t.id for t in topics], number=1)} if topics else {}
    title = project.name + (f" · {category.name}" if category else "")
    self_path = request.url.path
    alternate = f"/p/{project.slug}" + (f"/c/{category.slug}" if category else "")
    updated = max((t.last_posted_at for t in topics), default=project.created_at)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<id>{escape(base + alternate)}</id>",
        f"<link rel=\"self\" href={quoteattr(base + self_path)}/>",
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(base + alternate)}/>",
        f"<updated>{_iso(updated)}</updated>",
    ]
    for topic in topics:
        url = base + _topic_path(project, topic)
        opening = openings.get(topic.id)
        content = opening.cooked if opening is not None else ""
        parts += [
            "<entry>",
            f"<title>{escape(topic.title)}</title>",
            f"<id>{escape(url)}</id>",
            f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(url)}/>",
            f"<published>{_iso(topic.created_at)}</published>",
            f"<updated>{_iso(topic.last_posted_at)}</updated>",
            f"<author><name>{escape(topic.author.username)}</name></author>",
            f"<category term={quoteattr(topic.category.slug)} "
            f"label={quoteattr(topic.category.name)}/>",
            f"<content type=\"html\">{escape(content)}</content>",
            "</entry>",
        ]
    parts.append("</feed>")
    return Response("\n".join(parts), media_type="application/atom+xml; charset=utf-8")


async def project_feed(request: Request) -> Response:
    project = await _public_project(request.path_params["slug"])
    return await _atom(request, project, None)


async def category_feed(request: Request) -> Response:
    project = await _public_project(request.path_params["slug"])
    category = await Category.get_or_none(project_id=project.id,
                                          slug=request.path_params["category"])
    if category is None:
        raise NotFound("No such category.")
    return await _atom(request, project, category)


async def sitemap(request: Request) -> Response:
    """Every public project's home and its anonymously readable topics, with lastmod."""
    base = request.app.state.platform.settings.public_url
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    count = 0
    for project in await Project.filter(default_visibility=Visibility.PUBLIC).order_by("id"):
        lines.append(f"<url><loc>{escape(base)}/p/{escape(project.slug)}</loc></url>")
        q = readable_q(await read_scope(ANONYMOUS, project.id))
        if q is None:
            continue
        rows = await Topic.filter(q).order_by("-last_posted_at", "-id").limit(
            SITEMAP_LIMIT - count).values_list("id", "slug", "last_posted_at")
        for topic_id, slug, last in rows:
            tail = f"-{slug}" if slug else ""
            lastmod = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            lines.append(f"<url><loc>{escape(base)}/p/{escape(project.slug)}/t/{topic_id}"
                         f"{escape(tail)}</loc><lastmod>{_iso(lastmod)}</lastmod></url>")
        count += len(rows)
        if count >= SITEMAP_LIMIT:
            break
    lines.append("</urlset>")
    return Response("\n".join(lines), media_type="application/xml")


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/feed.atom", project_feed, name="topics_feed"),
        Route("/p/{slug}/c/{category}/feed.atom", category_feed, name="topics_category_feed"),
        Route("/sitemap.xml", sitemap, name="sitemap"),
    ]
