"""The agenda grid's arithmetic: rows from instants, the hours a day spans in the clinic's
zone (days when the clocks change included), and lanes for overlapping appointments."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from web.console.time_grid import Span, day_span, hour_marks, lanes

ASU = ZoneInfo("America/Asuncion")
NY = ZoneInfo("America/New_York")


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = ASU) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


DAY = date(2026, 12, 1)


def test_a_day_runs_from_the_hour_before_the_first_thing_to_the_hour_after_the_last():
    span = day_span(
        DAY, ASU, [(local(DAY, 8, 20), local(DAY, 12)), (local(DAY, 14), local(DAY, 17, 40))]
    )
    assert (span.since, span.until) == (local(DAY, 8), local(DAY, 18))
    assert span.rows == 10 * 12


def test_a_day_with_nothing_shows_eight_to_six():
    span = day_span(DAY, ASU, [])
    assert (span.since, span.until) == (local(DAY, 8), local(DAY, 18))


def test_an_interval_takes_the_rows_of_its_start_and_length_cut_to_the_span():
    span = Span(local(DAY, 8), local(DAY, 18))
    assert span.place(local(DAY, 8), local(DAY, 8, 30)) == (1, 6)
    assert span.place(local(DAY, 10), local(DAY, 10, 45)) == (25, 9)
    assert span.place(local(DAY, 7), local(DAY, 8, 15)) == (1, 3)  # begun before
    assert span.place(local(DAY, 17, 50), local(DAY, 19)) == (119, 2)  # ends after
    assert span.place(local(DAY, 18), local(DAY, 19)) is None
    assert span.place(local(DAY, 9, 2), local(DAY, 9, 4)) == (13, 1)  # never less than a row


def test_the_gaps_are_the_closed_hours_and_the_breaks():
    span = Span(local(DAY, 8), local(DAY, 18))
    working = [(local(DAY, 14), local(DAY, 18)), (local(DAY, 9), local(DAY, 12))]
    assert span.gaps(working) == [
        (local(DAY, 8), local(DAY, 9)),
        (local(DAY, 12), local(DAY, 14)),
    ]


def test_overlapping_appointments_go_side_by_side_and_others_keep_the_whole_width():
    a = (local(DAY, 10), local(DAY, 10, 30))
    b = (local(DAY, 10, 15), local(DAY, 11))
    c = (local(DAY, 10, 30), local(DAY, 11))  # after a: a's lane again, same group as b
    d = (local(DAY, 11), local(DAY, 11, 30))  # touches, does not overlap
    assert lanes([d, c, b, a]) == [(0, 1), (0, 2), (1, 2), (0, 2)]


def test_three_at_once_take_three_lanes():
    at_ten = (local(DAY, 10), local(DAY, 10, 30))
    assert lanes([at_ten, at_ten, at_ten]) == [(0, 3), (1, 3), (2, 3)]


def test_a_day_when_the_clocks_go_forward_has_an_hour_less_and_skips_its_label():
    spring = date(2026, 3, 8)  # New York: 02:00 becomes 03:00
    span = day_span(spring, NY, [(local(spring, 0, 0, NY), local(spring, 6, 0, NY))])
    assert span.rows == 5 * 12
    marks = [(m.hour, row) for m, row in hour_marks(span, NY)]
    assert marks == [(0, 1), (1, 13), (3, 25), (4, 37), (5, 49)]
    # 04:00 sits two hours of rows below 01:00, as the elapsed time says
    assert span.place(local(spring, 4, 0, NY), local(spring, 4, 30, NY)) == (37, 6)


def test_a_day_when_the_clocks_go_back_shows_one_hour_twice():
    autumn = date(2026, 11, 1)  # New York: 02:00 becomes 01:00
    span = day_span(autumn, NY, [(local(autumn, 0, 0, NY), local(autumn, 4, 0, NY))])
    assert span.rows == 5 * 12
    assert [m.hour for m, _ in hour_marks(span, NY)] == [0, 1, 1, 2, 3]


def test_a_day_that_runs_to_midnight_ends_at_midnight():
    span = day_span(DAY, ASU, [(local(DAY, 20), local(DAY, 23, 30))])
    assert span.until == local(DAY + timedelta(days=1), 0)
