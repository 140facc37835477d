"""The reputation domain's registrations: models, pages and API, the listeners that keep
the ledger, the privilege and fraud gates, the serial-voting job and ``forum reputation``.

Listeners run inline after the verb's commit, each recount in its own transaction
(``forum.reputation.ledger``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from forum import events, gates

# Topic changes that can change what its posts earn.
RECOUNTED_CHANGES = frozenset({"deleted", "restored", "kind", "merged", "split"})


@hookimpl
def forum_models() -> list[str]:
    return ["forum.reputation.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.reputation.routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"user_profile": "reputation/_profile_links.html"}


@hookimpl
async def on_vote_cast(event: events.VoteCast) -> None:
    from forum.reputation.ledger import Cause, reconcile_post

    await reconcile_post(event.post_id, Cause.VOTE)


@hookimpl
async def on_answer_accepted(event: events.AnswerAccepted) -> None:
    from forum.reputation.ledger import Cause, reconcile_post

    for post_id in (event.previous_post_id, event.post_id):
        if post_id is not None:
            await reconcile_post(post_id, Cause.ACCEPT)


@hookimpl
async def on_post_deleted(event: events.PostDeleted) -> None:
    from forum.reputation.ledger import Cause, reconcile_post

    await reconcile_post(event.post_id, Cause.RESTORE if event.restored else Cause.DELETE)


@hookimpl
async def on_topic_changed(event: events.TopicChanged) -> None:
    from forum.reputation.ledger import Cause, reconcile_topic

    if event.change in RECOUNTED_CHANGES:
        cause = {"deleted": Cause.DELETE, "restored": Cause.RESTORE}.get(event.change,
                                                                        Cause.RECOUNT)
        await reconcile_topic(event.topic_id, cause)


@hookimpl
async def forum_refuse(attempt: gates.Attempt) -> str | None:
    from forum.reputation.config import load_rules
    from forum.reputation.fraud import fraud_refusal
    from forum.reputation.privileges import privileges_refusal

    if attempt.project_id is None:
        return None
    rules = await load_rules(attempt.project_id)
    return (await privileges_refusal(attempt, rules) or await fraud_refusal(attempt, rules))


@hookimpl
async def forum_screen_post(draft: gates.Draft) -> gates.Screening | None:
    from forum.reputation.privileges import screen_new_user_post

    return await screen_new_user_post(draft)


async def serial_votes_job(ctx: Any) -> int:
    """Reverse serial voting in every project with recent votes."""
    from forum.projects.models import Project
    from forum.reputation.fraud import correct_serial_votes

    corrected = 0
    for (project_id,) in await Project.all().order_by("id").values_list("id"):
        corrected += await correct_serial_votes(int(project_id))
    return corrected


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("reputation.serial_votes", serial_votes_job, max_tries=3)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("reputation.serial_votes", minute={23})]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.reputation.commands import reputation

    cli.add_command(reputation)
