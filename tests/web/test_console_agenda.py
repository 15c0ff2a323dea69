"""The console's agenda through the real app and database: what a day and a week show,
patient-supplied text escaped, the desk's actions and their history, moving an
appointment (the patient is told), block-offs, and the feed the open page polls."""

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.types import ServiceInfo
from store.agenda import add_block_off, remove_block_off
from store.appointments import Actor, mark_arrived
from store.booking import SlotTaken
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentEvent,
    BlockOff,
    Clinic,
    FreedSlot,
    OutboxMessage,
    Service,
)
from tests.console_support import NOW, Desk, add_staff, book_at, console_app
from tests.support import Clock, add_patient, make_clinic
from usecases.stored_availability import StoreAvailability
from web.self_service_forms import SlotChoice

TODAY_10 = NOW + timedelta(hours=1)  # Tuesday 1 December, 10:00 in Asunción
TODAY_11 = NOW + timedelta(hours=2)
TOMORROW_10 = TODAY_10 + timedelta(days=1)
THURSDAY_11 = TODAY_11 + timedelta(days=2)
SCRIPT = "<script>alert(1)</script>"
SLOT = re.compile(r'name="slot" value="([^"]+)"')


@pytest.fixture
def admin(db: Engine, tmp_path, clock: Clock, clinic) -> Desk:
    add_staff(db, clinic.id, "jefa", role="admin")
    desk = Desk(console_app(db, tmp_path, clock).test_client())
    desk.sign_in("jefa")
    return desk


def stored(engine: Engine, appointment_id: int) -> Appointment:
    with Session(engine) as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        return found


def events(engine: Engine, appointment_id: int) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(col(AppointmentEvent.id))
        ).all()
        return [(e.kind, e.actor, e.channel) for e in rows]


