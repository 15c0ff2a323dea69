"""The engine's `Availability` answered from the store: it loads only the professionals and
the days asked about (a week at a time) and leaves the arithmetic to `bot.availability`."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.availability import (
    BookingRules,
    ProfessionalSchedule,
    Slot,
    days_with_space,
    slots_for_day,
)
from bot.types import ServiceInfo
from store.models import Clinic
from store.schedule import busy_intervals, weekly_hours

WINDOW_DAYS = 7


def booking_rules(clinic: Clinic) -> BookingRules:
    return BookingRules(
        timezone=ZoneInfo(clinic.timezone),
        min_notice=timedelta(minutes=clinic.min_notice_minutes),
        horizon_days=clinic.horizon_days,
        step=timedelta(minutes=clinic.slot_step_minutes),
    )


class StoreAvailability:
    """Free time read inside the caller's transaction."""

    def __init__(self, session: Session, clinic: Clinic, now: datetime) -> None:
        self.session = session
        self.clinic_id = clinic.id or 0
        self.rules = booking_rules(clinic)
        self.now = now

    def days_with_space(
        self, service: ServiceInfo, professional_ids: list[int], first_day: date, count: int
    ) -> list[date]:
        found: list[date] = []
        start = max(first_day, self.rules.local_date(self.now))
        while len(found) < count and start <= self.rules.last_day(self.now):
            end = start + timedelta(days=WINDOW_DAYS - 1)
            schedules = self.schedules(professional_ids, start, end, service.duration)
            found += days_with_space(
                schedules, service.duration, start, count - len(found), self.rules, self.now, end
            )
            start = end + timedelta(days=1)
        return found

    def slots(self, service: ServiceInfo, professional_ids: list[int], day: date) -> list[Slot]:
        schedules = self.schedules(professional_ids, day, day, service.duration)
        return slots_for_day(schedules, service.duration, day, self.rules, self.now)

    def schedules(
        self, professional_ids: list[int], first: date, last: date, duration: timedelta
    ) -> list[ProfessionalSchedule]:
        """Working hours and the busy intervals of the local days [first, last]."""
        tz = self.rules.timezone
        since = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC) - duration
        until = datetime.combine(last + timedelta(days=2), time.min, tzinfo=tz).astimezone(UTC)
        weekly = weekly_hours(self.session, professional_ids)
        busy = busy_intervals(self.session, self.clinic_id, professional_ids, since, until)
        return [ProfessionalSchedule(p, weekly[p], tuple(busy[p])) for p in professional_ids]
