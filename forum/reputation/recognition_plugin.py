"""Recognition's registrations: its models and pages, the copy of billing's attributions
kept from ``HelpCredited``, what a helper earned shown beside their reputation (``Flair``),
and the monthly recap.

The recap job runs every day at 09:00 UTC and sends last month's recaps not sent yet, so in
practice they go out on the 1st at 09:00 and a day the worker was down is caught up.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum import events
    from forum.gates import Flair
    from forum.jobs import JobContext


@hookimpl
def forum_models() -> list[str]:
    return ["forum.reputation.recognition_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.reputation.recognition_routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"user_profile": "reputation/recognition_profile.html",
            "project": "reputation/recognition_project_links.html"}


@hookimpl
async def on_help_credited(event: events.HelpCredited) -> None:
    from forum.reputation.recognition import do_record_credit

    await do_record_credit(event)


@hookimpl(wrapper=True)
def forum_author_flair(project_id: int, user_ids: list[int]
                       ) -> Generator[None, list[Any], list[Any]]:
    """Add what each user earned the project to the flair the other answers give (one more
    query per call), so the profile shows it without recognition owning that page."""
    answers = yield

    async def merged() -> dict[int, Flair]:
        from forum.gates import Flair
        from forum.reputation.recognition import earned_totals

        found: dict[int, Flair] = {}
        for answer in answers:
            value = await answer if inspect.isawaitable(answer) else answer
            for user_id, flair in (value or {}).items():
                found.setdefault(user_id, flair)
        earned = await earned_totals(project_id, user_ids)
        for user_id, totals in earned.items():
            found[user_id] = dataclasses.replace(found.get(user_id, Flair()), earned=totals)
        return found

    return [merged()]


async def recap_job(ctx: JobContext) -> int:
    from forum.reputation.recognition import send_monthly_recaps

    return await send_monthly_recaps(ctx.platform)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.reputation.recognition import RECAP_JOB

    return [JobDefinition(RECAP_JOB, recap_job, max_tries=3)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    from forum.reputation.recognition import RECAP_JOB

    return [CronDefinition(RECAP_JOB, minute={0}, hour={9})]