def text_of(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_day_shows_each_appointment_in_the_clinic_time_zone(db: Engine, clinic, desk: Desk):
    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    jose = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    book_at(db, clinic, maria, TODAY_10)  # her first visit: a new patient
    book_at(db, clinic, jose, TODAY_11, who="luis", service="dentistry", channel="self_service")
    book_at(db, clinic, jose, TOMORROW_10)  # another day
    page = desk.open("/console/agenda")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="es">' in html
    shown = text_of(html)
    assert "martes 1 de diciembre" in shown
    assert "(2 turnos)" in shown
    assert "10:00–10:30 María Pérez +595981222333 Paciente nuevo" in shown
    assert "Consulta general · Dra. Ana Benítez WhatsApp Reservado" in shown
    assert "11:00–11:45 José Gómez +595981444555 Paciente nuevo" in shown
    assert "Odontología · Dr. Luis Ortiz Página del paciente Reservado" in shown
    assert "miércoles" not in shown
    only_luis = text_of(
        desk.open(f"/console/agenda?professional={clinic.professionals['luis']}").text
    )
    assert "José Gómez" in only_luis and "María Pérez" not in only_luis


def test_every_channel_a_booking_came_by_reads_as_words(db: Engine, clinic, desk: Desk):
    rosa = add_patient(db, clinic.id, "+595981666777", "Rosa Giménez")
    book_at(db, clinic, rosa, TODAY_10, channel="waitlist")  # an offer taken
    shown = text_of(desk.open("/console/agenda").get_data(as_text=True))
    assert "Consulta general · Dra. Ana Benítez Lista de espera Reservado" in shown
    assert " waitlist " not in f" {shown} "


def test_a_first_screen_without_appointments_today_shows_the_next_day_that_has_some(
    db: Engine, clinic, desk: Desk
):
    shown = text_of(desk.open("/console/agenda").get_data(as_text=True))
    assert "Hoy no hay turnos, y tampoco hay turnos más adelante." in shown

    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    book_at(db, clinic, maria, THURSDAY_11)
    page = desk.open("/console/agenda").get_data(as_text=True)
    shown = text_of(page)
    assert "Hoy no hay turnos. El próximo día con turnos es el jueves 3 de diciembre:" in shown
    assert "11:00–11:30 María Pérez" in shown
    assert 'data-feed="/console/agenda/feed?day=2026-12-03"' in page  # it stays on that day
    today = text_of(desk.open("/console/agenda?day=2026-12-01").get_data(as_text=True))
    assert "No hay turnos." in today and "próximo día" not in today  # asked for: as it is


def test_the_week_shows_seven_days_from_monday(db: Engine, clinic, desk: Desk):
    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    book_at(db, clinic, maria, THURSDAY_11)
    shown = text_of(desk.open("/console/agenda?view=week&day=2026-12-02").text)
    assert "semana del lunes 30 de noviembre" in shown
    for day in ["lunes 30 de noviembre", "jueves 3 de diciembre", "domingo 6 de diciembre"]:
        assert day in shown
    assert "11:00–11:30 María Pérez" in shown
    assert "(1 turno)" in shown and "No hay turnos." in shown


def test_bad_agenda_arguments_get_a_clear_400(desk: Desk):
    for query in ["day=2026-13-45", "view=month", "professional=abc", "professional=999"]:
        response = desk.open(f"/console/agenda?{query}")
        assert response.status_code == 400, query
        assert "No se pudo procesar el pedido" in response.text


def test_a_patient_named_like_a_script_is_shown_as_text(db: Engine, clinic, desk: Desk):
    patient = add_patient(db, clinic.id, "+595981222333", SCRIPT, insurance=SCRIPT)
    appointment_id = book_at(db, clinic, patient, TODAY_10)
    for path in [
        "/console/agenda",
        f"/console/appointments/{appointment_id}",
        f"/console/appointments/{appointment_id}/move?day=2026-12-02",
    ]:
        body = desk.open(path).text
        assert SCRIPT not in body, path
        assert "alert(1)" in body, path  # shown, escaped
    response = desk.open("/console/agenda/feed")  # data as data; its HTML escaped
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    feed = json.loads(response.text)
    assert feed["appointments"][0]["patient"] == SCRIPT
    assert SCRIPT not in feed["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in feed["html"]


def test_the_staff_member_reads_the_console_in_their_language(
    db: Engine, tmp_path, clock: Clock, clinic
):
    add_staff(db, clinic.id, "rosa", language="gn")
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    book_at(db, clinic, patient, TODAY_10)
    desk = Desk(console_app(db, tmp_path, clock).test_client())
    desk.sign_in("rosa")
    html = desk.open("/console/agenda").text
    assert '<html lang="gn">' in html
    shown = text_of(html)
    assert "Ko'ára" in shown and "Oñeñongatúma" in shown and "Hasýva pyahu" in shown
    assert "martes" not in shown


def test_the_desk_marks_arrived_then_completed_and_each_step_is_recorded(
    db: Engine, clinic, desk: Desk, clock: Clock
):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TODAY_10)
    path = f"/console/appointments/{appointment_id}"
    desk.open(path)
    done = desk.submit(f"{path}/completed")  # not before it starts
    assert done.location.endswith("notice=refused_not_started")
    assert stored(db, appointment_id).status == "booked"
    desk.open(path)
    assert desk.submit(f"{path}/arrived").location.endswith("notice=done_arrived")
    assert stored(db, appointment_id).status == "arrived"
    clock.advance(hours=1, minutes=5)
    page = desk.open(path).text
    assert "En sala" in page and ">Ausente</button>" not in page  # an arrival is no no-show
    assert desk.submit(f"{path}/completed").location.endswith("notice=done_completed")
    assert stored(db, appointment_id).status == "completed"
    shown = text_of(desk.open(f"{path}?notice=done_completed").text)
    assert "Marcado como atendido." in shown
    assert "Llegó · ana@clinica.example (Consola)" in shown
    assert events(db, appointment_id) == [
        ("arrived", "staff:ana@clinica.example", "console"),
        ("completed", "staff:ana@clinica.example", "console"),
    ]


def test_the_desk_marks_a_no_show_once_the_time_has_come(
    db: Engine, clinic, desk: Desk, clock: Clock
):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TODAY_10)
    path = f"/console/appointments/{appointment_id}"
    desk.open(path)
    assert desk.submit(f"{path}/no_show").location.endswith("notice=refused_not_started")
    clock.advance(hours=1, minutes=20)
    desk.open(path)
    assert desk.submit(f"{path}/no_show").location.endswith("notice=done_no_show")
    desk.open(path)
    assert desk.submit(f"{path}/no_show").location.endswith("notice=already")
    assert stored(db, appointment_id).status == "no_show"
    assert events(db, appointment_id)[-1] == ("no_show", "staff:ana@clinica.example", "console")


