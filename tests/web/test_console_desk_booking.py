"""Booking at the desk for a patient who calls or comes in (SQLite, and PostgreSQL when
DATABASE_URL names one): the patient is found or named on the phone, staff-only services
can be booked, a time just taken books nothing, and the booking confirmation is planned
for the patient as for any booking made outside the chat."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.models import Appointment, Notification, Patient
from tests.console_support import NOW, Desk, book_at
from tests.support import add_patient
from web.self_service_forms import SlotChoice

TOMORROW_10 = NOW + timedelta(days=1, hours=1)  # Wednesday 10:00 in Asunción
PHONE = "+595981222333"


def times_page(desk: Desk, clinic, **fields: str):
    query = {
        "phone": "0981 222 333",
        "name": "Rosa Giménez",
        "service": str(clinic.services["general"]),
        "channel": "phone",
        "day": TOMORROW_10.date().isoformat(),
        "professional": str(clinic.professionals["ana"]),
        "show": "1",
        **fields,
    }
    return desk.open("/console/appointments/new", query_string=query)


def take(desk: Desk, clinic, at=TOMORROW_10, who: str = "ana", **fields: str):
    slot = SlotChoice(at, clinic.professionals[who]).encode()
    form = {
        "phone": "0981 222 333",
        "name": "Rosa Giménez",
        "service": str(clinic.services["general"]),
        "channel": "phone",
        "professional": str(clinic.professionals[who]),
        "slot": slot,
        **fields,
    }
    return desk.submit("/console/appointments/new", form)


def appointments(db: Engine) -> list[Appointment]:
    with Session(db) as session:
        return list(session.exec(select(Appointment).order_by(col(Appointment.id))))


def test_the_desk_books_a_caller_who_is_new_and_she_is_told(desk: Desk, db: Engine, clinic):
    page = times_page(desk, clinic)
    assert page.status_code == 200
    assert "10:00" in page.get_data(as_text=True)
    done = take(desk, clinic)
    assert done.status_code == 303 and "notice=booked" in done.location
    assert "Turno reservado" in desk.open(done.location).get_data(as_text=True)

    [appointment] = appointments(db)
    assert (appointment.starts_at, appointment.source_channel) == (TOMORROW_10, "phone")
    assert appointment.new_patient
    with Session(db) as session:
        [patient] = session.exec(select(Patient)).all()
        kinds = {n.kind for n in session.exec(select(Notification))}
    assert (patient.phone, patient.name) == (PHONE, "Rosa Giménez")
    assert "confirmation" in kinds  # the booking confirmation goes out on WhatsApp


def test_a_patient_already_on_the_phone_is_reused(desk: Desk, db: Engine, clinic):
    known = add_patient(db, clinic.id, PHONE, "Rosa Giménez")
    page = times_page(desk, clinic, name="rosa gimenez")
    assert "Ya registrados con este teléfono: Rosa Giménez" in page.get_data(as_text=True)
    take(desk, clinic, name="rosa gimenez", channel="desk")
    [appointment] = appointments(db)
    assert (appointment.patient_id, appointment.source_channel) == (known, "desk")


def test_a_service_patients_cannot_book_themselves_can_be_booked_here(
    desk: Desk, db: Engine, clinic
):
    page = times_page(desk, clinic, service=str(clinic.services["lab"]))
    assert "solo recepción" in page.get_data(as_text=True)
    take(desk, clinic, service=str(clinic.services["lab"]))
    [appointment] = appointments(db)
    assert appointment.service_id == clinic.services["lab"]


def test_a_time_just_taken_books_nothing_and_shows_what_is_left(desk: Desk, db: Engine, clinic):
    other = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    times_page(desk, clinic)
    book_at(db, clinic, other, TOMORROW_10)  # someone else, a moment before
    taken = take(desk, clinic)
    assert taken.status_code == 303 and "notice=taken" in taken.location
    page = desk.open(taken.location).get_data(as_text=True)
    assert "se acaba de ocupar" in page and "Rosa Giménez" in page  # the form kept
    assert len(appointments(db)) == 1
    with Session(db) as session:
        assert session.exec(select(Patient).where(Patient.phone == PHONE)).first() is None


@pytest.mark.parametrize(
    ("fields", "marked"),
    [
        ({"phone": "12"}, "Ese número de teléfono no es válido"),
        ({"name": ""}, "Este dato es obligatorio"),
        ({"name": "x" * 81}, "Es demasiado largo"),
        ({"service": "999"}, "Elegí un servicio de la lista"),
        ({"channel": "fax"}, "Elegí una opción de la lista"),
    ],
)
def test_bad_input_is_marked_and_books_nothing(desk: Desk, db: Engine, clinic, fields, marked):
    page = times_page(desk, clinic, **fields)
    assert page.status_code == 422 and marked in page.get_data(as_text=True)
    assert take(desk, clinic, **fields).status_code == 400
    assert appointments(db) == []


def test_a_time_outside_the_horizon_or_someone_not_offering_it_is_refused(
    desk: Desk, db: Engine, clinic
):
    times_page(desk, clinic)
    assert take(desk, clinic, at=NOW + timedelta(days=400)).status_code == 400
    assert take(desk, clinic, service=str(clinic.services["dentistry"])).status_code == 400
    assert appointments(db) == []


def test_the_patients_page_and_the_agenda_lead_here(desk: Desk, db: Engine, clinic):
    patient_id = add_patient(db, clinic.id, PHONE, "Rosa <script>")
    agenda = desk.open("/console/agenda").get_data(as_text=True)
    assert "/console/appointments/new" in agenda
    page = desk.open(f"/console/patients/{patient_id}").get_data(as_text=True)
    assert "/console/appointments/new?phone=%2B595981222333&amp;name=Rosa+%3Cscript%3E" in page
    form = desk.open("/console/appointments/new?phone=%2B595981222333&name=Rosa+%3Cscript%3E")
    assert form.status_code == 200  # the patient filled in, nothing marked wrong yet
    text = form.get_data(as_text=True)
    assert "Rosa &lt;script&gt;" in text and "<script>" not in text
