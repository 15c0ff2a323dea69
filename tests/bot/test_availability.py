"""Free slots: working hours − breaks − block-offs − appointments, within notice and
horizon, in the clinic's time zone."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.availability import (
    BookingRules,
    ProfessionalSchedule,
    days_with_space,
    free_slots,
    is_free,
    slots_for_day,
)

ASU = ZoneInfo("America/Asuncion")
NY = ZoneInfo("America/New_York")
HALF_HOUR = timedelta(minutes=30)
MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday


def rules(tz: ZoneInfo = ASU, notice: int = 0, horizon: int = 60) -> BookingRules:
    return BookingRules(tz, timedelta(minutes=notice), horizon, HALF_HOUR)


def local_times(slots: list, tz: ZoneInfo = ASU) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots]


def with_break(busy=()) -> ProfessionalSchedule:
    weekly = {d: [(time(8), time(10)), (time(11), time(12))] for d in range(5)}
    return ProfessionalSchedule(1, weekly, tuple(busy))


def test_breaks_are_not_offered():
    assert local_times(free_slots(with_break(), HALF_HOUR, MONDAY, rules(), NOW)) == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "11:00",
        "11:30",
    ]


def test_a_service_longer_than_the_rest_of_an_interval_does_not_fit():
    hour = timedelta(hours=1)
    assert local_times(free_slots(with_break(), hour, MONDAY, rules(), NOW)) == [
        "08:00",
        "08:30",
        "09:00",
        "11:00",
    ]


def test_appointments_and_block_offs_take_their_time():
    at = lambda h, m=0: datetime.combine(MONDAY, time(h, m), tzinfo=ASU)  # noqa: E731
    schedule = with_break(busy=[(at(8, 30), at(9, 15)), (at(11), at(12))])
    assert local_times(free_slots(schedule, HALF_HOUR, MONDAY, rules(), NOW)) == [
        "08:00",
        "09:30",
    ]


def test_minimum_notice_hides_the_next_hours():
    now = datetime.combine(MONDAY, time(8, 10), tzinfo=ASU)
    got = free_slots(with_break(), HALF_HOUR, MONDAY, rules(notice=60), now)
    assert local_times(got) == ["09:30", "11:00", "11:30"]


def test_nothing_beyond_the_horizon():
    far = NOW.date() + timedelta(days=11)
    assert free_slots(with_break(), HALF_HOUR, far, rules(horizon=10), NOW) == []
    days = days_with_space([with_break()], HALF_HOUR, NOW.date(), 50, rules(horizon=10), NOW)
    assert days[-1] <= NOW.date() + timedelta(days=10)
    assert all(d.weekday() < 5 for d in days)


def test_days_with_space_skips_full_and_closed_days():
    tuesday = MONDAY + timedelta(days=1)
    full = [
        (
            datetime.combine(tuesday, time(0), tzinfo=ASU),
            datetime.combine(tuesday, time(23), tzinfo=ASU),
        )
    ]
    days = days_with_space([with_break(full)], HALF_HOUR, MONDAY, 3, rules(), NOW)
    assert days == [MONDAY, MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)]


def test_first_available_merges_professionals_one_per_time():
    early = ProfessionalSchedule(1, {0: [(time(8), time(9))]})
    late = ProfessionalSchedule(2, {0: [(time(8, 30), time(10))]})
    slots = slots_for_day([early, late], HALF_HOUR, MONDAY, rules(), NOW)
    assert local_times(slots) == ["08:00", "08:30", "09:00", "09:30"]
    assert [s.professional_id for s in slots] == [1, 1, 2, 2]


def test_a_dst_change_day_keeps_the_wall_clock_hours():
    # 8 March 2026: New York springs forward at 02:00; 1 November 2026: falls back.
    nine_to_five = ProfessionalSchedule(1, {6: [(time(9), time(17))]})
    before = datetime(2026, 3, 1, tzinfo=NY)
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        got = free_slots(nine_to_five, HALF_HOUR, day, rules(NY, horizon=365), before)
        assert local_times(got, NY)[0] == "09:00" and local_times(got, NY)[-1] == "16:30"
        assert len(got) == 16
        assert got[1].starts_at - got[0].starts_at == HALF_HOUR


def test_slots_across_the_dst_night_are_real_half_hours():
    night = ProfessionalSchedule(1, {6: [(time(0), time(4))]})
    got = free_slots(
        night, HALF_HOUR, date(2026, 3, 8), rules(NY, horizon=365), datetime(2026, 3, 1, tzinfo=NY)
    )
    assert len(got) == 6  # 00:00–04:00 on the day clocks skip an hour lasts three hours
    assert local_times(got, NY) == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]


def test_paraguay_is_utc_minus_three_all_year():
    winter = datetime.combine(date(2027, 7, 5), time(8), tzinfo=ASU)
    assert winter.utcoffset() == timedelta(hours=-3)
    schedule = ProfessionalSchedule(1, {0: [(time(8), time(9))]})
    got = free_slots(schedule, HALF_HOUR, date(2027, 7, 5), rules(horizon=365), NOW)
    assert got[0].starts_at == datetime(2027, 7, 5, 11, 0, tzinfo=UTC)


def test_is_free_answers_exactly_for_the_starts_free_slots_lists():
    """Every 5 minutes over the twelve days around each of New York's clock changes, with
    random appointments, a night interval, a minimum notice and a horizon."""
    chance = random.Random(7)
    weekly = {
        d: [(time(0), time(3)), (time(8, 15), time(12)), (time(14), time(18))] for d in range(7)
    }
    notice_and_horizon = rules(NY, notice=90, horizon=8)
    for now in (datetime(2026, 3, 4, 10, 7, tzinfo=NY), datetime(2026, 10, 28, 10, 7, tzinfo=NY)):
        busy = []
        for _ in range(60):
            start = now + timedelta(minutes=5 * chance.randrange(0, 12 * 24 * 12))
            busy.append((start, start + timedelta(minutes=chance.choice((10, 30, 45, 90)))))
        schedule = ProfessionalSchedule(1, weekly, tuple(busy))
        for offset in range(12):
            day = now.date() + timedelta(days=offset)
            listed = {
                s.starts_at for s in free_slots(schedule, HALF_HOUR, day, notice_and_horizon, now)
            }
            midnight = datetime.combine(day, time(0), tzinfo=NY).astimezone(UTC)
            that_day = [
                moment
                for moment in (midnight + timedelta(minutes=5 * n) for n in range(12 * 25))
                if moment.astimezone(NY).date() == day
            ]
            checked = {
                moment
                for moment in that_day
                if is_free(schedule, HALF_HOUR, moment, notice_and_horizon, now)
            }
            assert checked == listed, day
