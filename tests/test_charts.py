"""forum.charts: money formatting, CSV, server-drawn SVG and the month buckets."""

from __future__ import annotations

import csv
import io
import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from forum.charts import (
    Chart,
    Series,
    format_money,
    format_value,
    month_starts,
    nice_ticks,
    percentile,
    period_labels,
    period_start,
    render_svg,
    table_rows,
    to_csv,
)

SVG = "{http://www.w3.org/2000/svg}"


def revenue() -> Chart:
    return Chart("revenue", "Revenue <by> month & fees", "stacked_bar",
                 ("2026-01", "2026-02", "2026-03"),
                 (Series("Net", (10000, 250050, None)), Series("Fees", (500, 1250, 0))),
                 currency="USD", note="Sums over the ledger.")


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (123456, "USD", "$1,234.56"), (5, "USD", "$0.05"), (-500, "EUR", "-€5.00"),
    (0, "GBP", "£0.00"), (1500, "CHF", "15.00 CHF"), (1234, "JPY", "¥1,234"),
    (100000000, "usd", "$1,000,000.00"),
])
def test_format_money(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


def test_format_value_units() -> None:
    pct = Chart("x", "x", "line", ("a",), (Series("s", (12.5,)),), unit="%")
    assert format_value(pct, 12.5) == "12.5%"
    assert format_value(pct, None) == "\N{EN DASH}"
    count = Chart("y", "y", "bar", ("a",), (Series("s", (1234,)),), unit="tickets")
    assert format_value(count, 1234) == "1,234"


def test_csv_has_a_header_and_one_row_per_label_matching_the_table() -> None:
    chart = revenue()
    rows = list(csv.reader(io.StringIO(to_csv(chart))))
    assert rows == [["label", "Net (USD)", "Fees (USD)"],
                    ["2026-01", "100.00", "5.00"],
                    ["2026-02", "2500.50", "12.50"],
                    ["2026-03", "", "0.00"]]
    table = table_rows(chart)
    assert table == [("2026-01", ["$100.00", "$5.00"]), ("2026-02", ["$2,500.50", "$12.50"]),
                     ("2026-03", ["\N{EN DASH}", "$0.00"])]
    for (label, cells), row in zip(table, rows[1:], strict=True):
        assert row[0] == label
        for cell, plain in zip(cells, row[1:], strict=True):
            assert (cell.replace("$", "").replace(",", "") if plain else "") == plain


def svg_tree(chart: Chart) -> ET.Element:
    markup = str(render_svg(chart))
    assert "style=" not in markup  # the CSP forbids inline styles
    return ET.fromstring(markup)


@pytest.mark.parametrize("kind", ["line", "bar", "stacked_bar"])
def test_svg_is_well_formed_accessible_and_labelled(kind: str) -> None:
    base = revenue()
    chart = Chart(base.slug, base.title, kind, base.labels, base.series,  # type: ignore[arg-type]
                  currency="USD", note=base.note)
    root = svg_tree(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Revenue <by> month & fees"
    assert desc is not None and desc.text is not None and "Sums over the ledger." in desc.text
    assert root.get("aria-labelledby") == "chart-revenue-title chart-revenue-desc"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"2026-01", "2026-02", "2026-03", "Net", "Fees"} <= set(texts)
    assert "$0" in texts  # the y axis starts at zero, money on its ticks
    tips = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert "Net, 2026-02: $2,500.50" in tips
    assert "Fees, 2026-01: $5.00" in tips
    marks = list(root.iter(f"{SVG}circle")) + list(root.iter(f"{SVG}rect"))
    assert marks


def test_stacked_bars_stack_and_negative_values_go_below_the_axis() -> None:
    chart = Chart("net", "Net", "stacked_bar", ("a", "b"),
                  (Series("In", (100, 300)), Series("Refunds", (-50, 0))))
    root = svg_tree(chart)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3  # the zero refund draws nothing
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks[0] is not None and ticks[0].startswith("-")
    assert ticks[-1] is not None and int(ticks[-1]) >= 300


def test_line_breaks_at_missing_values() -> None:
    chart = Chart("p90", "P90", "line", ("a", "b", "c", "d"),
                  (Series("Hours", (1.5, None, 2.0, 4.0)),), unit="hours")
    root = svg_tree(chart)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3


def test_table_charts_and_empty_charts_draw_nothing() -> None:
    assert str(render_svg(Chart("t", "T", "table", ("a",), (Series("s", (1,)),)))) == ""
    assert str(render_svg(Chart("e", "E", "bar", (), ()))) == ""
    flat = svg_tree(Chart("z", "Zero", "bar", ("a",), (Series("s", (0,)),)))
    assert flat.find(f"{SVG}title") is not None


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    assert nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 0, integer=True) == [0, 1]
    assert nice_ticks(0, 3, integer=True) == [0, 1, 2, 3]
    assert nice_ticks(0.5, 2.5) == [0.5, 1.0, 1.5, 2.0, 2.5]
    ticks = nice_ticks(-50, 300)
    assert ticks[0] <= -50 and ticks[-1] >= 300


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5], 90) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([1, 2, 3], 90) == 3


def test_months_cross_the_year_in_utc() -> None:
    now = datetime(2026, 2, 10, 12, tzinfo=UTC)
    assert month_starts(4, now) == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                                    date(2026, 2, 1)]
    assert period_labels(3, now) == ("2025-12", "2026-01", "2026-02")
    assert period_start(12, now) == datetime(2025, 3, 1, tzinfo=UTC)


def test_crowded_labels_are_thinned_not_overlapped() -> None:
    labels = tuple(f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(24))
    root = svg_tree(Chart("long", "Two years", "bar", labels, (Series("n", tuple(range(24))),)))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert shown[0] == "2025-01" and 6 <= len(shown) < 24
    xs = [float(t.get("x") or 0) for t in root.iter(f"{SVG}text")
          if t.get("class") == "chart-label"]
    assert min(b - a for a, b in itertools.pairwise(xs)) > 7 * 6.5
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert "n, 2026-12: 23" in tips  # every value keeps its label in its tooltip
