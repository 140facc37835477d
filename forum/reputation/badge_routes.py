"""Badge pages and their API: every badge of a project, who earned one, a user's badges,
and the user profile API (reputation, badges and privileges in a project).

Reading follows the project's read access (``here``: a hidden project is not found). An
award's post is linked only when the viewer may read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.hookspecs import BadgeRule
from forum.projects.models import Role
from forum.projects.permissions import role_in
from forum.reputation import badges
from forum.reputation.privileges import privilege_table
from forum.reputation.service import reputation_of
from forum.topics import queries
from forum.topics.models import Post
from forum.topics.permissions import Viewer, hidden_q
from forum.topics.queries import TopicFilter, readable_q
from forum.topics.read_api import summary
from forum.topics.read_schemas import ProfileOut
from forum.topics.routes import Here, here, topic_url
from forum.web.api import api_route
from forum.web.errors import Invalid, NotFound
from forum.web.templating import render

TAG = "badges"
PAGE_SIZE = 50


# Shapes of the API


class BadgeOut(BaseModel):
    slug: str
    name: str
    description: str
    level: str
    multiple: bool
    awarded: int  # times awarded in the project


class BadgeListOut(BaseModel):
    badges: list[BadgeOut]


class AwardOut(BaseModel):
    username: str
    awarded_at: datetime
    post_id: int | None  # null also when the caller may not read the post
    url: str | None


class BadgeAwardsOut(BaseModel):
    badge: BadgeOut
    awards: list[AwardOut]
    next_cursor: str | None


class BadgeCounts(BaseModel):
    gold: int
    silver: int
    bronze: int


class HeldBadgeOut(BaseModel):
    slug: str
    name: str
    description: str
    level: str
    count: int
    first_awarded_at: datetime
    last_awarded_at: datetime


class UserBadgesOut(BaseModel):
    username: str
    counts: BadgeCounts
    badges: list[HeldBadgeOut]


class UserProfileOut(ProfileOut):
    """A person in a project: reputation, badges and privileges beside the activity."""

    joined: datetime
    reputation: int
    badge_counts: BadgeCounts
    badges: list[HeldBadgeOut]
    privileges: list[str]


# Loading


def _platform(request: Request) -> Any:
    return request.app.state.platform


def _cursor(request: Request) -> int | None:
    raw = request.query_params.get("before") or request.query_params.get("cursor")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise Invalid("The cursor is not valid.", fields={"cursor": "Not a valid cursor."})
    return int(raw)


async def _person(request: Request) -> User:
    user = await User.get_or_none(username_lower=request.path_params["username"].lower(),
                                  is_active=True)
    if user is None:
        raise NotFound("No such user.")
    return user


async def _rule(request: Request, h: Here) -> BadgeRule:
    rule = await badges.project_rule(_platform(request), h.project.id,
                                     request.path_params["badge"])
    if rule is None:
        raise NotFound("No such badge.")
    return rule


async def readable_post_urls(h: Here, post_ids: list[int]) -> dict[int, str]:
    """The URL of each of these posts the viewer may read."""
    base = readable_q(h.scope, "topic__")
    if not post_ids or base is None:
        return {}
    query = Post.filter(base, id__in=sorted(set(post_ids)))
    if not h.scope.see_deleted:
        query = query.filter(deleted_at__isnull=True)
    for hidden in (hidden_q(h.scope), hidden_q(h.scope, "topic__")):
        if hidden is not None:
            query = query.filter(hidden)
    posts = await query.select_related("topic")
    return {p.id: f"{topic_url(h.project.slug, p.topic)}#post-{p.number}" for p in posts}


async def held_privileges(project_id: int, user: User, role: Role | None) -> list[str]:
    """The privileges ``user`` holds in the project (staff: the team and platform admins
    hold every one), cheapest first."""
    is_staff = Viewer(user, role, user.is_platform_admin).is_team
    _, table = await privilege_table(project_id, user.id, is_staff)
    return [row.privilege.value for row in table if row.held]


def badge_out(rule: BadgeRule, counts: dict[str, int]) -> BadgeOut:
    return BadgeOut(slug=rule.slug, name=rule.name, description=rule.description,
                    level=rule.level, multiple=rule.multiple, awarded=counts.get(rule.slug, 0))


async def catalog(request: Request, h: Here) -> list[BadgeOut]:
    rules = await badges.project_rules(_platform(request), h.project.id)
    counts = await badges.award_counts(h.project.id)
    return sorted((badge_out(r, counts) for r in rules),
                  key=lambda b: (badges.level_rank(b.level), b.name.lower()))


async def awards_page(request: Request, h: Here, rule: BadgeRule
                      ) -> tuple[list[AwardOut], str | None]:
    awards = await badges.awards_of_badge(h.project.id, rule.slug, before=_cursor(request),
                                          limit=PAGE_SIZE + 1)
    more = len(awards) > PAGE_SIZE
    awards = awards[:PAGE_SIZE]
    urls = await readable_post_urls(h, [a.post_id for a in awards if a.post_id is not None])
    out = [AwardOut(username=a.user.username, awarded_at=a.awarded_at,
                    post_id=a.post_id if a.post_id in urls else None,
                    url=urls.get(a.post_id) if a.post_id is not None else None)
           for a in awards]
    return out, (str(awards[-1].id) if more and awards else None)


def held_out(held: list[badges.HeldBadge]) -> list[HeldBadgeOut]:
    return [HeldBadgeOut(slug=b.slug, name=b.name, description=b.description, level=b.level,
                         count=b.count, first_awarded_at=b.first_awarded_at,
                         last_awarded_at=b.last_awarded_at) for b in held]


def _ctx(h: Here, **values: Any) -> dict[str, Any]:
    return {"current_project": h.project, "viewer": h.viewer, **values}


# Pages


async def badges_html(request: Request) -> Response:
    h = await here(request)
    listed = await catalog(request, h)
    levels = [(level, [b for b in listed if b.level == level]) for level in badges.LEVELS]
    return await render(request, "reputation/badges.html", _ctx(h, levels=levels))


async def badge_html(request: Request) -> Response:
    h = await here(request)
    rule = await _rule(request, h)
    counts = await badges.award_counts(h.project.id)
    awards, next_cursor = await awards_page(request, h, rule)
    return await render(request, "reputation/badge.html", _ctx(
        h, badge=badge_out(rule, counts), awards=awards,
        next_url=f"{request.url.path}?before={next_cursor}" if next_cursor else None))


async def user_badges_html(request: Request) -> Response:
    h = await here(request)
    user = await _person(request)
    if user.username != request.path_params["username"]:
        return RedirectResponse(f"/p/{h.project.slug}/u/{user.username}/badges",
                                status_code=301)
    held = await badges.badges_of_user(_platform(request), h.project.id, user.id)
    urls = await readable_post_urls(h, [p for b in held for p in b.post_ids])
    return await render(request, "reputation/badge_user.html", _ctx(
        h, person=user, held=held, counts=badges.level_counts(held), post_urls=urls))


# API


@api_route("GET", "/api/v1/projects/{slug}/badges", response=BadgeListOut, auth=False,
           errors=(404,), tag=TAG)
async def api_badges(request: Request) -> BadgeListOut:
    """Every badge of the project, gold first, with how often it was awarded."""
    h = await here(request)
    return BadgeListOut(badges=await catalog(request, h))


@api_route("GET", "/api/v1/projects/{slug}/badges/{badge}", response=BadgeAwardsOut,
           auth=False, errors=(404, 422), tag=TAG)
async def api_badge(request: Request) -> BadgeAwardsOut:
    """A badge and who earned it, newest first (?cursor= pages on)."""
    h = await here(request)
    rule = await _rule(request, h)
    awards, next_cursor = await awards_page(request, h, rule)
    return BadgeAwardsOut(badge=badge_out(rule, await badges.award_counts(h.project.id)),
                          awards=awards, next_cursor=next_cursor)


@api_route("GET", "/api/v1/projects/{slug}/users/{username}/badges", response=UserBadgesOut,
           auth=False, errors=(404,), tag=TAG)
async def api_user_badges(request: Request) -> UserBadgesOut:
    """A user's badges in the project, gold first."""
    h = await here(request)
    user = await _person(request)
    held = await badges.badges_of_user(_platform(request), h.project.id, user.id)
    return UserBadgesOut(username=user.username,
                         counts=BadgeCounts(**badges.level_counts(held)),
                         badges=held_out(held))