def test_the_desk_cancels_and_the_time_is_free_again(db: Engine, clinic, desk: Desk):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    path = f"/console/appointments/{appointment_id}"
    desk.open(path)
    assert desk.submit(f"{path}/cancel").location.endswith("notice=done_cancel")
    assert stored(db, appointment_id).status == "cancelled"
    assert events(db, appointment_id)[-1] == ("cancelled", "staff:ana@clinica.example", "console")
    assert "Cancelado" in desk.open("/console/agenda?day=2026-12-02").text
    other = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    assert book_at(db, clinic, other, TOMORROW_10)  # the freed time can be booked


def test_cancelling_asks_first_and_tells_the_patient_in_their_language(
    db: Engine, clinic, desk: Desk
):
    jane = add_patient(db, clinic.id, "+595981666777", "Jane Smith", language="en")
    appointment_id = book_at(db, clinic, jane, TOMORROW_10)
    path = f"/console/appointments/{appointment_id}"
    page = desk.open(path).get_data(as_text=True)
    assert f'href="{path}/cancel"' in page  # a link to the question, not a form that cancels
    asked = text_of(desk.open(f"{path}/cancel").get_data(as_text=True))
    assert "¿Cancelar este turno?" in asked and "Jane Smith" in asked
    assert "Se le avisará al paciente por WhatsApp" in asked
    assert stored(db, appointment_id).status == "booked"  # asking changed nothing

    assert desk.submit(f"{path}/cancel").location.endswith("notice=done_cancel")
    with Session(db) as session:
        [told] = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_cancelled")
        ).all()
        freed = session.exec(select(FreedSlot)).all()
    assert told.to_phone == "+595981666777" and told.language == "en"
    assert "has cancelled your Consulta general appointment with Dra. Ana Benítez" in told.body
    assert "on Wednesday 2 December at 10:00" in told.body
    assert len(freed) == 1  # the time goes to the waitlist
    assert desk.submit(f"{path}/cancel").location.endswith("notice=already")
    with Session(db) as session:  # told once
        assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_an_arrived_patient_still_holds_the_time(db: Engine, clinic):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TODAY_10)
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        mark_arrived(session, appointment, Actor("staff:ana", "console"), NOW)
    other = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    with pytest.raises(SlotTaken):
        book_at(db, clinic, other, TODAY_10)
    with Session(db) as session:
        general = session.get(Service, clinic.services["general"])
        service = ServiceInfo(general.id, general.name, timedelta(minutes=30))
        availability = StoreAvailability(session, session.get(Clinic, clinic.id), NOW)
        free = availability.slots(service, [clinic.professionals["ana"]], date(2026, 12, 1))
    assert free and TODAY_10 not in [s.starts_at for s in free]


