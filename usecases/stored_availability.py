"""The engine's `Availability` answered from the store. It reads as little as it can —
a few local days at a time, professionals in small batches, stopping as soon as a day
shows space; a window asked for whole (a calendar's weeks) in one read per batch — and
leaves the arithmetic to `bot.availability`."""

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.availability import (
    BookingRules,
    ProfessionalSchedule,
    Slot,
    days_with_a_slot,
    has_free_slot,
    is_free,
    slots_for_day,
)
from bot.types import ServiceInfo
from store.day_loads import professionals_too_full, week_key
from store.driver import Db
from store.models import Clinic
from store.schedule import Interval, Weekly, blocked_between, busy_between, weekly_hours

BATCH = 5  # professionals read together when looking for any space on a day,
READ_AHEAD_DAYS = 3  # with at least this many days in one read,
PROFESSIONAL_DAYS_PER_READ = 15  # and more for a few professionals (one working twice a week)
WINDOW_BATCH = 1  # professionals read for the rest of a window with its day
DAY_LOADS_PER_READ = 31  # days of day loads read at once, twice as many each time after


def booking_rules(clinic: Clinic) -> BookingRules:
    return BookingRules(
        timezone=ZoneInfo(clinic.timezone),
        min_notice=timedelta(minutes=clinic.min_notice_minutes),
        horizon_days=clinic.horizon_days,
        step=timedelta(minutes=clinic.slot_step_minutes),
    )


