"""Spanish, English and Guarani from the first message to the reminder: the language is
picked up from what the patient writes or asks for, remembered on the patient, and used
by every later message."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from scheduler.notifications import queue_due_notifications
from store.models import Appointment, Patient
from tests.support import PUBLIC_URL, Chat, Clock, make_app, make_clinic
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
SECRET = "test-secret"


@pytest.fixture
def patient(db: Engine, clock: Clock) -> Chat:
    make_clinic(db)
    return Chat(make_app(db, clock, SECRET).test_client(), db)


def remembered_language(db: Engine) -> str | None:
    with Session(db) as s:
        return s.exec(select(Patient.language)).one()


def reminder_text(db: Engine, clock: Clock, patient: Chat) -> str:
    """Run the scheduler a day before the appointment; the reminder it queued."""
    with Session(db) as s:
        starts_at = s.exec(select(Appointment.starts_at)).one()
    clock.now = starts_at - timedelta(hours=23)
    report = queue_due_notifications(db, clock.now, base_url=PUBLIC_URL, secret=SECRET)
    assert report.queued == 1
    return patient.reply()


def test_a_patient_books_in_guarani_from_start_to_finish(patient, db, clock):
    assert "Mba'e servicio-pe" in patient.says("Mba'éichapa")
    assert "Mávandipa reipota" in patient.says("1")
    days = patient.says("1")
    assert "Mba'e árapa ndéve iporã" in days and "Arapoteĩ 27 Jasypateĩ" in days  # a Friday
    times = patient.says("ko'ẽrõ ka'aru")
    assert "Aravo ojeporu'ỹva Arapo 26 Jasypateĩ" in times
    assert "08:00" not in times and "14:00" in times
    assert "Mba'éichapa héra" in patient.says("1")
    assert "cédula" in patient.says("Rosa Giménez")
    assert "obra social" in patient.says("embohasa")
    assert "Amoneĩpa ko turno? (heẽ / nahániri)" in patient.says("embohasa")
    done = patient.says("heẽ")
    assert "Oĩma! Nde turno oñeñongatúma" in done and "Arapo 26 Jasypateĩ, 14:00-pe" in done
    assert remembered_language(db) == "gn"
    assert "Romomandu'a ndéve nde turno" in reminder_text(db, clock, patient)


def test_a_patient_books_in_english_from_start_to_finish(patient, db, clock):
    assert "Which service" in patient.says("Hi, I need an appointment please")
    assert "Who would you like to see" in patient.says("1")
    assert "Which day suits you" in patient.says("1")
    times = patient.says("friday morning")
    assert "Free times on Friday 27 November" in times and "14:00" not in times
    assert "full name" in patient.says("9:30")
    patient.says("John Smith")
    patient.says("skip")
    assert "Shall I book it? (yes / no)" in patient.says("skip")
    done = patient.says("yes")
    assert "Done! Your appointment is booked" in done
    assert "Friday 27 November at 09:30" in done
    assert remembered_language(db) == "en"
    reminder = reminder_text(db, clock, patient)
    assert "Friday 27 November" in reminder and "turno" not in reminder


def test_a_first_message_clearly_in_one_language_sets_it(patient, db):
    assert "Which service" in patient.says("I would like to book a check up")
    assert remembered_language(db) == "en"


def test_a_patient_switches_language_by_naming_it(patient, db):
    assert "¿Para qué servicio" in patient.says("hola")
    reply = patient.says("English")
    assert "Let's continue in English" in reply and "Which service" in reply
    assert remembered_language(db) == "en"
    reply = patient.says("guaraní")
    assert "Jasegui guaraníme" in reply and "Mba'e servicio-pe" in reply
    assert remembered_language(db) == "gn"
    assert "Seguimos en español" in patient.says("español")


def test_the_help_says_how_to_change_language(patient):
    patient.says("hola")
    assert "«English» o «guaraní» para cambiar de idioma" in patient.says("ayuda")


def test_the_reminder_goes_out_through_the_dispatcher_in_the_patients_language(patient, db, clock):
    patient.says("Mba'éichapa")
    for answer in ("1", "1", "arapoteĩ", "1", "Rosa Giménez", "embohasa", "embohasa", "heẽ"):
        patient.says(answer)
    with Session(db) as s:
        starts_at = s.exec(select(Appointment.starts_at)).one()
    clock.now = starts_at - timedelta(hours=24, minutes=30)
    patient.says("aguyje")  # the patient wrote lately: the reminder may go as free text
    reminder_text(db, clock, patient)
    with FakeTwilio() as twilio:
        channel = TwilioChannel(twilio.account_sid, twilio.auth_token, api_url=twilio.url)
        dispatch_due(db, channel, clock.now)
        bodies = [m["body"] for m in twilio.messages]
    assert any("Romomandu'a ndéve nde turno" in body for body in bodies)
