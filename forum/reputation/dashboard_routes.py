"""Dashboard pages, their CSV downloads and their JSON twin.

``/p/{slug}/dashboard`` lists the boards the viewer may open; each board page shows every
chart as SVG with its numbers in a table and a CSV link; ``?months=`` picks the period
(6, 12 or 24 months). ``/api/v1/projects/{slug}/dashboard/{board}`` gives the same charts
as data (``?username=`` for the helper and supporter boards, the caller by default).
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.charts import (
    MONTH_CHOICES,
    Chart,
    has_data,
    render_svg,
    table_rows,
    to_csv,
    value_heading,
)
from forum.projects.permissions import Action, access_project
from forum.reputation.dashboard import (
    BOARD_TITLES,
    Board,
    BoardAccess,
    access_board,
    board_charts,
    find_chart,
    is_lead,
    parse_board,
    parse_months,
    team_members,
    visible_boards,
)
from forum.web.api import api_route
from forum.web.templating import render

TAG = "dashboards"


class SeriesOut(BaseModel):
    name: str
    values: list[int | float | None]


class ChartOut(BaseModel):
    slug: str
    title: str
    kind: str
    labels: list[str]
    series: list[SeriesOut]
    currency: str | None
    unit: str
    note: str
    extra: dict[str, str]


class DashboardOut(BaseModel):
    project: str
    board: str
    username: str | None
    months: int
    charts: list[ChartOut]


def chart_out(chart: Chart) -> ChartOut:
    return ChartOut(slug=chart.slug, title=chart.title, kind=chart.kind,
                    labels=list(chart.labels),
                    series=[SeriesOut(name=s.name, values=list(s.values)) for s in chart.series],
                    currency=chart.currency, unit=chart.unit, note=chart.note,
                    extra=dict(chart.extra))


async def _board(request: Request) -> BoardAccess:
    params = request.path_params
    return await access_board(current_user(request), params["slug"],
                              parse_board(params["board"]), params.get("username"))


async def index_page(request: Request) -> Response:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    boards = visible_boards(access, user)
    team = await team_members(access.project) if is_lead(access) else []
    return await render(request, "reputation/dashboard_index.html", {
        "current_project": access.project, "project": access.project,
        "boards": [(BOARD_TITLES[b], path) for b, path in boards], "team": team})


async def board_page(request: Request) -> Response:
    params = request.path_params
    user = current_user(request)
    if user is not None and "username" not in params \
            and parse_board(params["board"]).has_subject:
        # /p/{slug}/dashboard/helper: the signed-in user's own board, as in the API.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(
            f"/p/{params['slug']}/dashboard/{params['board']}/{user.username}{query}", 303)
    board = await _board(request)
    months = parse_months(request.query_params.get("months"))
    charts = await board_charts(request.app.state.platform, board, months)
    return await render(request, "reputation/dashboard.html", {
        "current_project": board.project, "project": board.project, "board": board,
        "title": BOARD_TITLES[board.board], "months": months, "month_choices": MONTH_CHOICES,
        "panels": [{"chart": c, "svg": render_svg(c) if has_data(c) else None,
                    "empty": not has_data(c), "rows": table_rows(c), "unit": value_heading(c)}
                   for c in charts],
        "base_path": board.path()})


async def chart_csv(request: Request) -> Response:
    board = await _board(request)
    months = parse_months(request.query_params.get("months"))
    chart = find_chart(await board_charts(request.app.state.platform, board, months),
                       request.path_params["chart"])
    who = f"-{board.subject_username}" if board.board.has_subject else ""
    filename = f"{board.project.slug}-{board.board.value}{who}-{chart.slug}-{months}m.csv"
    return Response(to_csv(chart), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@api_route("GET", "/api/v1/projects/{slug}/dashboard/{board}", response=DashboardOut,
           errors=(401, 403, 404, 422), tag=TAG)
async def api_dashboard(request: Request) -> DashboardOut:
    """A dashboard's charts as data: the helper, lead, supporter or customer board.

    ``months``: 6, 12 or 24; ``username``: whose helper or supporter board, the caller's
    by default."""
    user = require_user(request)
    kind = parse_board(request.path_params["board"])
    username = (request.query_params.get("username") or user.username) \
        if kind.has_subject else None
    board = await access_board(user, request.path_params["slug"], kind, username)
    months = parse_months(request.query_params.get("months"))
    charts = await board_charts(request.app.state.platform, board, months)
    return DashboardOut(project=board.project.slug, board=board.board.value,
                        username=board.subject_username if kind.has_subject else None,
                        months=months, charts=[chart_out(c) for c in charts])


def routes() -> list[BaseRoute]:
    boards = "{board:str}"
    return [
        Route("/p/{slug}/dashboard", index_page, name="dashboard_index"),
        Route(f"/p/{{slug}}/dashboard/{boards}/{{username}}/{{chart}}.csv", chart_csv,
              name="dashboard_user_csv"),
        Route(f"/p/{{slug}}/dashboard/{boards}/{{chart}}.csv", chart_csv,
              name="dashboard_csv"),
        Route(f"/p/{{slug}}/dashboard/{boards}/{{username}}", board_page,
              name="dashboard_user_board"),
        Route(f"/p/{{slug}}/dashboard/{boards}", board_page, name="dashboard_board"),
        api_dashboard,
    ]


__all__ = ["Board", "routes"]
