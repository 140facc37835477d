"""Properties of due times on random pauses: the clock runs exactly the target's business
time outside the pauses, and more pausing never makes anything due earlier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from forum.support_queue.calendar import (
    Calendar,
    build_calendar,
    business_seconds_between,
    default_calendar,
)
from forum.support_queue.sla import Pause, due_after

CALENDARS: list[Calendar] = [
    default_calendar("Europe/Berlin"),
    build_calendar("America/New_York", {"mon": ["08:00-12:00", "13:00-18:30"],
                                        "thu": ["00:00-24:00"], "sun": ["01:00-03:30"]}),
]
calendars = st.integers(0, len(CALENDARS) - 1).map(CALENDARS.__getitem__)
START = datetime(2026, 3, 1, tzinfo=UTC)  # the spring changes of both zones lie ahead


@st.composite
def pause_lists(draw: st.DrawFn) -> list[Pause]:
    """Non-overlapping finished pauses after START, as the state changes leave them."""
    gaps = draw(st.lists(st.tuples(st.integers(0, 3 * 24 * 60), st.integers(1, 2 * 24 * 60)),
                         max_size=5))
    pauses: list[Pause] = []
    cursor = START
    for gap, length in gaps:
        begin = cursor + timedelta(minutes=gap)
        cursor = begin + timedelta(minutes=length)
        pauses.append(Pause(begin, cursor))
    return pauses


def running_seconds(start: datetime, end: datetime, pauses: list[Pause],
                    cal: Calendar) -> int:
    """Business time in [start, end) outside the pauses."""
    total = business_seconds_between(start, end, cal)
    for pause in pauses:
        assert pause.ended_at is not None
        lo, hi = max(pause.started_at, start), min(pause.ended_at, end)
        if hi > lo:
            total -= business_seconds_between(lo, hi, cal)
    return total


PROPERTY = settings(max_examples=120, deadline=None)


@PROPERTY
@given(cal=calendars, offset=st.integers(0, 2 * 24 * 60), minutes=st.integers(0, 3000),
       pauses=pause_lists())
def test_the_clock_runs_the_target_outside_the_pauses(cal: Calendar, offset: int,
                                                      minutes: int, pauses: list[Pause]
                                                      ) -> None:
    start = START + timedelta(minutes=offset)
    due = due_after(start, minutes * 60, pauses, None, cal)
    assert due >= start
    assert running_seconds(start, due, pauses, cal) == minutes * 60


@PROPERTY
@given(cal=calendars, minutes=st.integers(1, 3000), pauses=pause_lists(),
       extra=pause_lists())
def test_pausing_never_makes_it_due_earlier(cal: Calendar, minutes: int,
                                            pauses: list[Pause], extra: list[Pause]) -> None:
    base = due_after(START, minutes * 60, [], None, cal)
    assert due_after(START, minutes * 60, pauses, None, cal) >= base
    # pauses after the due time change nothing
    later = [Pause(p.started_at + (base - START) + timedelta(seconds=1),
                   (p.ended_at or p.started_at) + (base - START) + timedelta(seconds=1))
             for p in extra]
    assert due_after(START, minutes * 60, later, None, cal) == base
