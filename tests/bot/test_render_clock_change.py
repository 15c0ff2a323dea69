"""Times written for patients where the clocks change: Santiago de Chile goes back from
24:00 to 23:00 on Saturday 4 April 2026 and forward from 24:00 to 01:00 on Saturday
5 September 2026."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.render import format_moment

SANTIAGO = ZoneInfo("America/Santiago")


def half_hours(first: datetime, count: int) -> list[datetime]:
    return [(first + timedelta(minutes=30 * n)).astimezone(SANTIAGO) for n in range(count)]


@pytest.mark.parametrize(
    ("language", "before", "after"),
    [
        ("es", "(antes del cambio de hora)", "(después del cambio de hora)"),
        ("en", "(before the clocks go back)", "(after the clocks go back)"),
        ("gn", "(aravo ñemoambue mboyve)", "(aravo ñemoambue rire)"),
    ],
)
def test_the_hour_shown_twice_says_which_of_the_two_it_is(language, before, after):
    night = half_hours(datetime(2026, 4, 5, 1, 0, tzinfo=UTC), 7)  # 22:00 … 00:30
    assert [format_moment(m, language) for m in night] == [
        "22:00",
        "22:30",
        f"23:00 {before}",
        f"23:30 {before}",
        f"23:00 {after}",
        f"23:30 {after}",
        "00:00",
    ]


def test_other_times_are_written_plainly_the_night_the_clocks_go_forward_too():
    night = half_hours(datetime(2026, 9, 6, 3, 0, tzinfo=UTC), 4)  # 23:00, 23:30, 01:00, 01:30
    assert [format_moment(m, "es") for m in night] == ["23:00", "23:30", "01:00", "01:30"]
    skipped = datetime(2026, 9, 6, 0, 30, tzinfo=SANTIAGO)  # a time the clock never shows
    assert format_moment(skipped, "es") == "00:30"
