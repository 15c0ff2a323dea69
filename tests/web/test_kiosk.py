"""The kiosk: check-in by the confirmation code or the phone number, a walk-in taking a
number (with or without a WhatsApp number), in the patient's language; a code typed wrong,
an appointment of another day and a second check-in are answered, never a 500."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.models import Appointment, AppointmentStatus, QueueTicket
from tests.console_support import NOW, Desk, book_at
from tests.support import TestClinic, add_patient

PHONE = "+595981222333"


def booked(db: Engine, clinic: TestClinic, minutes: int, phone: str = PHONE) -> Appointment:
    patient = add_patient(db, clinic.id, phone, "María Pérez")
    appointment_id = book_at(db, clinic, patient, NOW + timedelta(minutes=minutes))
    with Session(db) as session:
        found = session.get(Appointment, appointment_id)
        assert found
        return found


def tickets(db: Engine) -> list[QueueTicket]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket).order_by(col(QueueTicket.id))))


def test_a_code_checks_in_and_shows_the_number_in_the_chosen_language(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    appointment = booked(db, clinic, 30)
    start = desk.open("/console/kiosk?lang=en").get_data(as_text=True)
    assert "Your appointment code" in start and 'href="/console/agenda"' not in start
    answer = desk.submit("/console/kiosk/code?lang=en", {"code": f" {appointment.code.lower()} "})
    page = answer.get_data(as_text=True)
    assert ">A-001<" in page and "0 people ahead of you" in page
    assert tickets(db)[0].channel == "kiosk"
    again = desk.submit("/console/kiosk/code?lang=en", {"code": appointment.code})
    assert "You were already checked in." in again.get_data(as_text=True)
    assert len(tickets(db)) == 1


def test_a_phone_number_checks_in_todays_appointment(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    booked(db, clinic, 30)
    desk.open("/console/kiosk?lang=gn")
    page = desk.submit("/console/kiosk/phone?lang=gn", {"phone": "0981 222 333"}).get_data(
        as_text=True
    )
    assert ">A-001<" in page and "Nde número" in page
    with Session(db) as session:
        [appointment] = session.exec(select(Appointment)).all()
    assert appointment.status == AppointmentStatus.arrived


def test_a_wrong_code_another_day_and_a_bad_phone_are_answered(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    tomorrow = booked(db, clinic, 24 * 60 + 30)
    desk.open("/console/kiosk")
    wrong = desk.submit("/console/kiosk/code", {"code": "NOPE12"})
    assert wrong.status_code == 200 and "No encontramos un turno" in wrong.get_data(as_text=True)
    other_day = desk.submit("/console/kiosk/code", {"code": tomorrow.code}).get_data(as_text=True)
    assert "no hoy" in other_day
    by_phone = desk.submit("/console/kiosk/phone", {"phone": PHONE}).get_data(as_text=True)
    assert "no hoy" in by_phone
    garbage = desk.submit("/console/kiosk/phone", {"phone": "hola" * 50})
    assert garbage.status_code == 200 and "No encontramos" in garbage.get_data(as_text=True)
    assert tickets(db) == []


def test_a_walk_in_takes_a_number_behind_the_appointments_on_time(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    appointment = booked(db, clinic, 30)
    desk.open("/console/kiosk/walk-in")
    queue = f"service:{clinic.services['general']}"
    walk_in = desk.submit("/console/kiosk/walk-in", {"queue": queue, "phone": "0981 444 555"})
    assert ">A-001<" in walk_in.get_data(as_text=True)
    desk.open("/console/kiosk")
    late_comer = desk.submit("/console/kiosk/code", {"code": appointment.code}).get_data(
        as_text=True
    )
    assert ">A-002<" in late_comer and "0 personas antes que vos" in late_comer  # on time: first
    bad = desk.submit("/console/kiosk/walk-in", {"queue": queue, "phone": "abc"})
    assert "no parece un teléfono" in bad.get_data(as_text=True)
    assert desk.submit("/console/kiosk/walk-in", {"queue": "service:999"}).status_code == 400
    walk, booked_one = tickets(db)
    assert (walk.phone, walk.appointment_id, walk.channel) == ("+595981444555", None, "kiosk")
    assert booked_one.appointment_id == appointment.id
