"""Charts as data: what a domain hands a dashboard (``forum_dashboard_panels``).

A ``Chart`` is a small table: one label per column (months, people, tiers) and one
``Series`` of values per row. The dashboard renders it on the server as SVG, prints the
same numbers as a table beside it and offers them as CSV, so every figure can be read,
checked and copied. Money is given in minor units with its ``currency``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChartKind = Literal["line", "bar", "stacked_bar", "table"]


@dataclass(frozen=True)
class Series:
    """One row of values, one per label of the chart (None: no value there)."""

    name: str
    values: tuple[int | float | None, ...]


@dataclass(frozen=True)
class Chart:
    slug: str  # unique on its board: the CSV's name, lower-case letters, digits and "-"
    title: str
    kind: ChartKind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    currency: str | None = None  # values are minor units of this currency
    unit: str = ""  # for values that are not money: "tickets", "hours", "%"
    note: str = ""  # one sentence under the chart: what is counted, over which period
    order: int = 100  # place on the board, lower first
    extra: dict[str, str] = field(default_factory=dict)  # e.g. {"target": "20%"}