def test_another_clinics_appointment_is_not_found(db: Engine, clinic, desk: Desk):
    other = make_clinic(db, number="+595981999999")
    patient = add_patient(db, other.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, other, patient, TOMORROW_10)
    assert desk.open(f"/console/appointments/{appointment_id}").status_code == 404
    assert desk.open(f"/console/appointments/{appointment_id}/move").status_code == 404
    desk.open("/console/agenda")
    assert desk.submit(f"/console/appointments/{appointment_id}/cancel").status_code == 404
    assert stored(db, appointment_id).status == "booked"


def test_moving_an_appointment_tells_the_patient_in_their_language(db: Engine, clinic, desk: Desk):
    patient = add_patient(db, clinic.id, "+595981222333", "Mary Smith", language="en")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    choice = desk.open(f"/console/appointments/{appointment_id}/move?day=2026-12-03")
    assert choice.status_code == 200
    wanted = SlotChoice(THURSDAY_11, clinic.professionals["ana"]).encode()
    assert wanted in SLOT.findall(choice.text)
    moved = desk.submit(
        f"/console/appointments/{appointment_id}/move",
        {"slot": wanted, "professional": str(clinic.professionals["ana"])},
    )
    assert moved.location.endswith("notice=moved")
    appointment = stored(db, appointment_id)
    assert (appointment.starts_at, appointment.status) == (THURSDAY_11, "booked")
    assert events(db, appointment_id)[-1] == (
        "rescheduled",
        "staff:ana@clinica.example",
        "console",
    )
    with Session(db) as session:
        message = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_moved")
        ).one()
    assert message.to_phone == "+595981222333" and message.language == "en"
    assert message.template == "console.appointment_moved"
    assert message.appointment_id == appointment_id and message.not_after == THURSDAY_11
    assert "has moved your Consulta general appointment with Dra. Ana Benítez" in message.body
    assert "It is now on Thursday 3 December at 11:00." in message.body
    assert "/a/" in message.body  # the self-service link
    assert "Turno cambiado. Le avisamos al paciente" in desk.open(moved.location).text


def test_a_time_taken_meanwhile_leaves_the_appointment_as_it_was(db: Engine, clinic, desk: Desk):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    choice = desk.open(f"/console/appointments/{appointment_id}/move?day=2026-12-03")
    wanted = SlotChoice(THURSDAY_11, clinic.professionals["ana"]).encode()
    assert wanted in SLOT.findall(choice.text)
    other = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    book_at(db, clinic, other, THURSDAY_11)  # the bot books it while the desk looks
    refused = desk.submit(f"/console/appointments/{appointment_id}/move", {"slot": wanted})
    assert refused.status_code == 303 and "notice=taken" in refused.location
    assert stored(db, appointment_id).starts_at == TOMORROW_10
    assert "Ese horario se acaba de ocupar" in desk.open(refused.location).text
    with Session(db) as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_a_forged_or_unknown_slot_is_a_clear_400(db: Engine, clinic, desk: Desk):
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    desk.open(f"/console/appointments/{appointment_id}/move")
    path = f"/console/appointments/{appointment_id}/move"
    elsewhere = SlotChoice(THURSDAY_11, 999).encode()  # nobody of this clinic
    past = SlotChoice(NOW - timedelta(days=1), clinic.professionals["ana"]).encode()
    for slot in ["", "tomorrow", elsewhere, past]:
        assert desk.submit(path, {"slot": slot}).status_code == 400, slot
    assert stored(db, appointment_id).starts_at == TOMORROW_10


