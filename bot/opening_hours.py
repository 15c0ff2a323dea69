"""When the clinic is open, as patients are told it: the union of its professionals'
weekly hours, day by day, written with CLDR's weekday names ("lunes a viernes: 08:00–12:00,
14:00–18:00")."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time

from bot.calendar_names import WEEKDAYS, weekday_names
from bot.locale import text

Hours = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class OpeningHours:
    """Each weekday's open intervals, Monday first; a day without any is closed."""

    days: tuple[Hours, ...] = ((),) * len(WEEKDAYS)


NEVER_OPEN = OpeningHours()


def opening_hours(weeks: Iterable[Mapping[int, Sequence[tuple[time, time]]]]) -> OpeningHours:
    """The hours at least one of the weeks (one per professional) is working."""
    by_day: list[list[tuple[time, time]]] = [[] for _ in WEEKDAYS]
    for week in weeks:
        for weekday, intervals in week.items():
            by_day[weekday].extend(intervals)
    return OpeningHours(tuple(_merged(intervals) for intervals in by_day))


def _merged(intervals: list[tuple[time, time]]) -> Hours:
    merged: list[tuple[time, time]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def describe(hours: OpeningHours, language: str) -> str:
    """One line per run of weekdays open at the same hours; empty when never open."""
    names = weekday_names(language)
    lines: list[str] = []
    for first, last, intervals in _runs(hours):
        days = (
            names[first]
            if first == last
            else text("labels.weekday_range", language, first=names[first], last=names[last])
        )
        shown = ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in intervals)
        lines.append(text("labels.opening_hours_line", language, days=days, hours=shown))
    return "\n".join(lines)


def _runs(hours: OpeningHours) -> list[tuple[int, int, Hours]]:
    """Consecutive open weekdays with the same intervals, as (first, last, intervals)."""
    runs: list[tuple[int, int, Hours]] = []
    for weekday, intervals in enumerate(hours.days):
        if not intervals:
            continue
        if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == intervals:
            runs[-1] = (runs[-1][0], weekday, intervals)
        else:
            runs.append((weekday, weekday, intervals))
    return runs
