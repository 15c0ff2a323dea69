"""Free slots: working hours − breaks − block-offs − appointments, within the clinic's
minimum notice and booking horizon, computed in the clinic's time zone.

Pure functions over plain data. Slots are generated in absolute time from each working
interval's local start and end, so a day on which the clocks change still yields the
intervals the clinic's wall clock says."""

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Protocol
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class BookingRules:
    timezone: ZoneInfo
    min_notice: timedelta = timedelta(hours=2)
    horizon_days: int = 60
    step: timedelta = timedelta(minutes=15)

    def earliest(self, now: datetime) -> datetime:
        return now + self.min_notice

    def last_day(self, now: datetime) -> date:
        return self.local_date(now) + timedelta(days=self.horizon_days)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()


@dataclass(frozen=True)
class ProfessionalSchedule:
    """What decides when one professional is free: weekly intervals in local time (weekday
    0 = Monday) and the busy intervals (block-offs and appointments) in UTC."""

    professional_id: int
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    busy: Sequence[Interval] = field(default_factory=tuple)

    @cached_property
    def busy_index(self) -> tuple[list[datetime], list[datetime]]:
        """Busy starts in order, and the latest end among the first i+1 of them."""
        ordered = sorted(self.busy)
        running_end: list[datetime] = []
        latest = datetime.min.replace(tzinfo=UTC)
        for _, end in ordered:
            latest = max(latest, end)
            running_end.append(latest)
        return [s for s, _ in ordered], running_end


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    professional_id: int


def working_intervals(schedule: ProfessionalSchedule, day: date, tz: ZoneInfo) -> list[Interval]:
    """The day's working intervals as UTC instants."""
    intervals = []
    for start, end in schedule.weekly.get(day.weekday(), ()):
        local_start = datetime.combine(day, start, tzinfo=tz)
        local_end = datetime.combine(day, end, tzinfo=tz)
        intervals.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
    return sorted(intervals)


def _overlaps(
    starts: list[datetime], running_end: list[datetime], s: datetime, e: datetime
) -> bool:
    """Whether [s, e) meets a busy interval; `running_end[i]` is the latest end among the
    first i+1 intervals, so one bisect answers."""
    i = bisect_left(starts, e) - 1
    return i >= 0 and running_end[i] > s


def free_slots(
    schedule: ProfessionalSchedule,
    duration: timedelta,
    day: date,
    rules: BookingRules,
    now: datetime,
) -> list[Slot]:
    """One professional's free slot starts on a local day."""
    return list(_free_starts(schedule, duration, day, rules, now))


def has_free_slot(
    schedule: ProfessionalSchedule,
    duration: timedelta,
    day: date,
    rules: BookingRules,
    now: datetime,
) -> bool:
    """Whether the professional has any free slot that day (stops at the first)."""
    return next(_free_starts(schedule, duration, day, rules, now), None) is not None


def is_free(
    schedule: ProfessionalSchedule,
    duration: timedelta,
    start: datetime,
    rules: BookingRules,
    now: datetime,
) -> bool:
    """Whether `start` is one of the professional's free slot starts (one check, not the
    whole day's slots)."""
    if start < rules.earliest(now) or rules.local_date(start) > rules.last_day(now):
        return False
    starts, running_end = schedule.busy_index
    return any(
        begin <= start
        and start + duration <= end
        and (start - begin) % rules.step == timedelta(0)
        and not _overlaps(starts, running_end, start, start + duration)
        for begin, end in working_intervals(schedule, rules.local_date(start), rules.timezone)
    )


def _free_starts(
    schedule: ProfessionalSchedule,
    duration: timedelta,
    day: date,
    rules: BookingRules,
    now: datetime,
) -> Iterator[Slot]:
    if day > rules.last_day(now):
        return
    earliest = rules.earliest(now)
    starts, running_end = schedule.busy_index
    for begin, end in working_intervals(schedule, day, rules.timezone):
        candidate = max(begin, _first_step_at_or_after(begin, earliest, rules.step))
        while candidate + duration <= end:
            if not _overlaps(starts, running_end, candidate, candidate + duration):
                yield Slot(candidate, schedule.professional_id)
            candidate += rules.step


def _first_step_at_or_after(begin: datetime, earliest: datetime, step: timedelta) -> datetime:
    """The first slot start on the interval's grid that respects the minimum notice."""
    if earliest <= begin:
        return begin
    steps = -((begin - earliest) // step)  # ceiling division
    return begin + steps * step


def slots_for_day(
    schedules: Sequence[ProfessionalSchedule],
    duration: timedelta,
    day: date,
    rules: BookingRules,
    now: datetime,
) -> list[Slot]:
    """Free slots of several professionals on one day, one per start time: "first
    available" offers a time, and the first professional (in the given order) free then."""
    by_start: dict[datetime, Slot] = {}
    for schedule in schedules:
        for slot in free_slots(schedule, duration, day, rules, now):
            by_start.setdefault(slot.starts_at, slot)
    return [by_start[start] for start in sorted(by_start)]


def days_with_space(
    schedules: Sequence[ProfessionalSchedule],
    duration: timedelta,
    first_day: date,
    count: int,
    rules: BookingRules,
    now: datetime,
) -> list[date]:
    """The next `count` local days, from `first_day` on, with at least one free slot."""
    found: list[date] = []
    for day in _days(max(first_day, rules.local_date(now)), rules.last_day(now)):
        if any(has_free_slot(s, duration, day, rules, now) for s in schedules):
            found.append(day)
            if len(found) == count:
                break
    return found


def days_with_a_slot(
    schedules: Sequence[ProfessionalSchedule],
    duration: timedelta,
    days: Iterable[date],
    rules: BookingRules,
    now: datetime,
) -> set[date]:
    """The days among `days` on which any of the schedules has a free slot."""
    return {d for d in days if any(has_free_slot(s, duration, d, rules, now) for s in schedules)}


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class ScheduleAvailability:
    """The engine's `Availability` over schedules already in memory (tests, benchmarks, and
    the store once it has loaded them)."""

    def __init__(
        self,
        schedules: Mapping[int, ProfessionalSchedule],
        rules: BookingRules,
        now: datetime,
    ) -> None:
        self.schedules = schedules
        self.rules = rules
        self.now = now

    def _of(self, professional_ids: Sequence[int]) -> list[ProfessionalSchedule]:
        return [self.schedules[p] for p in professional_ids if p in self.schedules]

    def days_with_space(
        self, service: "HasDuration", professional_ids: list[int], first_day: date, count: int
    ) -> list[date]:
        return days_with_space(
            self._of(professional_ids), service.duration, first_day, count, self.rules, self.now
        )

    def slots(self, service: "HasDuration", professional_ids: list[int], day: date) -> list[Slot]:
        return slots_for_day(
            self._of(professional_ids), service.duration, day, self.rules, self.now
        )

    def open_days(
        self, service: "HasDuration", professional_ids: list[int], days: Iterable[date]
    ) -> set[date]:
        """The days that would have a time were nothing busy: in memory, appointments and
        block-offs are one list, so a day blocked off whole reads as full, not closed."""
        schedules = [replace(s, busy=()) for s in self._of(professional_ids)]
        return days_with_a_slot(schedules, service.duration, days, self.rules, self.now)

    def is_free(self, service: "HasDuration", professional_id: int, start: datetime) -> bool:
        schedule = self.schedules.get(professional_id)
        return schedule is not None and is_free(
            schedule, service.duration, start, self.rules, self.now
        )


class HasDuration(Protocol):
    @property
    def duration(self) -> timedelta: ...
