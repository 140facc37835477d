"""Charts as data: what a domain hands a dashboard (``forum_dashboard_panels``).

A ``Chart`` is a small table: one label per column (months, people, tiers) and one
``Series`` of values per row. The dashboard renders it on the server as SVG, prints the
same numbers as a table beside it and offers them as CSV, so every figure can be read,
checked and copied. Money is given in minor units with its ``currency``.

``render_svg`` draws line, bar and stacked bar charts with axes, ticks and a legend, using
classes and presentation attributes only (the CSP forbids ``style=``). The month helpers
at the end give every domain the same UTC month buckets, grouped in SQL on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from markupsafe import Markup, escape

ChartKind = Literal["line", "bar", "stacked_bar", "table"]
Value = int | float | None


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


# Money and values

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                          "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})


def minor_digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def money_amount(minor: int | float, currency: str) -> str:
    """Minor units as a plain decimal in major units: 123456 USD -> "1234.56"."""
    digits = minor_digits(currency)
    if digits == 0:
        return str(round(minor))
    cents = round(minor)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 10 ** digits)
    return f"{sign}{whole}.{rest:0{digits}d}"


def format_money(minor: int | float, currency: str) -> str:
    """Minor units for people: 123456 USD -> "$1,234.56", -500 EUR -> "-€5.00",
    1500 CHF -> "15.00 CHF"."""
    digits = minor_digits(currency)
    cents = round(minor)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 10 ** digits) if digits else (abs(cents), 0)
    number = f"{whole:,}" + (f".{rest:0{digits}d}" if digits else "")
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency.upper()}"


def _number(value: int | float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def format_value(chart: Chart, value: Value) -> str:
    """A value as the table shows it: money with its symbol, "%" glued, other units apart."""
    if value is None:
        return "\N{EN DASH}"
    if chart.currency:
        return format_money(value, chart.currency)
    if chart.unit == "%":
        return f"{_number(value)}%"
    return _number(value)


def plain_value(chart: Chart, value: Value) -> str:
    """A value as the CSV holds it: money in major units, no grouping, empty for None."""
    if value is None:
        return ""
    if chart.currency:
        return money_amount(value, chart.currency)
    if isinstance(value, float):
        return f"{value:.1f}" if not value.is_integer() else str(int(value))
    return str(value)


def table_rows(chart: Chart) -> list[tuple[str, list[str]]]:
    """The chart as the table under it: one row per label, one formatted cell per series."""
    return [(label, [format_value(chart, s.values[i] if i < len(s.values) else None)
                     for s in chart.series])
            for i, label in enumerate(chart.labels)]


def has_data(chart: Chart) -> bool:
    """Whether the chart holds any value other than zero (else the page says so instead
    of drawing empty axes)."""
    return any(v for s in chart.series for v in s.values)


def value_heading(chart: Chart) -> str:
    if chart.currency:
        return chart.currency.upper()
    return chart.unit


def to_csv(chart: Chart) -> str:
    """The chart's numbers: a header (the label column, then each series with its unit or
    currency) and one row per label."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    unit = value_heading(chart)
    writer.writerow(["label"] + [f"{s.name} ({unit})" if unit else s.name
                                 for s in chart.series])
    for i, label in enumerate(chart.labels):
        writer.writerow([label] + [plain_value(chart, s.values[i] if i < len(s.values) else None)
                                   for s in chart.series])
    return out.getvalue()


# SVG

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 40, 48
PALETTE = ("#2756d6", "#e07b00", "#1e7a3c", "#b3261e", "#7b3fb8", "#00838f", "#8d6e63",
           "#5b6475")


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False
               ) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten;
    at least 1 for ``integer`` values)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(step, 1)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _tick_label(chart: Chart, value: float) -> str:
    if chart.currency:
        text = format_money(value, chart.currency)
        return text[:-3] if text.endswith((".00", ",00")) else text
    return format_value(chart, value)


