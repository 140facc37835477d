"""The search page, the search API and duplicate suggestions for the composer.

GET /p/{slug}/search?q=&category=&tag=&state=&kind=&author=&after=&before=&page=
GET /api/v1/projects/{slug}/search?q=... (same parameters)
GET /p/{slug}/similar?title=  (an HTML fragment for htmx) and /api/v1/projects/{slug}/similar
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field, RootModel, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user
from forum.platform import Platform
from forum.projects.models import Project
from forum.projects.permissions import Action, access_project
from forum.search import SearchResult
from forum.topics.models import Category, Topic, TopicKind, TopicState
from forum.topics.permissions import Viewer, read_scope
from forum.topics.search_index import (
    MAX_PAGE,
    PAGE_SIZE,
    SearchFilters,
    search_topics,
    similar_topics,
)
from forum.web.api import api_route
from forum.web.errors import invalid_from_pydantic
from forum.web.templating import render

Text = Annotated[str, StringConstraints(max_length=100)]


class SearchParams(BaseModel):
    """Query parameters; the text is cut to 500 characters (longer input is not an error)."""

    q: str = ""
    category: Text | None = None
    tag: Text | None = None
    state: TopicState | None = None
    kind: TopicKind | None = None
    author: Text | None = None
    after: date | None = None
    before: date | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)

    def filters(self) -> SearchFilters:
        return SearchFilters(
            category=self.category or None, tag=self.tag or None,
            state=self.state.value if self.state else None,
            kind=self.kind.value if self.kind else None, author=self.author or None,
            after=self.after, before=self.before, page=self.page)


class SearchHitOut(BaseModel):
    post_id: int
    topic_id: int
    number: int
    title: str
    snippet: str = Field(description="HTML-escaped text; matches wrapped in <mark>")
    url: str
    score: float


class SearchOut(BaseModel):
    query: str
    total: int
    page: int
    hits: list[SearchHitOut]


class SimilarOut(BaseModel):
    topic_id: int
    title: str
    url: str


class SimilarListOut(RootModel[list[SimilarOut]]):
    pass


def _params(request: Request) -> SearchParams:
    data: dict[str, Any] = {k: v for k, v in request.query_params.items()
                            if k in SearchParams.model_fields and v != ""}
    data["q"] = request.query_params.get("q", "")[:500]
    try:
        return SearchParams.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


async def _here(request: Request) -> tuple[Project, Viewer]:
    user = current_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    return access.project, Viewer.of(access, user)


def topic_path(project: Project, topic_id: int, slug: str) -> str:
    return f"/p/{project.slug}/t/{topic_id}" + (f"-{slug}" if slug else "")


async def _hits_out(project: Project, result: SearchResult) -> list[SearchHitOut]:
    topic_ids = {hit.topic_id for hit in result.hits}
    slugs = {t.id: t.slug for t in await Topic.filter(id__in=topic_ids).only("id", "slug")}
    return [SearchHitOut(
        post_id=hit.post_id, topic_id=hit.topic_id, number=hit.number, title=hit.title,
        snippet=hit.snippet, score=hit.score,
        url=f"{topic_path(project, hit.topic_id, slugs.get(hit.topic_id, ''))}"
            f"#post-{hit.number}") for hit in result.hits]


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def search_page(request: Request) -> Response:
    project, viewer = await _here(request)
    params = _params(request)
    result = SearchResult()
    if params.q.strip():
        result = await search_topics(_platform(request), viewer, project, params.q,
                                     params.filters())
    scope = await read_scope(viewer, project.id)
    categories = await Category.filter(id__in=scope.category_ids).order_by("position", "name")
    next_url = None
    if params.page * PAGE_SIZE < result.total and params.page < MAX_PAGE:
        query = {**request.query_params, "page": str(params.page + 1)}
        next_url = f"{request.url.path}?{urlencode(query)}"
    return await render(request, "topics/search.html", {
        "current_project": project, "params": params, "hits": await _hits_out(project, result),
        "total": result.total, "categories": categories, "next_url": next_url,
        "states": list(TopicState), "kinds": list(TopicKind),
    })


@api_route("GET", "/api/v1/projects/{slug}/search", response=SearchOut, auth=False,
           errors=(404, 422), tag="search")
async def search_api(request: Request) -> SearchOut:
    """Search a project's posts (only what the caller may read)."""
    project, viewer = await _here(request)
    params = _params(request)
    result = SearchResult()
    if params.q.strip():
        result = await search_topics(_platform(request), viewer, project, params.q,
                                     params.filters())
    return SearchOut(query=params.q, total=result.total, page=params.page,
                     hits=await _hits_out(project, result))


async def _similar(request: Request) -> tuple[Project, list[SimilarOut]]:
    project, viewer = await _here(request)
    title = request.query_params.get("title", "")[:200]
    found = await similar_topics(_platform(request), viewer, project, title)
    return project, [SimilarOut(topic_id=s.topic_id, title=s.title,
                                url=topic_path(project, s.topic_id, s.slug)) for s in found]


async def similar_fragment(request: Request) -> Response:
    project, similar = await _similar(request)
    return await render(request, "topics/search_similar.html",
                        {"current_project": project, "similar": similar})


@api_route("GET", "/api/v1/projects/{slug}/similar", response=SimilarListOut, auth=False,
           errors=(404,), tag="search")
async def similar_api(request: Request) -> SimilarListOut:
    """Topics whose title resembles ?title= (duplicate suggestions while composing)."""
    _, similar = await _similar(request)
    return SimilarListOut(similar)


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/search", search_page, name="search"),
        Route("/p/{slug}/similar", similar_fragment, name="similar"),
        search_api,
        similar_api,
    ]
