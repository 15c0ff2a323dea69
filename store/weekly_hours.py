"""A professional's week of working hours: checking a set of intervals (pure: each starts
before it ends, none overlaps another of its day) and replacing the stored week."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from sqlmodel import Session, col, delete, select

from store.models import WorkingHours
from store.settings_values import Invalid

WEEKDAYS = range(7)  # 0 = Monday … 6 = Sunday


@dataclass(frozen=True, order=True)
class Interval:
    """Working time on one weekday, in the clinic's local time; [start, end)."""

    weekday: int
    start: time
    end: time


def week_problems(intervals: Sequence[Interval]) -> dict[int, str]:
    """What is wrong, by position in `intervals`: `bad_weekday`, `start_after_end`
    (start not before end), or `overlap` (shares time with an earlier one of its day;
    touching ends — 12:00–14:00 then 14:00–18:00 — is fine)."""
    problems: dict[int, str] = {}
    for index, interval in enumerate(intervals):
        if interval.weekday not in WEEKDAYS:
            problems[index] = "bad_weekday"
        elif interval.start >= interval.end:
            problems[index] = "start_after_end"
    for index, interval in enumerate(intervals):
        if index in problems:
            continue
        for earlier in range(index):
            other = intervals[earlier]
            if (
                earlier not in problems
                and other.weekday == interval.weekday
                and interval.start < other.end
                and other.start < interval.end
            ):
                problems[index] = "overlap"
                break
    return problems


def week_of(session: Session, clinic_id: int, professional_id: int) -> list[Interval]:
    """The stored week, by day and start."""
    rows = session.exec(
        select(WorkingHours).where(
            WorkingHours.clinic_id == clinic_id, WorkingHours.professional_id == professional_id
        )
    )
    return sorted(Interval(r.weekday, r.start, r.end) for r in rows)


def set_week(
    session: Session, clinic_id: int, professional_id: int, intervals: Sequence[Interval]
) -> bool:
    """Replace the professional's week with `intervals` (checked; `Invalid` names the bad
    ones as `hours.<position>`). True when it changed. Appointments already booked stay:
    the new hours apply to what is offered from now on."""
    problems = week_problems(intervals)
    if problems:
        raise Invalid({f"hours.{index}": reason for index, reason in problems.items()})
    if week_of(session, clinic_id, professional_id) == sorted(intervals):
        return False
    session.exec(
        delete(WorkingHours).where(
            col(WorkingHours.clinic_id) == clinic_id,
            col(WorkingHours.professional_id) == professional_id,
        )
    )
    session.add_all(
        WorkingHours(
            clinic_id=clinic_id,
            professional_id=professional_id,
            weekday=i.weekday,
            start=i.start,
            end=i.end,
        )
        for i in sorted(intervals)
    )
    session.flush()
    return True