@api_route("GET", "/api/v1/projects/{slug}/users/{username}", response=UserProfileOut,
           auth=False, errors=(404,), tag=TAG)
async def api_profile(request: Request) -> UserProfileOut:
    """A person in a project: reputation, badges and privileges, and counts over what the
    caller may read."""
    h = await here(request)
    user = await _person(request)
    platform = _platform(request)
    stats = await queries.profile_stats(h.scope, user)
    recent = await queries.list_topics(h.scope, TopicFilter(author_id=user.id), limit=10)
    role = await role_in(h.project.id, user)
    held = await badges.badges_of_user(platform, h.project.id, user.id)
    reputation = await reputation_of(h.project.id, user.id)
    return UserProfileOut(
        username=user.username, display_name=user.display_name,
        role=role.value if role else None, topics=stats.topics, answers=stats.answers,
        accepted=stats.accepted, upvotes=stats.upvotes, downvotes=stats.downvotes,
        recent_topics=[summary(h.project, t) for t in recent.topics],
        joined=user.created_at, reputation=reputation,
        badge_counts=BadgeCounts(**badges.level_counts(held)), badges=held_out(held),
        privileges=await held_privileges(h.project.id, user, role))


def routes() -> list[BaseRoute]:
    return [
        Route("/p/{slug}/badges", badges_html, name="badges"),
        Route("/p/{slug}/badges/{badge}", badge_html, name="badge"),
        Route("/p/{slug}/u/{username}/badges", user_badges_html, name="user_badges"),
        api_badges, api_badge, api_user_badges, api_profile,
    ]
