"""The booking page's calendar reads its weeks in one go (the rest of the window with each
day, hours that end before the notice not read at all); its answer is exactly the engine's
reading one day at a time, on random calendars changed through every road the app takes."""

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.availability import Slot
from store.models import Clinic, Professional, Service
from tests.store.test_day_loads import NOW, _change_randomly, _seed
from usecases.stored_availability import StoreAvailability, booking_rules
from web.booking_page import CALENDAR_DAYS, Choice, calendar, day_times
from web.console.slots import service_info


def _one_day_at_a_time(
    session: Session, clinic: Clinic, now: datetime, choice: Choice, days: list[date]
) -> dict[date, list[Slot]]:
    """Each day's times as the engine finds them reading that day alone, afresh."""
    found = {}
    for day in days:
        slots = StoreAvailability(session, clinic, now).slots(
            service_info(choice.service), choice.ids, day
        )
        if slots:
            found[day] = sorted({s.starts_at: s for s in sorted(slots, reverse=True)}.values())
    return found


def _compare(session: Session, clinic: Clinic, now: datetime, choice: Choice, first: date) -> int:
    """The calendar and each of its days' times against the day-by-day reading; how many
    days had space."""
    availability = StoreAvailability(session, clinic, now)
    month = calendar(availability, choice, first)
    expected = _one_day_at_a_time(session, clinic, now, choice, month.days)
    assert month.free == set(expected), (now, choice.ids, choice.service.duration_minutes)
    for day in sorted(month.free):
        assert day_times(availability, choice, day) == expected[day], (now, day)
    return len(month.free)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_calendar_answers_what_reading_day_by_day_answers(db: Engine, seed: int) -> None:
    chance = random.Random(seed)
    clinic_id, professionals, services, patient_id = _seed(db)
    days_with_space = full_days = 0
    for _ in range(4):
        for _ in range(50):
            _change_randomly(db, chance, clinic_id, professionals, services, patient_id)
        with Session(db) as session:
            clinic = session.get(Clinic, clinic_id)
            assert clinic is not None
            names = {p.id or 0: p.name for p in session.exec(select(Professional))}
            offered = session.exec(select(Service).where(col(Service.id).in_(services))).all()
            for _ in range(6):  # any hour of the next days: the notice cuts into "today"
                now = NOW + timedelta(minutes=chance.randrange(0, 5 * 24 * 60, 7))
                today = booking_rules(clinic).local_date(now)
                first = today + timedelta(days=chance.choice([0, 0, 3, CALENDAR_DAYS]))
                service = chance.choice(offered)
                for ids in [[p] for p in professionals] + [professionals]:
                    choice = Choice(service, None, ids, names)
                    found = _compare(session, clinic, now, choice, first)
                    days_with_space += found
                    full_days += CALENDAR_DAYS - found
    assert days_with_space and full_days  # both kinds of day were asked about