def test_admins_block_the_whole_clinic_and_no_time_is_offered_then(db: Engine, clinic, admin: Desk):
    admin.open("/console/block-offs")
    added = admin.submit(
        "/console/block-offs",
        {
            "professional": "",
            "start_day": "2026-12-03",
            "start_time": "00:00",
            "end_day": "2026-12-04",
            "end_time": "00:00",
            "reason": "Feriado <b>",
        },
    )
    assert added.location == "/console/block-offs?notice=added"
    page = admin.open(added.location).text
    assert "Feriado &lt;b&gt;" in page and "Toda la clínica" in page
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    choice = admin.open(f"/console/appointments/{appointment_id}/move?day=2026-12-03")
    assert SLOT.findall(choice.text) == []
    assert "No hay horarios libres ese día" in choice.text
    assert "Bloqueado" in admin.open("/console/agenda?day=2026-12-03").text
    with Session(db) as session:
        block = session.exec(select(BlockOff)).one()
    admin.open("/console/block-offs")
    removed = admin.submit(f"/console/block-offs/{block.id}/delete")
    assert removed.location == "/console/block-offs?notice=removed"
    assert SLOT.findall(admin.open(choice.request.path + "?day=2026-12-03").text)
    with Session(db) as session:  # the waitlist is offered the time the block-off covered
        freed = session.exec(select(FreedSlot)).one()
    assert (freed.why, freed.professional_id) == ("block_off_removed", None)
    assert (freed.starts_at, freed.ends_at) == (block.starts_at, block.ends_at)


def test_a_block_off_for_one_professional_and_bad_block_offs(db: Engine, clinic, admin: Desk):
    admin.open("/console/block-offs")
    luis = str(clinic.professionals["luis"])
    form = {"start_day": "2026-12-03", "start_time": "09:00", "end_time": "11:00"}
    added = admin.submit(
        "/console/block-offs", {**form, "end_day": "2026-12-03", "professional": luis}
    )
    assert added.status_code == 303
    with Session(db) as session:
        block = session.exec(select(BlockOff)).one()
        assert block.professional_id == int(luis)
        assert (block.starts_at.hour, block.ends_at.hour) == (12, 14)  # UTC for 09:00–11:00
    for bad in [
        {**form, "end_day": "2026-12-02"},  # ends before it starts
        {**form, "end_day": "not a day"},
        {**form, "end_day": "2026-12-03", "professional": "999"},
    ]:
        admin.open("/console/block-offs")
        response = admin.submit("/console/block-offs", bad)
        assert response.status_code == 422, bad
        assert "Revisá las fechas" in response.text
    assert admin.submit("/console/block-offs", {**form, "professional": "x"}).status_code == 400
    assert admin.submit("/console/block-offs/999/delete").status_code == 404


def test_the_feed_changes_when_the_bot_books(db: Engine, clinic, desk: Desk):
    first = json.loads(desk.open("/console/agenda/feed").text)
    assert first["appointments"] == []
    again = json.loads(desk.open("/console/agenda/feed").text)
    assert again["stamp"] == first["stamp"]
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    book_at(db, clinic, patient, TODAY_11)
    after = json.loads(desk.open("/console/agenda/feed").text)
    assert after["stamp"] != first["stamp"]
    assert [
        (a["patient"], a["source_channel"], a["new_patient"]) for a in after["appointments"]
    ] == [("María Pérez", "whatsapp", True)]
    assert "María Pérez" in after["html"]
    page = desk.open("/console/agenda").text
    assert 'data-feed="/console/agenda/feed"' in page
    assert f'data-stamp="{after["stamp"]}"' in page


def test_the_feed_changes_when_a_block_off_is_added_or_removed(db: Engine, clinic, desk: Desk):
    """Another desk closing the afternoon shows on an open agenda without a reload."""
    first = desk.open("/console/agenda/feed").get_json()
    with transaction(db) as session:
        block = add_block_off(
            session,
            clinic.id,
            starts_at=TODAY_11,
            ends_at=TODAY_11 + timedelta(hours=3),
            professional_id=None,
            reason="corte de luz",
        )
    closed = desk.open("/console/agenda/feed").get_json()
    assert closed["stamp"] != first["stamp"]
    assert "corte de luz" in closed["html"]
    with transaction(db) as session:
        remove_block_off(session, clinic.id, block.id or 0, TODAY_11)
    assert desk.open("/console/agenda/feed").get_json()["stamp"] == first["stamp"]
