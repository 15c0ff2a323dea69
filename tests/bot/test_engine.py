"""The engine on plain data: no database, no Flask, no Twilio."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.availability import BookingRules, ProfessionalSchedule, ScheduleAvailability
from bot.effects import Book, SetLanguage
from bot.engine import step
from bot.render import render_all
from bot.types import (
    ClinicInfo,
    ClinicView,
    ConversationState,
    Inbound,
    PersonInfo,
    ProfessionalInfo,
    ServiceInfo,
)

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU).astimezone(UTC)


def view(
    people: list[PersonInfo] | None = None, now: datetime = NOW, full: date | None = None
) -> ClinicView:
    """Two professionals, Monday to Saturday 8–12; `full`: a day both are booked all of."""
    rules = BookingRules(ASU, timedelta(hours=1), 30, timedelta(minutes=30))
    weekly = {d: [(time(8), time(12))] for d in range(6)}
    busy = ()
    if full is not None:
        busy = ((datetime.combine(full, time(8), ASU), datetime.combine(full, time(12), ASU)),)
    schedules = {p: ProfessionalSchedule(p, weekly, busy) for p in (1, 2)}
    return ClinicView(
        clinic=ClinicInfo(1, "Clínica Demo", rules, address="Av. España 1"),
        services=[ServiceInfo(1, "Consulta", timedelta(minutes=30))],
        professionals=[
            ProfessionalInfo(1, "Dra. Ana Benítez", frozenset({1})),
            ProfessionalInfo(2, "Dr. Luis Ortiz", frozenset({1})),
        ],
        people=people or [],
        availability=ScheduleAvailability(schedules, rules, now),
        now=now,
    )


class Chat:
    """A conversation driven straight through `step`."""

    def __init__(self, clinic: ClinicView) -> None:
        self.view = clinic
        self.state = ConversationState()
        self.effects: list = []
        self.said: list[str] = []  # the template keys of the last turn's replies

    def says(self, text: str = "", **inbound: object) -> str:
        turn = step(self.state, Inbound(text=text, **inbound), self.view)
        self.state = turn.state
        self.effects += turn.effects
        self.said = [reply.template for reply in turn.replies]
        return render_all(turn.replies, self.state.language or "es")

    def asked(self, state: str) -> bool:
        return self.state.state == state


def book_through(chat: Chat, answers: list[str]) -> None:
    for answer in answers:
        chat.says(answer)


def test_booking_in_english():
    chat = Chat(view())
    assert "Which service" in chat.says("Hello")
    assert chat.state.language == "en"
    assert "First available" in chat.says("1")
    assert "Thursday 26 November" in chat.says("first available")
    book_through(chat, ["tomorrow", "9:30", "John Smith", "skip"])
    assert "Shall I book it?" in chat.says("skip")
    chat.says("yes")
    [booking] = [e for e in chat.effects if isinstance(e, Book)]
    assert booking.starts_at == datetime(2026, 11, 26, 9, 30, tzinfo=ASU).astimezone(UTC)
    assert booking.language == "en"
    reply = chat.says(event="booked", data={"code": "K7M2QP"})
    assert "Confirmation code: K7M2QP" in reply and "Thursday 26 November at 09:30" in reply
    assert chat.asked("done")


def test_booking_in_guarani():
    chat = Chat(view())
    assert "servicio" in chat.says("Mba'éichapa")
    assert chat.state.language == "gn"
    chat.says("1")
    assert "Arapo 26 Jasypateĩ" in chat.says("oimeraẽ")  # a Thursday
    book_through(chat, ["ko'ẽrõ", "10:00", "Ña Ramona Ayala", "embohasa", "embohasa"])
    assert chat.asked("review")
    chat.says("heẽ")
    reply = chat.says(event="booked", data={"code": "K7M2QP"})
    assert "Oĩma" in reply and "K7M2QP" in reply


def test_a_taken_slot_offers_fresh_times_and_keeps_the_draft():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "08:00", "Ana Paz", "-", "-", "si"])
    assert chat.asked("booking")
    chat.says(event="slot_taken")
    assert chat.said == ["booking.slot_taken", "booking.ask_time"] and chat.asked("time")
    assert chat.state.draft.name == "Ana Paz"


def test_back_goes_one_question_back_each_time():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "2", "mañana"])
    assert chat.asked("time")
    chat.says("atrás")
    assert chat.asked("day")
    chat.says("volver")
    assert chat.asked("professional")


def test_a_known_person_is_offered_and_skips_details():
    chat = Chat(view(people=[PersonInfo(7, "Rosa Giménez")]))
    assert "Rosa Giménez" in chat.says("hola")
    assert chat.said == ["booking.greeting_known", "booking.ask_service"]
    book_through(chat, ["1", "1", "mañana", "1"])
    assert chat.asked("who")
    chat.says("rosa")
    assert chat.asked("review")


def test_waiting_for_the_booking_says_so():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "08:00", "Ana Paz", "-", "-", "si"])
    chat.says("hola?")
    assert chat.said == ["booking.please_wait"] and chat.asked("booking")


@pytest.mark.parametrize("text", ["", "   ", "🙂", "x" * 5000, "\u200b", "<script>", "%s{0}"])
def test_odd_input_never_breaks_a_question(text: str):
    chat = Chat(view())
    chat.says("hola")
    chat.says(text)
    assert chat.said == ["booking.not_understood", "booking.ask_service"]
    assert chat.asked("service")


def test_a_service_withdrawn_mid_conversation_ends_politely():
    chat = Chat(view())
    book_through(chat, ["hola", "1"])
    chat.view = ClinicView(**{**chat.view.__dict__, "services": []})
    chat.says("1")
    assert chat.asked("done")


def test_a_state_from_an_older_flow_starts_over():
    chat = Chat(view())
    chat.state.state = "a_state_that_no_longer_exists"
    chat.says("hola")
    assert chat.said == ["booking.greeting", "booking.ask_service"] and chat.asked("service")


def test_the_nearest_days_to_a_full_day_can_be_chosen_by_number():
    chat = Chat(view(full=date(2026, 12, 19)))
    book_through(chat, ["hola", "1", "1"])
    reply = chat.says("sábado 19/12")  # every time taken
    assert chat.said == ["waitlist.day_full"] and "lunes 21 de diciembre" in reply
    assert chat.state.options[-1] == "waitlist"  # its waitlist, after the nearest days
    assert "lunes 21 de diciembre" in chat.says("1")
    assert chat.said == ["booking.ask_time"] and chat.asked("time")


@pytest.mark.parametrize("asked", ["domingo 20/12", "el domingo 20", "dom 20 de diciembre"])
def test_a_day_nobody_works_is_said_closed_and_has_no_waitlist(asked: str):
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1"])
    reply = chat.says(asked)
    assert chat.said == ["booking.day_closed"] and "no se atiende" in reply
    assert "lista de espera" not in reply and "waitlist" not in chat.state.options
    assert "lunes 21 de diciembre" in chat.says("1")
    assert chat.said == ["booking.ask_time"] and chat.asked("time")


def test_thanks_after_booking_gets_a_kind_word_not_the_menu():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "08:00", "Ana Paz", "-", "-", "si"])
    chat.says(event="booked", data={"code": "K7M2QP"})
    chat.says("¡Muchas gracias!")
    assert chat.said == ["booking.you_are_welcome"] and chat.asked("done")
    chat.says("hola")  # and a new message starts again
    assert chat.said[-1] == "booking.ask_service" and chat.asked("service")


def test_thanks_mid_booking_keeps_the_question():
    chat = Chat(view())
    book_through(chat, ["hola", "1"])
    reply = chat.says("gracias")
    assert chat.said == ["booking.you_are_welcome", "booking.ask_professional"]
    assert "Dra. Ana Benítez" in reply and chat.asked("professional")


@pytest.mark.parametrize("greeting", ["hola", "Buenas tardes", "hello", "mba'éichapa"])
def test_a_greeting_mid_booking_is_greeted_and_the_question_kept(greeting: str):
    chat = Chat(view())
    book_through(chat, ["hola", "1"])
    reply = chat.says(greeting)
    assert chat.said == ["booking.greeted_again", "booking.ask_professional"]
    assert "Dra. Ana Benítez" in reply and chat.asked("professional")
    chat.says("xyz")  # anything else is still not understood
    assert chat.said == ["booking.not_understood", "booking.ask_professional"]


def test_a_tap_takes_a_day_offered_around_a_full_day_whatever_its_title_says():
    chat = Chat(view(full=date(2026, 11, 28)))
    for text in ("hola", "1", "1"):
        chat.says(text)
    assert "sábado 28 de noviembre" in chat.says("el sábado")
    assert chat.said == ["waitlist.day_full"]
    assert chat.state.options[-2:] == ["2026-12-04", "waitlist"]  # not among the usual five
    # a list item's title is cut to 24 characters, and the tap's text is that title
    reply = chat.says("viernes 4 de…", payload="2026-12-04")
    assert chat.said == ["booking.ask_time"] and "viernes 4 de diciembre" in reply


def test_a_stale_tap_is_never_applied():
    chat = Chat(view())
    chat.says("hola")
    chat.says("Consulta", payload="1", stale=True)
    assert chat.said == ["booking.stale_tap", "booking.ask_service"]
    assert chat.asked("service")
    chat.says("Confirmar", payload="confirm:7", stale=True)
    assert chat.said[0] == "manage.gone"
    assert [type(e) for e in chat.effects] == [SetLanguage]  # from "hola": nothing else


def test_the_review_shows_the_id_number_and_insurance_just_given():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "9:30", "Ramona Ayala", "4567890"])
    review = chat.says("IPS, plan familiar")
    assert chat.asked("review")
    assert "👤 Ramona Ayala\n🪪 DNI/CI 4567890 · 🏥 IPS, plan familiar\n🩺 Consulta" in review


def test_the_review_has_no_empty_line_for_what_was_skipped():
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "9:30", "Ramona Ayala", "saltar"])
    review = chat.says("IPS")
    assert "👤 Ramona Ayala\n🏥 IPS\n🩺 Consulta" in review
    chat = Chat(view())
    book_through(chat, ["hola", "1", "1", "mañana", "9:30", "Ramona Ayala", "saltar"])
    assert "👤 Ramona Ayala\n🩺 Consulta" in chat.says("saltar")


def test_a_detail_given_before_its_question_is_acknowledged_then_used_there():
    chat = Chat(view())
    chat.says("hola quiero un turno")
    assert chat.asked("service")
    reply = chat.says("el lunes")  # the day, at the service question
    assert chat.said[0] == "booking.noted_for_later" and chat.asked("service")
    assert "Anotado" in reply and "Consulta" in reply  # said so, and the menu again
    reply = chat.says("cualquiera")  # anyone will do: the professional, noted too
    assert chat.said[0] == "booking.noted_for_later" and chat.asked("service")
    reply = chat.says("1")
    assert chat.asked("time")  # neither the professional nor the day asked again
    assert "lunes 30 de noviembre" in reply


@pytest.mark.parametrize(
    ("greeting", "later", "noted"),
    [
        ("hello", "on monday", "Noted"),
        ("mba'éichapa", "arakõi", "añongatu"),
    ],
)
def test_a_detail_kept_for_later_is_acknowledged_in_each_language(greeting, later, noted):
    chat = Chat(view())
    chat.says(greeting)
    reply = chat.says(later)
    assert chat.said[0] == "booking.noted_for_later" and noted in reply


def clinica_view() -> ClinicView:
    """The demo's naming: "Consulta clínica" at "Clínica San Roque", so that service has no
    word of its own (the clinic's name has "clínica"); it is found by what patients call it."""
    base = view()
    services = [
        ServiceInfo(1, "Consulta clínica", timedelta(minutes=30)),
        ServiceInfo(2, "Odontología", timedelta(minutes=30)),
        ServiceInfo(3, "Pediatría", timedelta(minutes=30)),
    ]
    return replace(
        base,
        clinic=replace(base.clinic, name="Clínica San Roque"),
        services=services,
        professionals=[replace(p, service_ids=frozenset({1, 2, 3})) for p in base.professionals],
    )


MISSPELT = ["consulta jeneral", "medico jeneral porfa", "un control jeneral", "consulta general"]


@pytest.mark.parametrize("said", MISSPELT)
def test_what_patients_call_a_service_is_understood_misspelt(said: str) -> None:
    chat = Chat(clinica_view())
    chat.says("hola")
    chat.says(said)
    assert chat.state.draft.service == 1 and chat.asked("professional"), chat.said


@pytest.mark.parametrize(
    "said", ["quiero ir a la clinica", "una consulta nomas", "where is the clinic?"]
)
def test_a_word_a_letter_from_a_services_name_names_no_service(said: str) -> None:
    chat = Chat(clinica_view())
    chat.says("hola")
    chat.says(said)
    assert chat.state.draft.service is None