def _extent(chart: Chart) -> tuple[float, float]:
    if chart.kind == "stacked_bar":
        ups = [sum(max(0.0, float(s.values[i] or 0)) for s in chart.series)
               for i in range(len(chart.labels))]
        downs = [sum(min(0.0, float(s.values[i] or 0)) for s in chart.series)
                 for i in range(len(chart.labels))]
        values = ups + downs
    else:
        values = [float(v) for s in chart.series for v in s.values if v is not None]
    return min([0.0, *values]), max([0.0, *values])


def _fmt(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


def render_svg(chart: Chart) -> Markup:
    """The chart as an inline, accessible SVG (empty for ``table`` charts)."""
    if chart.kind == "table" or not chart.labels:
        return Markup("")
    low, high = _extent(chart)
    integer = all(isinstance(v, int) for s in chart.series for v in s.values if v is not None)
    ticks = nice_ticks(low, high, integer=integer)
    y_min, y_max = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - (value - y_min) / (y_max - y_min) * plot_h

    n = len(chart.labels)
    slot = plot_w / n
    base = f"chart-{chart.slug}"
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{chart.kind}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{base}-title {base}-desc">',
        f'<title id="{base}-title">{escape(chart.title)}</title>',
        f'<desc id="{base}-desc">{escape(_description(chart))}</desc>',
    ]
    # Axes and grid.
    parts.append('<g class="chart-grid">')
    for tick in ticks:
        ty = _fmt(y(tick))
        parts.append(f'<line x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" '
                     f'stroke="#e3e6ec"/>')
        parts.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{ty}" text-anchor="end" '
                     f'dominant-baseline="middle" font-size="11" fill="#5b6475">'
                     f'{escape(_tick_label(chart, tick))}</text>')
    parts.append("</g>")
    zero = _fmt(y(0))
    parts.append(f'<line class="chart-axis" x1="{LEFT}" y1="{zero}" x2="{WIDTH - RIGHT}" '
                 f'y2="{zero}" stroke="#1d2330"/>')
    parts.append(f'<line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" '
                 f'y2="{TOP + plot_h}" stroke="#1d2330"/>')
    # Print every k-th label so that they never overlap (11px text: ~6.5px a character).
    widest = max(len(_short(label)) for label in chart.labels) * 6.5 + 8
    every = max(1, math.ceil(widest / slot))
    for i, label in enumerate(chart.labels):
        if i % every:
            continue
        cx = _fmt(LEFT + slot * (i + 0.5))
        parts.append(f'<text class="chart-label" x="{cx}" y="{TOP + plot_h + 16}" '
                     f'text-anchor="middle" font-size="11" fill="#5b6475">'
                     f'{escape(_short(label))}</text>')
    parts.append(_marks(chart, y, slot))
    parts.append(_legend(chart))
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _description(chart: Chart) -> str:
    names = ", ".join(s.name for s in chart.series)
    span = f"{chart.labels[0]} to {chart.labels[-1]}" if chart.labels else "no data"
    text = f"{chart.kind.replace('_', ' ')} chart of {names}, {span}."
    return f"{text} {chart.note}".strip()


def _point_title(chart: Chart, series: Series, label: str, value: float) -> str:
    return f"<title>{escape(series.name)}, {escape(label)}: " \
           f"{escape(format_value(chart, value))}</title>"


