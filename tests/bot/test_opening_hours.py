"""The clinic's opening hours: its professionals' weeks put together, and written a line
per run of days open alike, with CLDR's weekday names."""

from datetime import time

from bot.opening_hours import OpeningHours, opening_hours
from bot.render import tag_texts

ANA = {d: [(time(8), time(12)), (time(14), time(18))] for d in range(5)}
LUIS = {d: [(time(9), time(13))] for d in range(6)}


def written(hours: OpeningHours, language: str) -> str:
    """The hours as a message's tag shows them to a reader of `language`."""
    return tag_texts({"opening_hours": hours}, language)["opening_hours"]


def test_overlapping_and_touching_hours_merge() -> None:
    hours = opening_hours([ANA, LUIS, {2: [(time(18), time(20))]}])
    assert hours.days[0] == ((time(8), time(13)), (time(14), time(18)))
    assert hours.days[2] == ((time(8), time(13)), (time(14), time(20)))
    assert hours.days[5] == ((time(9), time(13)),)
    assert hours.days[6] == ()


def test_days_open_alike_share_a_line() -> None:
    assert written(opening_hours([ANA, LUIS]), "en").splitlines() == [
        "• Monday to Friday: 08:00–13:00, 14:00–18:00",
        "• Saturday: 09:00–13:00",
    ]


def test_a_gap_in_the_week_starts_a_new_line() -> None:
    week = {0: [(time(8), time(12))], 2: [(time(8), time(12))], 3: [(time(8), time(12))]}
    assert written(opening_hours([week]), "es").splitlines() == [
        "• lunes: 08:00–12:00",
        "• miércoles a jueves: 08:00–12:00",
    ]


def test_a_clinic_never_open_has_no_hours_to_tell() -> None:
    assert written(opening_hours([]), "gn") == ""
