"""Campaigns from the preview to the results: the three situations a clinic meets (a sick
professional's afternoon, a holiday closure, a changed Friday), each through the real
twilio client to the fake Twilio and its signed status callbacks back to the webhook; and
what must never happen (twice to one phone, a message after the stop, a send to nobody)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from scheduler.dispatcher import dispatch_due
from scheduler.worker import dispatch_job
from store.campaigns import INVALID, OPTED_OUT, PAUSED, STOPPED, Filters, results
from store.message_kinds import MessageKind
from store.models import Campaign, CampaignStatus
from tests.campaign_support import LINKS, Person, by_phone, seat, sent, tags_of
from tests.notification_support import writes
from tests.support import Chat, Clock
from tests.support import TestClinic as SmallClinic
from tests.window_support import approve, live, variables_sent
from usecases.campaigns import Draft, create, draft_problems, preview, start, start_due, stop

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday morning
TODAY, FRIDAY, MONDAY = date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)
VARIABLES = {"1": "patient_name", "2": "date", "3": "time", "4": "professional"}

ROSA = Person("+595981000001", "Rosa Giménez", "es")  # wrote this morning: text
JUAN = Person("+595981000002", "Juan Pérez", "es")  # silent: the approved template
MARY = Person("+595981000003", "Mary Smith", "en")  # silent, no English template
KARAI = Person("+595981000004", "Karai Ñandu", "gn")  # silent: the Guarani template
PAUSA = Person("+595981000005", "Pedro Pausa", "es", (("bot_paused", True),))
BAJA = Person("+595981000006", "Berta Baja", "es", (("opted_out", True),))
MAL = Person("+595981000007", "Mario Mal", "es", (("unreachable", "invalid"),))
LUZ = Person("+595981000008", "Luz Silva", "es")  # last wrote yesterday morning


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ASU).astimezone(UTC)


def go(db: Engine, clinic: SmallClinic, draft: Draft, clock: Clock, token: str = "form-1") -> int:
    made = create(
        db, clinic.id, draft, token=token, send_at=None, by="staff:ana", now=clock(), links=LINKS
    )
    assert made.refused is None and made.campaign_id is not None
    return made.campaign_id


def results_of(db: Engine, campaign_id: int):
    with Session(db) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign, results(session, campaign)


def test_a_sick_professionals_afternoon(db: Engine, clock: Clock, clinic: SmallClinic) -> None:
    for person, hour, minute in [(ROSA, 14, 0), (JUAN, 15, 0), (MARY, 15, 30), (KARAI, 16, 0)]:
        seat(db, clinic, person, at(TODAY, hour, minute))
    seat(db, clinic, PAUSA, at(TODAY, 13, 30))
    seat(db, clinic, KARAI, at(TODAY, 17))  # Karai's second appointment that afternoon
    seat(db, clinic, BAJA, at(TODAY, 16, 30))
    seat(db, clinic, MAL, at(TODAY, 17, 30))
    seat(db, clinic, JUAN, at(TODAY, 10))  # her morning: not in it
    seat(db, clinic, ROSA, at(TODAY, 14), professional="luis")  # another professional
    seat(db, clinic, ROSA, at(FRIDAY, 14))  # another day
    writes(db, clinic.id, ROSA.phone, clock() - timedelta(hours=1))
    approve(db, clinic.id, MessageKind.campaign_reschedule, "es", "HX" + "1" * 32, VARIABLES)
    approve(db, clinic.id, MessageKind.campaign_reschedule, "gn", "HX" + "2" * 32, VARIABLES)
    draft = Draft(
        MessageKind.campaign_reschedule,
        Filters(TODAY, TODAY, "afternoon", professionals=(clinic.professionals["ana"],)),
    )

    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert seen.messages == 4 and seen.appointments == 8
    assert seen.excluded == {PAUSED: 1, OPTED_OUT: 1, INVALID: 1}
    assert seen.not_sendable == 1  # Mary: no English template
    bodies = {s.phone: s for s in seen.samples}
    assert "no va a poder atenderte" in bodies[ROSA.phone].body
    assert "will not be able to see you" in bodies[MARY.phone].body
    assert not bodies[MARY.phone].sendable and bodies[KARAI.phone].as_template
    assert "2 turno" in bodies[KARAI.phone].body and "17:00" in bodies[KARAI.phone].body

    campaign_id = go(db, clinic, draft, clock)
    again = create(
        db, clinic.id, draft, token="form-1", send_at=None, by="staff:ana", now=clock(), links=LINKS
    )
    assert (again.campaign_id, again.new, again.queued) == (campaign_id, False, 0)
    assert start(db, campaign_id, clock(), LINKS) == 0  # started already
    rows = by_phone(db, campaign_id)
    assert set(rows) == {ROSA.phone, JUAN.phone, MARY.phone, KARAI.phone}
    assert tags_of(rows[JUAN.phone])["time"] == "15:00"

    with live(db, clock, send_callbacks=True) as server:
        dispatch_job(db, server.channel, clock)
        server.fake.wait_for_callbacks()
        at_twilio = {m["to"].removeprefix("whatsapp:"): m for m in server.fake.messages}
    assert set(at_twilio) == {ROSA.phone, JUAN.phone, KARAI.phone}
    assert "no va a poder atenderte" in at_twilio[ROSA.phone]["body"]
    assert at_twilio[JUAN.phone]["content_sid"] == "HX" + "1" * 32
    assert at_twilio[KARAI.phone]["content_sid"] == "HX" + "2" * 32

    campaign, found = results_of(db, campaign_id)
    assert (campaign.status, campaign.created_by, found.recipients) == ("sending", "staff:ana", 4)
    assert (found.sent, found.delivered, found.failed, found.pending) == (3, 3, 1, 0)


def test_a_holiday_closure_of_all_monday(db: Engine, clock: Clock, clinic: SmallClinic) -> None:
    seat(db, clinic, ROSA, at(MONDAY, 9))
    seat(db, clinic, MARY, at(MONDAY, 11), professional="luis", service="dentistry")
    seat(db, clinic, KARAI, at(MONDAY, 15), status="confirmed")
    seat(db, clinic, LUZ, at(MONDAY, 14))  # silent for days: the approved template
    seat(db, clinic, BAJA, at(MONDAY, 16))
    seat(db, clinic, PAUSA, at(MONDAY, 8, 30))
    seat(db, clinic, MAL, at(MONDAY, 17), professional="luis")
    seat(db, clinic, JUAN, at(MONDAY, 10), status="cancelled")  # not coming anyway
    for person in (ROSA, MARY, KARAI, PAUSA, MAL):
        writes(db, clinic.id, person.phone, clock() - timedelta(minutes=30))
    writes(db, clinic.id, LUZ.phone, clock() - timedelta(hours=30))  # the window has closed
    approve(db, clinic.id, MessageKind.campaign_closure, "es", "HX" + "4" * 32, VARIABLES)
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))

    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert (seen.messages, seen.appointments, seen.not_sendable) == (4, 7, 0)
    assert seen.excluded == {OPTED_OUT: 1, PAUSED: 1, INVALID: 1}
    samples = {s.phone: s.as_template for s in seen.samples}
    assert samples == {ROSA.phone: False, MARY.phone: False, KARAI.phone: False, LUZ.phone: True}

    campaign_id = go(db, clinic, draft, clock)
    rows = by_phone(db, campaign_id)
    assert set(rows) == {ROSA.phone, MARY.phone, KARAI.phone, LUZ.phone}
    assert "va a estar cerrada" in rows[ROSA.phone].body
    assert "will be closed" in rows[MARY.phone].body and "Odontología" in rows[MARY.phone].body
    assert "oñembotýta" in rows[KARAI.phone].body

    with live(db, clock, send_callbacks=True) as server:
        dispatch_job(db, server.channel, clock)
        server.fake.wait_for_callbacks()
        at_twilio = {m["to"].removeprefix("whatsapp:"): m for m in server.fake.messages}
    assert {phone: m["content_sid"] for phone, m in at_twilio.items()} == {
        ROSA.phone: None,  # wrote within the day: as text
        MARY.phone: None,
        KARAI.phone: None,
        LUZ.phone: "HX" + "4" * 32,  # outside the window: the approved template
    }
    assert "va a estar cerrada" in at_twilio[ROSA.phone]["body"]
    assert variables_sent(at_twilio[LUZ.phone])["1"] == "Luz Silva"
    _, found = results_of(db, campaign_id)
    assert (found.recipients, found.sent, found.delivered, found.failed) == (4, 4, 4, 0)


def test_a_friday_schedule_change_to_pending_appointments_only(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    seat(db, clinic, ROSA, at(FRIDAY, 9))
    seat(db, clinic, JUAN, at(FRIDAY, 10), status="confirmed")  # confirmed: not asked again
    seat(db, clinic, PAUSA, at(FRIDAY, 11))
    seat(db, clinic, MARY, at(FRIDAY, 15))
    seat(db, clinic, BAJA, at(FRIDAY, 15, 30))
    seat(db, clinic, MAL, at(FRIDAY, 16))
    seat(db, clinic, ROSA, at(FRIDAY, 10), professional="luis")  # another professional
    for person in (ROSA, PAUSA, BAJA, MAL):  # Pedro is talking to the desk
        writes(db, clinic.id, person.phone, clock() - timedelta(hours=2))
    approve(db, clinic.id, MessageKind.campaign_schedule_change, "en", "HX" + "3" * 32, VARIABLES)
    draft = Draft(
        MessageKind.campaign_schedule_change,
        Filters(FRIDAY, FRIDAY, statuses=("booked",), professionals=(clinic.professionals["ana"],)),
    )
    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert (seen.messages, seen.appointments, seen.not_sendable) == (2, 5, 0)
    assert seen.excluded == {PAUSED: 1, OPTED_OUT: 1, INVALID: 1}
    with_paused = Draft(draft.kind, draft.filters, include_paused=True)
    seen = preview(db, clinic.id, with_paused, clock(), LINKS)
    assert (seen.messages, seen.excluded) == (3, {OPTED_OUT: 1, INVALID: 1})

    campaign_id = go(db, clinic, with_paused, clock)
    assert set(by_phone(db, campaign_id)) == {ROSA.phone, PAUSA.phone, MARY.phone}
    with live(db, clock, send_callbacks=True) as server:
        dispatch_job(db, server.channel, clock)
        server.fake.wait_for_callbacks()
        at_twilio = {m["to"].removeprefix("whatsapp:"): m for m in server.fake.messages}
    assert {phone: m["content_sid"] for phone, m in at_twilio.items()} == {
        ROSA.phone: None,  # the desk included Pedro; both wrote lately: as text
        PAUSA.phone: None,
        MARY.phone: "HX" + "3" * 32,  # silent: the approved template
    }
    assert "Cambió el horario" in at_twilio[ROSA.phone]["body"]
    _, found = results_of(db, campaign_id)
    assert (found.recipients, found.delivered) == (3, 3)


def test_a_stop_midway_sends_nothing_more_and_a_second_stop_says_so(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    people = [Person(f"+5959810100{n:02d}", f"Paciente {n}") for n in range(12)]
    for n, person in enumerate(people):
        seat(db, clinic, person, at(MONDAY, 8) + timedelta(minutes=30 * n))
        writes(db, clinic.id, person.phone, clock())
    campaign_id = go(
        db, clinic, Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY)), clock
    )
    with live(db, clock) as server:
        dispatch_due(db, server.channel, clock(), limit=5)  # a first batch
        first = len(server.fake.messages)
        assert 0 < first < 12
        withdrawn = stop(db, clinic.id, campaign_id, "staff:ana", clock())
        assert withdrawn is not None and first + withdrawn == 12
        assert stop(db, clinic.id, campaign_id, "staff:ana", clock()) is None
        clock.advance(minutes=5)
        dispatch_job(db, server.channel, clock)
        assert len(server.fake.messages) == first
    assert {r.error_message for r in sent(db, campaign_id) if r.status == "skipped"} == {STOPPED}
    campaign, found = results_of(db, campaign_id)
    assert campaign.status == CampaignStatus.stopped and found.skipped == withdrawn


def test_a_scheduled_campaign_fixes_its_recipients_when_it_starts(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    seat(db, clinic, ROSA, at(MONDAY, 9))
    draft = Draft(MessageKind.campaign_reminder, Filters(MONDAY, MONDAY))
    later = clock() + timedelta(hours=2)
    made = create(
        db, clinic.id, draft, token="t", send_at=later, by="api", now=clock(), links=LINKS
    )
    assert made.campaign_id is not None and made.queued == 0
    assert start_due(db, clock(), LINKS) == 0  # not yet
    clock.now = later
    seat(db, clinic, JUAN, at(MONDAY, 10))  # booked before it starts: in it
    assert start_due(db, clock(), LINKS) == 2
    seat(db, clinic, MARY, at(MONDAY, 11))  # booked after it started: not added
    assert start_due(db, clock(), LINKS) == 0
    assert set(by_phone(db, made.campaign_id)) == {ROSA.phone, JUAN.phone}


@pytest.mark.parametrize(
    ("draft", "send_in", "refused"),
    [
        (Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY)), None, "no_recipients"),
        (Draft(MessageKind.campaign_closure, Filters(FRIDAY, FRIDAY)), -1, "in_the_past"),
        (Draft(MessageKind.campaign_text, Filters(FRIDAY, FRIDAY), "x" * 10_000), None, "invalid"),
        (
            Draft(MessageKind.campaign_text, Filters(FRIDAY, FRIDAY), "Hola {nombre}"),
            None,
            "invalid",
        ),
        (
            Draft(MessageKind.campaign_closure, Filters(FRIDAY, MONDAY - timedelta(7))),
            None,
            "invalid",
        ),
    ],
)
def test_what_cannot_be_sent_is_refused_with_its_reason(
    db: Engine,
    clock: Clock,
    clinic: SmallClinic,
    draft: Draft,
    send_in: int | None,
    refused: str,
) -> None:
    seat(db, clinic, ROSA, at(FRIDAY, 9))
    send_at = None if send_in is None else clock() + timedelta(hours=send_in)
    made = create(
        db, clinic.id, draft, token="t", send_at=send_at, by="api", now=clock(), links=LINKS
    )
    assert (made.campaign_id, made.refused) == (None, refused)


def test_the_desks_own_text_is_checked_and_filled_per_patient(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    problems = draft_problems(
        Draft(MessageKind.campaign_text, Filters(FRIDAY, FRIDAY), "Hola {nombre} {date")
    )
    assert [p.kind for p in problems] == ["broken_braces"]
    unknown = draft_problems(Draft(MessageKind.campaign_text, Filters(FRIDAY, FRIDAY), "{nombre}"))
    assert [(p.kind, p.tags) for p in unknown] == [("unknown_tags", ("nombre",))]
    seat(db, clinic, ROSA, at(FRIDAY, 9))
    seat(db, clinic, MARY, at(FRIDAY, 10))
    text = "Hola {patient_name}: el {date} a las {time} traé tus estudios. {clinic_name}"
    campaign_id = go(
        db, clinic, Draft(MessageKind.campaign_text, Filters(FRIDAY, FRIDAY), text), clock
    )
    rows = by_phone(db, campaign_id)
    assert (
        rows[ROSA.phone].body
        == "Hola Rosa Giménez: el viernes 27 de noviembre a las 09:00 traé tus estudios."
        " Clínica Test"
    )
    assert rows[MARY.phone].body.startswith("Hola Mary Smith: el Friday")


def test_a_reply_to_a_reschedule_request_moves_or_cancels_its_appointment(
    db: Engine, clock: Clock, clinic: SmallClinic, chat: Chat
) -> None:
    patient = Person(chat.phone, "Rosa Giménez", "es")
    seat(db, clinic, patient, at(FRIDAY, 9))
    draft = Draft(MessageKind.campaign_reschedule, Filters(FRIDAY, FRIDAY))
    [message] = sent(db, go(db, clinic, draft, clock))
    assert "1️⃣ para elegir otro horario\n2️⃣ para cancelarlo" in message.body
    chat.says("cancelar")
    assert chat.asked("manage.ask_cancel")  # confirmed first
    chat.says("no")
    chat.says("cambiar turno")
    assert chat.asked("manage.ask_move_day")
