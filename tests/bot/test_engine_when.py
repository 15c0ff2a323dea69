"""The engine reading days and times as patients write them: a part of the day narrows
the times, a time said with the day is taken, an ambiguous day is asked back."""

from datetime import UTC, datetime, time, timedelta

from bot.availability import BookingRules, ProfessionalSchedule, ScheduleAvailability
from bot.types import ClinicInfo, ClinicView, ProfessionalInfo, ServiceInfo
from tests.bot.test_engine import ASU, NOW, Chat, book_through


def view() -> ClinicView:
    """Dra. Benítez sees patients Monday to Friday, 8–12 and 14–18."""
    rules = BookingRules(ASU, timedelta(hours=1), 30, timedelta(minutes=30))
    weekly = {d: [(time(8), time(12)), (time(14), time(18))] for d in range(5)}
    return ClinicView(
        clinic=ClinicInfo(1, "Clínica Demo", rules),
        services=[ServiceInfo(1, "Consulta", timedelta(minutes=30))],
        professionals=[ProfessionalInfo(1, "Dra. Ana Benítez", frozenset({1}))],
        people=[],
        availability=ScheduleAvailability({1: ProfessionalSchedule(1, weekly)}, rules, NOW),
        now=NOW,
    )


def at_the_day_question() -> Chat:
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1"])
    assert chat.asked("day")
    return chat


def offered_times(reply: str) -> list[str]:
    return [line.split(". ")[1] for line in reply.splitlines() if line[:1].isdigit()]


def test_a_part_of_the_day_with_the_day_narrows_the_times():
    chat = at_the_day_question()
    reply = chat.says("el martes a la tarde")
    assert "martes 1 de diciembre" in reply
    times = offered_times(reply)
    assert times and all("14:00" <= t <= "17:30" for t in times)


def test_a_time_with_the_day_is_taken_when_free():
    chat = at_the_day_question()
    chat.says("pasado mañana 9:30")
    assert chat.asked("name")  # no time question: 9:30 on Friday was free
    assert (
        chat.state.draft.slot
        == datetime(2026, 11, 27, 9, 30, tzinfo=ASU).astimezone(UTC).isoformat()
    )
    assert chat.said == ["booking.ask_name"]


def test_a_time_that_is_not_free_is_said_and_the_times_shown():
    chat = at_the_day_question()
    reply = chat.says("el viernes a las 13")
    assert chat.said == ["booking.time_unavailable", "booking.ask_time"] and "13:00" in reply
    assert chat.asked("time") and "08:00" in reply


def test_an_ambiguous_day_is_asked_back():
    chat = at_the_day_question()
    reply = chat.says("el martes 10")  # the 10th of December is a Thursday
    assert chat.said == ["booking.which_day"]
    assert "1. martes 1 de diciembre" in reply and "2. jueves 10 de diciembre" in reply
    assert "jueves 10 de diciembre" in chat.says("2")
    assert chat.asked("time")


def test_next_week_offers_its_days_with_space():
    chat = at_the_day_question()
    reply = chat.says("la semana que viene")
    assert chat.said == ["booking.days_that_week"]
    assert "1. lunes 30 de noviembre" in reply and "5. viernes 4 de diciembre" in reply
    assert "sábado" not in reply  # nobody works on weekends
    assert "viernes 4 de diciembre" in chat.says("5")


def test_a_time_before_the_day_is_kept_for_later():
    chat = at_the_day_question()
    chat.says("a las 10")
    assert chat.said == ["booking.day_first", "booking.ask_day"]
    chat.says("mañana")
    assert chat.asked("name")
    assert (
        chat.state.draft.slot
        == datetime(2026, 11, 26, 10, 0, tzinfo=ASU).astimezone(UTC).isoformat()
    )


def test_the_time_question_is_narrowed_by_a_part_of_the_day():
    chat = at_the_day_question()
    chat.says("mañana")
    reply = chat.says("a la tarde")
    times = offered_times(reply)
    assert times and all(t >= "14:00" for t in times)
    chat.says("1")
    assert chat.asked("name")


def test_a_part_of_the_day_without_space_is_said():
    chat = at_the_day_question()
    reply = chat.says("mañana a la noche")  # nobody works in the evening
    assert chat.said == ["booking.part_full", "booking.ask_time"] and "noche" in reply
    assert "08:00" in reply and chat.asked("time")


def test_english_and_guarani_days_and_parts():
    chat = Chat(view())
    book_through(chat, ["hello", "1", "1"])
    reply = chat.says("tuesday afternoon")
    assert "Tuesday 1 December" in reply
    assert all(t >= "14:00" for t in offered_times(reply))
    chat = Chat(view())
    book_through(chat, ["mba'éichapa", "1", "1"])
    reply = chat.says("ko'ẽrõ ka'aru")
    assert all(t >= "14:00" for t in offered_times(reply))


def test_a_past_day_and_a_day_beyond_the_horizon_are_pointed_out():
    chat = at_the_day_question()
    chat.says("ayer")
    assert chat.said == ["booking.date_past", "booking.ask_day"]
    assert "30 días" in chat.says("15 de marzo")  # the clinic's horizon
    assert chat.said == ["booking.date_beyond_horizon", "booking.ask_day"]


def test_a_new_day_on_the_time_question_changes_the_day():
    chat = at_the_day_question()
    chat.says("mañana")
    reply = chat.says("mejor el viernes a la tarde")
    assert "viernes 27 de noviembre" in reply
    assert all(t >= "14:00" for t in offered_times(reply))
    assert chat.asked("time")
    chat.says("atrás")
    assert chat.asked("day")  # the way back still leads to the day question
    chat.says("el lunes a las 9")
    assert chat.asked("name")
    assert (
        chat.state.draft.slot
        == datetime(2026, 11, 30, 9, 0, tzinfo=ASU).astimezone(UTC).isoformat()
    )


def test_a_weekday_or_month_with_a_number_is_a_day_of_the_month_not_an_option():
    for said, meant in (
        ("jueves 3", "2026-12-03"),
        ("el viernes 4", "2026-12-04"),
        ("4 de diciembre", "2026-12-04"),
        ("diciembre 3", "2026-12-03"),
    ):
        chat = at_the_day_question()
        chat.says(said)
        assert chat.state.draft.day == meant, said
        assert chat.asked("time")


def test_days_written_in_words_and_relative_to_today():
    for said, meant in (
        ("el primero de diciembre", "2026-12-01"),
        ("dentro de una semana", "2026-12-02"),
        ("in two days", "2026-11-27"),
        ("el tres de diciembre", "2026-12-03"),
    ):
        chat = at_the_day_question()
        chat.says(said)
        assert chat.state.draft.day == meant, said


def test_noon_and_this_afternoon():
    chat = at_the_day_question()
    chat.says("esta tarde")  # today, Wednesday 25: the afternoon's times
    assert chat.state.draft.day == "2026-11-25" and chat.asked("time")
    chat = at_the_day_question()
    reply = chat.says("el viernes al mediodía")  # 12:00 is the break: the times are shown
    assert chat.said == ["booking.time_unavailable", "booking.ask_time"] and "12:00" in reply