class StoreAvailability:
    """Free time read inside the caller's transaction; what it read it keeps for the
    rest of the message (the engine often asks about the same day twice). Weekly hours
    already known (the bot's cached catalog) are not read again."""

    def __init__(
        self, db: Db, clinic: Clinic, now: datetime, weekly: Mapping[int, Weekly] = {}
    ) -> None:
        self.db = db
        self.clinic_id = clinic.id or 0
        self.timezone = clinic.timezone
        self.rules = booking_rules(clinic)
        self.now = now
        self._weekly: dict[int, Weekly] = dict(weekly)
        self._days: dict[tuple[int, date], ProfessionalSchedule] = {}
        self._too_full: dict[tuple[int, tuple[int, ...]], _TooFull] = {}
        self._slots: dict[tuple[timedelta, tuple[int, ...], date], list[Slot]] = {}

    def days_with_space(
        self,
        service: ServiceInfo,
        professional_ids: list[int],
        first_day: date,
        count: int,
        last_day: date | None = None,
    ) -> list[date]:
        """Up to `count` days with space from `first_day`, up to `last_day` (or the horizon).
        When every day of the window is asked for, each batch of professionals has the rest
        of the window read at once: the walk will visit all of it."""
        found: list[date] = []
        day = max(first_day, self.rules.local_date(self.now))
        last = min(last_day or date.max, self.rules.last_day(self.now))
        whole = day + timedelta(days=count) > last
        while len(found) < count and day <= last:
            rest = (last - day).days + 1 if whole else 0
            if not self._known_too_full(service, professional_ids, day) and self._has_space(
                service, professional_ids, day, rest
            ):
                found.append(day)
            day += timedelta(days=1)
        return found

    def _known_too_full(self, service: ServiceInfo, professional_ids: list[int], day: date) -> bool:
        """Whether every professional working that day has a day load (made under today's
        hours) with no free stretch as long as the service."""
        weekly = self._weekly_of(professional_ids)
        working = [p for p in professional_ids if weekly[p].get(day.weekday())]
        if not working:
            return False  # nothing to read anyway
        minutes = int(service.duration.total_seconds() // 60)
        key = (minutes, tuple(professional_ids))
        known = self._too_full.get(key)
        if known is None or not known.first <= day <= known.last:
            days = DAY_LOADS_PER_READ if known is None else 2 * (known.last - known.first).days
            last = min(day + timedelta(days=days - 1), self.rules.last_day(self.now))
            keys = {p: week_key(p, self.timezone, weekly[p]) for p in professional_ids}
            counts = professionals_too_full(self.db, keys, day, last, minutes)
            known = self._too_full[key] = _TooFull(day, last, counts)
        return known.counts.get(day, 0) >= len(working)

    def slots(self, service: ServiceInfo, professional_ids: list[int], day: date) -> list[Slot]:
        """The day's free slots, worked out once per message (a question asked again in
        the same turn, or its answer read, needs them again)."""
        key = (service.duration, tuple(professional_ids), day)
        found = self._slots.get(key)
        if found is None:
            schedules = self.schedules(professional_ids, day)
            found = self._slots[key] = slots_for_day(
                schedules, service.duration, day, self.rules, self.now
            )
        return list(found)

    def is_free(self, service: ServiceInfo, professional_id: int, start: datetime) -> bool:
        """Whether one slot is still free: that professional's day is all that is read."""
        [schedule] = self.schedules([professional_id], self.rules.local_date(start))
        return is_free(schedule, service.duration, start, self.rules, self.now)

    def _has_space(
        self, service: ServiceInfo, professional_ids: list[int], day: date, rest: int = 0
    ) -> bool:
        """Whether any professional has a free slot on the day. `rest`: the days from it the
        caller will ask about too, read with it for the first few professionals (most days
        show space there; the others are read for fewer days when a day needs them)."""
        weekly = self._weekly_of(professional_ids)
        working = [p for p in professional_ids if weekly[p].get(day.weekday())]
        if day <= self.rules.local_date(self.rules.earliest(self.now) + service.duration):
            working = self._working_late_enough(working, day, service.duration)
        first = WINDOW_BATCH if rest else BATCH
        starts = [0, *range(first, len(working), BATCH)]
        for start, end in zip(starts, [*starts[1:], len(working)], strict=True):
            batch = working[start:end]
            days = max(READ_AHEAD_DAYS, PROFESSIONAL_DAYS_PER_READ // max(len(batch), 1))
            for schedule in self.schedules(
                batch, day, read_ahead=max(days, rest if start == 0 else 0)
            ):
                if has_free_slot(schedule, service.duration, day, self.rules, self.now):
                    return True
        return False

    def _working_late_enough(
        self, professional_ids: list[int], day: date, duration: timedelta
    ) -> list[int]:
        """Those whose hours that day end late enough for a slot after the minimum notice
        (the others have none, nothing to read)."""
        latest = self.rules.earliest(self.now) + duration
        tz = self.rules.timezone
        return [
            p
            for p in professional_ids
            if any(
                datetime.combine(day, end, tzinfo=tz) >= latest
                for _, end in self._weekly[p].get(day.weekday(), ())
            )
        ]

    def schedules(
        self, professional_ids: list[int], day: date, read_ahead: int = 1
    ) -> list[ProfessionalSchedule]:
        """Working hours and the busy intervals of one local day; what is not read yet is
        read for `read_ahead` days at once (one round trip instead of several)."""
        missing = [p for p in professional_ids if (p, day) not in self._days]
        if missing:
            self._read_days(missing, day, read_ahead)
        return [self._days[(p, day)] for p in professional_ids]

    def open_days(
        self, service: ServiceInfo, professional_ids: list[int], days: Iterable[date]
    ) -> set[date]:
        """The days among `days` that would have a time for the service were nothing
        booked: hours, notice and the service's length, with block-offs (the clinic's and
        the professionals') the only busy times. A day without space that is open is full
        (its waitlist can be filled); one that is not is closed: nobody works (no hours, a
        holiday, the whole clinic blocked off)."""
        asked = sorted(d for d in days if self.works_on(professional_ids, d))
        if not asked:
            return set()  # nobody's weekly hours: nothing to read
        tz = self.rules.timezone
        blocked = blocked_between(
            self.db,
            self.clinic_id,
            professional_ids,
            datetime.combine(asked[0], time.min, tzinfo=tz),
            datetime.combine(asked[-1] + timedelta(days=1), time.min, tzinfo=tz),
        )
        weekly = self._weekly_of(professional_ids)
        schedules = [
            ProfessionalSchedule(p, weekly[p], tuple(blocked[p])) for p in professional_ids
        ]
        return days_with_a_slot(schedules, service.duration, asked, self.rules, self.now)

    def works_on(self, professional_ids: list[int], day: date) -> bool:
        """Whether any of the professionals has working hours on that weekday."""
        weekly = self._weekly_of(professional_ids)
        return any(weekly.get(p, {}).get(day.weekday()) for p in professional_ids)

    def _weekly_of(self, professional_ids: list[int]) -> dict[int, Weekly]:
        missing = [p for p in professional_ids if p not in self._weekly]
        if missing:
            self._weekly.update(weekly_hours(self.db, missing))
        return self._weekly

    def _read_days(self, professional_ids: list[int], first: date, count: int) -> None:
        tz = self.rules.timezone
        days = [first + timedelta(days=n) for n in range(count)]
        bounds = [
            (
                day,
                datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC),
                datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC),
            )
            for day in days
        ]
        since, until = bounds[0][1], bounds[-1][2]
        busy = busy_between(self.db, self.clinic_id, professional_ids, since, until)
        weekly = self._weekly_of(professional_ids)
        day_ends = [end for _, _, end in bounds]
        for p in professional_ids:
            on_day: list[list[Interval]] = [[] for _ in bounds]
            for start, end in busy[p]:  # to each day it meets, in the order read
                n = bisect_right(day_ends, start)
                while n < len(bounds) and bounds[n][1] < end:
                    on_day[n].append((start, end))
                    n += 1
            for (day, _, _), intervals in zip(bounds, on_day, strict=True):
                self._days[(p, day)] = ProfessionalSchedule(p, weekly[p], tuple(intervals))


@dataclass(frozen=True)
class _TooFull:
    """Day loads read for [first, last]: per day, how many professionals are too full."""

    first: date
    last: date
    counts: dict[date, int]
