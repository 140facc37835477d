"""Penalties, terms acceptance and the audit log: models, routes, the gates they answer, and
the topics domain's moderator actions copied into the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from forum import events
from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from forum.gates import Attempt
    from forum.platform import Platform

# Topic changes only the project's moderators can make, whoever the topic's author is.
MODERATOR_ONLY_CHANGES = frozenset({"pinned", "locked"})


@hookimpl
def forum_models() -> list[str]:
    return ["forum.moderation.audit", "forum.moderation.penalty_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.moderation import penalty_routes

    return penalty_routes.routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    """Moderators find a user's penalties from the user's profile."""
    return {"user_profile": "moderation/penalties_profile_link.html"}


@hookimpl
async def forum_refuse(attempt: Attempt, platform: Platform) -> str | None:
    """Active penalties first, then terms not yet accepted."""
    from forum.moderation import penalties, terms

    reason = await penalties.refusal_for(attempt)
    if reason is None:
        reason = await terms.refusal_for(attempt, platform)
    return reason


@hookimpl
async def on_topic_changed(event: events.TopicChanged) -> None:
    """A change to someone else's topic (or a pin or lock) is a moderator action."""
    from forum.moderation.audit import record
    from forum.topics.models import Topic

    if event.actor_id is None:
        return
    topic = await Topic.filter(id=event.topic_id).only("id", "author_id", "title").first()
    if topic is None:
        return
    author_id = topic.author_id  # type: ignore[attr-defined]
    if event.actor_id == author_id and event.change not in MODERATOR_ONLY_CHANGES:
        return
    await record(event.project, event.actor_id, f"topic.{event.change}", "topic",
                 event.topic_id, {"title": topic.title, "author_id": author_id})


@hookimpl
async def on_post_deleted(event: events.PostDeleted) -> None:
    from forum.moderation.audit import record

    if event.actor_id == event.author_id:
        return
    await record(event.project, event.actor_id,
                 "post.restored" if event.restored else "post.deleted", "post",
                 event.post_id, {"topic_id": event.topic_id, "author_id": event.author_id})


@hookimpl
async def on_post_hidden(event: events.PostHidden) -> None:
    from forum.moderation.audit import record

    if event.actor_id is None:
        return
    await record(event.project, event.actor_id, "post.hidden", "post", event.post_id,
                 {"topic_id": event.topic_id, "author_id": event.author_id,
                  "reason": event.reason})


@hookimpl
async def on_post_unhidden(event: events.PostUnhidden) -> None:
    from forum.moderation.audit import record

    if event.actor_id is None:
        return
    await record(event.project, event.actor_id, "post.unhidden", "post", event.post_id,
                 {"topic_id": event.topic_id, "author_id": event.author_id})


@hookimpl(trylast=True)  # after the other domains created the demo's users
async def forum_demo(platform: Platform, project_id: int, user_ids: dict[str, int]
                     ) -> list[str]:
    """A first code of conduct for the demo project, already accepted by the demo users and
    the project's members (so they can post at once)."""
    from forum.moderation.penalty_models import TermsAcceptance, TermsDocument, TermsKind
    from forum.moderation.terms import cook_terms, do_publish
    from forum.projects.models import Membership, Project

    created: list[str] = []
    project = await Project.get(id=project_id)
    doc = await TermsDocument.filter(project_id=project_id,
                                     kind=TermsKind.CODE_OF_CONDUCT).order_by("-version").first()
    if doc is None:
        source = DEMO_CODE_OF_CONDUCT
        doc = await do_publish(None, project, TermsKind.CODE_OF_CONDUCT, source,
                               cook_terms(source, project.slug))
        created.append("code of conduct v1")
    members = await Membership.filter(project_id=project_id).values_list("user_id", flat=True)
    for user_id in {*user_ids.values(), *members}:
        await TermsAcceptance.get_or_create(user_id=user_id, document_id=doc.id,
                                            defaults={"version": doc.version})
    return created


DEMO_CODE_OF_CONDUCT = """\
Be kind and patient: everyone here was new once.

- Ask and answer in good faith; vote on the content, not the person.
- No harassment, personal attacks or spam.
- Flag what breaks these rules; moderators may silence, suspend or ban.
"""
