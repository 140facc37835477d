"""Reading and changing a project's business calendar and SLA settings.

``check_*`` validates (422 naming the fields), ``do_*`` writes in one transaction and
queues the recomputation of the project's due times (in the same transaction, so it runs
only if the change committed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from forum.support_queue.calendar import (
    WEEKDAYS,
    CalendarError,
    build_calendar,
    format_interval,
)
from forum.support_queue.models import Tier
from forum.support_queue.sla import (
    DEFAULT_LEAD_MINUTES,
    PRIORITIES,
    default_targets,
    holidays_from,
    priority_names,
    target_matrix,
)
from forum.support_queue.sla_models import BusinessCalendar, SlaPolicy, SlaSettings
from forum.support_queue.sla_plugin import REFRESH_JOB
from forum.support_queue.sla_schemas import (
    CalendarIn,
    CalendarOut,
    HolidayIO,
    SlaIn,
    SlaOut,
    TargetOut,
)
from forum.web.errors import Invalid

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.projects.models import Project

# The calendar


async def calendar_out(project: Project) -> CalendarOut:
    row = await BusinessCalendar.get_or_none(project_id=project.id)
    if row is None:
        return CalendarOut(time_zone=project.time_zone,
                           hours={day: ([] if day in ("sat", "sun") else ["09:00-17:00"])
                                  for day in WEEKDAYS},
                           holidays=[], is_default=True)
    return CalendarOut(
        time_zone=row.time_zone,
        hours={day: list(row.hours.get(day, [])) for day in WEEKDAYS},
        holidays=[HolidayIO(date=h.day, yearly=h.yearly, name=h.name)
                  for h in holidays_from(row.holidays)],
        is_default=False)


def check_calendar(data: CalendarIn) -> CalendarIn:
    """The calendar as it will be stored (intervals normalised, sorted), or 422 naming
    each wrong field: unknown zones, malformed, overlapping or midnight-crossing intervals,
    a week without hours, a holiday given twice."""
    try:
        cal = build_calendar(data.time_zone, data.hours)
    except CalendarError as exc:
        raise Invalid("Please correct the calendar.", fields=exc.fields) from None
    seen: set[tuple[int, int, int]] = set()
    for index, holiday in enumerate(data.holidays):
        key = (0 if holiday.yearly else holiday.date.year, holiday.date.month,
               holiday.date.day)
        if key in seen:
            raise Invalid("Please correct the calendar.",
                          fields={f"holidays.{index}": f"{holiday.date} is listed twice."})
        seen.add(key)
    hours = {day: [format_interval(i) for i in cal.week[n]] for n, day in enumerate(WEEKDAYS)}
    holidays = sorted(data.holidays, key=lambda h: (h.date.month, h.date.day) if h.yearly
                      else (h.date.month, h.date.day, h.date.year))
    return CalendarIn(time_zone=data.time_zone.strip(), hours=hours, holidays=holidays)


async def do_save_calendar(platform: Platform, project: Project, data: CalendarIn) -> None:
    values: dict[str, Any] = {"time_zone": data.time_zone, "hours": data.hours,
              "holidays": [h.model_dump(mode="json") for h in data.holidays]}
    async with in_transaction():
        row = await BusinessCalendar.get_or_none(project_id=project.id)
        if row is None:
            await BusinessCalendar.create(project_id=project.id, **values)
        else:
            await BusinessCalendar.filter(id=row.id).update(**values)
        await platform.enqueue(REFRESH_JOB, project_id=project.id)


async def do_reset_calendar(platform: Platform, project: Project) -> None:
    """Back to the default calendar."""
    async with in_transaction():
        await BusinessCalendar.filter(project_id=project.id).delete()
        await platform.enqueue(REFRESH_JOB, project_id=project.id)


# SLA targets, priority names, warning lead


async def sla_out(project: Project) -> SlaOut:
    settings = await SlaSettings.get_or_none(project_id=project.id)
    own = {(row.tier, row.priority) for row in await SlaPolicy.filter(project_id=project.id)}
    matrix = await target_matrix(project.id)
    policies = [
        TargetOut(tier=tier, priority=p,
                  first_response_minutes=matrix[(tier, p)].first_response_minutes,
                  next_response_minutes=matrix[(tier, p)].next_response_minutes,
                  is_default=(tier, p) not in own)
        for tier in reversed(list(Tier)) for p in PRIORITIES]
    return SlaOut(priority_names=await priority_names(project.id),
                  warning_lead_minutes=(settings.warning_lead_minutes if settings is not None
                                        else DEFAULT_LEAD_MINUTES),
                  policies=policies)


def check_sla(data: SlaIn) -> SlaIn:
    """422 for a tier and priority given twice; the rest pydantic checked."""
    seen: set[tuple[Tier, int]] = set()
    for index, target in enumerate(data.policies):
        key = (target.tier, target.priority)
        if key in seen:
            raise Invalid("Please correct the SLA.", fields={
                f"policies.{index}": f"{target.tier.value} P{target.priority} is given twice."})
        seen.add(key)
    return data


async def do_save_sla(platform: Platform, project: Project, data: SlaIn) -> None:
    """Replace the project's SLA: the given targets (those equal to the defaults are not
    stored, so they follow the defaults), its priority names and warning lead."""
    names = list(data.priority_names) if data.priority_names is not None else []
    async with in_transaction():
        settings = await SlaSettings.get_or_none(project_id=project.id)
        if settings is None:
            await SlaSettings.create(project_id=project.id, priority_names=names,
                                     warning_lead_minutes=data.warning_lead_minutes)
        else:
            await SlaSettings.filter(id=settings.id).update(
                priority_names=names, warning_lead_minutes=data.warning_lead_minutes)
        await SlaPolicy.filter(project_id=project.id).delete()
        for target in data.policies:
            default = default_targets(target.tier, target.priority)
            if (default.first_response_minutes == target.first_response_minutes
                    and default.next_response_minutes == target.next_response_minutes):
                continue
            await SlaPolicy.create(project_id=project.id, tier=target.tier,
                                   priority=target.priority,
                                   first_response_minutes=target.first_response_minutes,
                                   next_response_minutes=target.next_response_minutes)
        await platform.enqueue(REFRESH_JOB, project_id=project.id)
