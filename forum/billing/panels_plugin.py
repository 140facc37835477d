"""Billing's dashboard registrations: its charts on the lead, helper and customer boards
(see ``forum.billing.panels``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from forum.charts import Chart
    from forum.platform import Platform


@hookimpl
async def forum_dashboard_panels(board: str, project_id: int, subject_user_id: int | None,
                                 months: int, platform: Platform) -> list[Chart]:
    from forum.billing import panels

    if board == "lead":
        return await panels.lead_panels(project_id, months)
    if board == "helper" and subject_user_id is not None:
        return await panels.helper_panels(project_id, subject_user_id, months)
    if board == "customer" and subject_user_id is not None:
        return await panels.customer_panels(project_id, subject_user_id, months, platform)
    return []