def _marks(chart: Chart, to_y: Callable[[float], float], slot: float) -> str:
    parts: list[str] = []
    k = len(chart.series)
    for si, series in enumerate(chart.series):
        colour = PALETTE[si % len(PALETTE)]
        parts.append(f'<g class="chart-series series-{si}" fill="{colour}" stroke="{colour}">')
        if chart.kind == "line":
            segment: list[str] = []
            segments: list[list[str]] = []
            for i, value in enumerate(series.values[: len(chart.labels)]):
                if value is None:
                    if segment:
                        segments.append(segment)
                    segment = []
                    continue
                segment.append(f"{_fmt(LEFT + slot * (i + 0.5))},{_fmt(to_y(float(value)))}")
            if segment:
                segments.append(segment)
            for points in segments:
                parts.append(f'<polyline fill="none" stroke-width="2" '
                             f'points="{" ".join(points)}"/>')
            for i, value in enumerate(series.values[: len(chart.labels)]):
                if value is None:
                    continue
                parts.append(f'<circle cx="{_fmt(LEFT + slot * (i + 0.5))}" '
                             f'cy="{_fmt(to_y(float(value)))}" r="3">'
                             f'{_point_title(chart, series, chart.labels[i], value)}</circle>')
        elif chart.kind == "bar":
            width = slot * 0.8 / max(1, k)
            for i, value in enumerate(series.values[: len(chart.labels)]):
                if value is None:
                    continue
                x = LEFT + slot * i + slot * 0.1 + width * si
                top, bottom = sorted((to_y(float(value)), to_y(0.0)))
                parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(top)}" width="{_fmt(width)}" '
                             f'height="{_fmt(bottom - top)}" stroke="none">'
                             f'{_point_title(chart, series, chart.labels[i], value)}</rect>')
        else:  # stacked_bar
            width = slot * 0.7
            for i, value in enumerate(series.values[: len(chart.labels)]):
                if not value:
                    continue
                below = [float(s.values[i] or 0) for s in chart.series[:si]
                         if i < len(s.values)]
                same_sign = [v for v in below if (v > 0) == (value > 0)]
                start = sum(same_sign)
                top, bottom = sorted((to_y(start + float(value)), to_y(start)))
                x = LEFT + slot * i + slot * 0.15
                parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(top)}" width="{_fmt(width)}" '
                             f'height="{_fmt(bottom - top)}" stroke="none">'
                             f'{_point_title(chart, series, chart.labels[i], value)}</rect>')
        parts.append("</g>")
    return "".join(parts)


def _legend(chart: Chart) -> str:
    parts = ['<g class="chart-legend" font-size="12">']
    x = LEFT
    for si, series in enumerate(chart.series):
        colour = PALETTE[si % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="22" fill="#1d2330">{escape(series.name)}</text>')
        x += 28 + 7 * len(series.name)
    parts.append("</g>")
    return "".join(parts)


# Month buckets (UTC)

MONTH_CHOICES = (6, 12, 24)


def month_starts(months: int, now: datetime | None = None) -> list[date]:
    """The first days of the last ``months`` calendar months (UTC), oldest first, ending
    with the current one."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    year, month = now.year, now.month
    firsts: list[date] = []
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_labels(months: int, now: datetime | None = None) -> tuple[str, ...]:
    return tuple(month_label(d) for d in month_starts(months, now))


def period_start(months: int, now: datetime | None = None) -> datetime:
    """When the period of the last ``months`` months began (UTC midnight of its first day)."""
    first = month_starts(months, now)[0]
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def current_dialect() -> str:
    """The default connection's SQL dialect: "sqlite" or "postgres"."""
    from tortoise import connections

    return str(connections.get("default").capabilities.dialect)


def month_sql(column: str, dialect: str) -> str:
    """SQL giving a timestamp column's UTC month as "YYYY-MM" on the connection's dialect."""
    if dialect == "sqlite":
        return f"strftime('%Y-%m', {column})"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"


def seconds_between_sql(start: str, end: str, dialect: str) -> str:
    """SQL giving the seconds from ``start`` to ``end`` (two timestamp columns)."""
    if dialect == "sqlite":
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS BIGINT)"


def by_month(labels: tuple[str, ...], rows: Mapping[str, int | float]
             ) -> tuple[int | float, ...]:
    """Values for each month label, 0 for months without a row."""
    return tuple(rows.get(label, 0) for label in labels)


def percentile(sorted_values: list[int | float], percent: int) -> int | float | None:
    """The ``percent``-th percentile of ascending values (nearest rank), None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[rank - 1]
