"""The Rasa action server over real HTTP: the JSON a Rasa server posts, the events and
texts it gets back, and what lands in the store."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.links import appointment_id_from
from store.models import AppointmentEvent, AppointmentStatus, Notification, Patient
from tests import support
from tests.rasa.conftest import SECRET
from tests.rasa.support import ActionServer, said, slots_set
from tests.support import add_patient, appointments
from usecases.assistant import time_id

ASU = ZoneInfo("America/Asuncion")
# Wednesday 25 November 2026, 09:00 in Asunción (UTC−3)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)
PHONE = "+595981222333"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ASU)


def _form(clinic: support.TestClinic, **slots: Any) -> dict[str, Any]:
    """A booking form filled in: general consultation with Ana, tomorrow at 10:30."""
    return {
        "service": str(clinic.services["general"]),
        "professional": str(clinic.professionals["ana"]),
        "day": "2026-11-26",
        "time": time_id(_at(26, 10, 30), clinic.professionals["ana"]),
        "patient_name": "Juana Pérez",
        "phone": "0981 222 333",
        "dni": "4567890",
        "insurance": "",
        **slots,
    }


# -- the catalog -----------------------------------------------------------------------


def test_the_services_are_listed_in_the_trackers_language(rasa: ActionServer):
    result = rasa.run("action_turnero_services", slots={"language": "en"})
    text = said(result)
    assert text.startswith("These are the services you can book")
    assert "1. Consulta general" in text and "2. Odontología" in text
    assert "Laboratorio" not in text  # staff book it, patients do not
    assert result["events"] == []


def test_the_professionals_of_a_service_named_in_words(
    rasa: ActionServer, clinic: support.TestClinic
):
    result = rasa.run("action_turnero_professionals", slots={"service": "odontologia"})
    assert "Dr. Luis Ortiz" in said(result) and "Ana" not in said(result)
    assert slots_set(result) == {"service": str(clinic.services["dentistry"])}


# -- free times, the day read as the WhatsApp bot reads it ------------------------------


def test_a_day_in_free_text_narrowed_to_the_afternoon(
    rasa: ActionServer, clinic: support.TestClinic
):
    slots = {"service": "Consulta general", "professional": str(clinic.professionals["ana"])}
    result = rasa.run("action_turnero_find_times", slots=slots, text="mañana a la tarde")
    text = said(result)
    assert "jueves 26 de noviembre" in text
    assert "14:00" in text and "10:30" not in text
    found = slots_set(result)
    assert found["day"] == "2026-11-26"
    assert time_id(_at(26, 14), clinic.professionals["ana"]) in found["turnero_times"]


def test_guarani_and_weekdays_are_read_too(rasa: ActionServer, clinic: support.TestClinic):
    slots = {"service": str(clinic.services["general"]), "language": "gn"}
    tomorrow = rasa.run("action_turnero_find_times", slots=slots, text="ko'ẽrõ")
    assert slots_set(tomorrow)["day"] == "2026-11-26"
    assert "Aravo ojeporu'ỹva" in said(tomorrow)
    tuesday = rasa.run("action_turnero_find_times", slots={**slots, "day": "el martes a la tarde"})
    assert slots_set(tuesday)["day"] == "2026-12-01"


def test_a_day_that_cannot_be_offered_gets_the_bots_own_answer(rasa: ActionServer, clinic):
    slots = {"service": str(clinic.services["general"])}
    past = rasa.run("action_turnero_find_times", slots=slots, text="20/11")
    assert "ya pasó" in said(past) and slots_set(past) == {}
    sunday = rasa.run("action_turnero_find_times", slots=slots, text="el domingo")
    assert "no se atiende" in said(sunday) and "lunes 30 de noviembre" in said(sunday)
    far = rasa.run("action_turnero_find_times", slots=slots, text="15/3")
    assert "30 días" in said(far)


# -- the booking form ---------------------------------------------------------------------


def _validate(rasa: ActionServer, slots: dict[str, Any], **candidates: Any) -> dict[str, Any]:
    return rasa.run(
        "validate_turnero_booking_form",
        slots=slots,
        candidates=candidates,
        active_loop="turnero_booking_form",
    )


def test_a_name_brings_its_document_number_as_on_whatsapp(rasa: ActionServer):
    result = _validate(rasa, {}, patient_name="Juan Pérez 4.567.890")
    assert slots_set(result) == {"patient_name": "Juan Pérez", "dni": "4567890"}
    assert result["responses"] == []


def test_refused_answers_are_asked_again_with_the_bots_texts(rasa: ActionServer):
    name = _validate(rasa, {"language": "en"}, patient_name="12345")
    assert slots_set(name) == {"patient_name": None}
    assert said(name).startswith("I need a first and last name")
    phone = _validate(rasa, {}, phone="no tengo")
    assert slots_set(phone) == {"phone": None}
    assert "celular con WhatsApp" in said(phone)
    service = _validate(rasa, {}, service="peluquería")
    assert slots_set(service) == {"service": None}
    assert "no entendí" in said(service) and "Odontología" in said(service)


def test_a_phone_is_read_in_the_clinics_country_and_skips_leave_blanks(rasa: ActionServer):
    assert slots_set(_validate(rasa, {}, phone="0981 222 333")) == {"phone": PHONE}
    assert slots_set(_validate(rasa, {}, dni="saltar")) == {"dni": ""}
    assert slots_set(_validate(rasa, {}, insurance="tengo IPS")) == {"insurance": "IPS"}


def test_a_time_is_taken_by_its_number_or_as_written(
    rasa: ActionServer, clinic: support.TestClinic
):
    form = _form(clinic)
    offered = slots_set(
        rasa.run("action_turnero_find_times", slots={"service": form["service"]}, text="mañana")
    )["turnero_times"]
    slots = {**form, "turnero_times": offered, "time": None}
    assert slots_set(_validate(rasa, slots, time="2")) == {"time": offered[1]}
    written = slots_set(_validate(rasa, slots, time="10:30"))["time"]
    assert written is not None and written.startswith("2026-11-26T13:30:00+00:00")


def test_a_time_taken_since_it_was_offered_is_offered_again_without_it(
    rasa: ActionServer, clinic: support.TestClinic
):
    form = _form(clinic)
    offered = slots_set(rasa.run("action_turnero_find_times", slots=form, text="mañana"))
    assert form["time"] in offered["turnero_times"]
    rasa.run("action_turnero_book", slots={**form, "phone": "0981 999 888"})
    result = _validate(rasa, {**form, **offered, "time": None}, time=form["time"])
    found = slots_set(result)
    assert found["time"] is None and form["time"] not in found["turnero_times"]
    assert "se acaba de ocupar" in said(result)


# -- booking --------------------------------------------------------------------------


def test_a_booking_lands_in_the_agenda_with_code_link_and_whatsapp_confirmation(
    rasa: ActionServer, clinic: support.TestClinic, db: Engine
):
    result = rasa.run("action_turnero_book", slots=_form(clinic))
    [appointment] = appointments(db)
    assert appointment.source_channel == "rasa"
    assert appointment.starts_at == _at(26, 10, 30)
    found = slots_set(result)
    assert found["code"] == appointment.code
    assert appointment_id_from(SECRET, found["link"].rsplit("/", 1)[1]) == appointment.id
    text = said(result)
    assert appointment.code in text and found["link"] in text and "Juana Pérez" in text
    with Session(db) as s:
        patient = s.exec(select(Patient).where(Patient.phone == PHONE)).one()
        assert (patient.name, patient.dni, patient.insurance) == ("Juana Pérez", "4567890", None)
        kinds = {n.kind for n in s.exec(select(Notification))}
        assert "confirmation" in kinds and "reminder" in kinds  # sent on WhatsApp
        [event] = s.exec(select(AppointmentEvent)).all()
        assert (event.kind, event.channel) == ("booked", "rasa")


def test_a_known_patient_on_the_phone_books_under_their_own_row(rasa, clinic, db):
    known = add_patient(db, clinic.id, PHONE, "Juana Pérez")
    rasa.run("action_turnero_book", slots=_form(clinic, patient_name="juana perez"))
    [appointment] = appointments(db)
    assert appointment.patient_id == known


def test_a_time_taken_meanwhile_books_nothing_and_offers_fresh_times(
    rasa: ActionServer, clinic: support.TestClinic, db: Engine
):
    rasa.run("action_turnero_book", slots=_form(clinic, phone="0981 999 888"))
    result = rasa.run("action_turnero_book", slots=_form(clinic))
    assert len(appointments(db)) == 1
    found = slots_set(result)
    assert found["time"] is None
    assert _form(clinic)["time"] not in found["turnero_times"] and found["turnero_times"]
    assert "se acaba de ocupar" in said(result)
    assert result["events"][-1] == {
        "event": "followup",
        "timestamp": None,
        "name": "turnero_booking_form",
    }


# -- an appointment by its code and phone ------------------------------------------------


def _booked(rasa: ActionServer, clinic: support.TestClinic) -> str:
    code: str = slots_set(rasa.run("action_turnero_book", slots=_form(clinic)))["code"]
    return code


def test_look_up_needs_the_code_and_the_phone_that_booked(rasa: ActionServer, clinic):
    code = _booked(rasa, clinic)
    found = rasa.run("action_turnero_look_up", slots={"code": code.lower(), "phone": PHONE})
    assert code in said(found) and "Dra. Ana Benítez" in said(found)
    other = rasa.run("action_turnero_look_up", slots={"code": code, "phone": "0981 999 888"})
    assert "No encuentro" in said(other)


def test_confirm_and_cancel_by_code(rasa: ActionServer, clinic: support.TestClinic, db: Engine):
    code = _booked(rasa, clinic)
    slots = {"code": code, "phone": "0981 222 333", "language": "en"}
    assert "You confirmed" in said(rasa.run("action_turnero_confirm", slots=slots))
    assert appointments(db)[0].status == AppointmentStatus.confirmed
    assert "cancelled your Consulta general" in said(rasa.run("action_turnero_cancel", slots=slots))
    assert appointments(db)[0].status == AppointmentStatus.cancelled
    rasa.run("action_turnero_cancel", slots=slots)  # again: harmless, as on WhatsApp
    with Session(db) as s:
        kinds = [e.kind for e in s.exec(select(AppointmentEvent))]
    assert kinds == ["booked", "confirmed", "cancelled"]
    assert "can no longer be changed" in said(rasa.run("action_turnero_confirm", slots=slots))


def test_reschedule_to_an_offered_time(rasa: ActionServer, clinic: support.TestClinic, db: Engine):
    code = _booked(rasa, clinic)
    later = time_id(_at(27, 9), clinic.professionals["luis"])
    result = rasa.run(
        "action_turnero_reschedule", slots={"code": code, "phone": PHONE, "time": later}
    )
    assert "Cambiado" in said(result)
    [moved] = appointments(db)
    assert (moved.starts_at, moved.professional_id) == (_at(27, 9), clinic.professionals["luis"])
    sunday = time_id(_at(29, 9), clinic.professionals["luis"])
    refused = rasa.run(
        "action_turnero_reschedule", slots={"code": code, "phone": PHONE, "time": sunday}
    )
    assert slots_set(refused)["time"] is None and appointments(db)[0].starts_at == _at(27, 9)


# -- the clinic ---------------------------------------------------------------------------


def test_a_slot_may_name_the_clinic_and_an_unknown_one_is_said_so(rasa: ActionServer, clinic):
    named = rasa.run("action_turnero_services", slots={"clinic_id": str(clinic.id)})
    assert "Consulta general" in said(named)
    unknown = rasa.run("action_turnero_services", slots={"clinic_id": 99999})
    assert "no está conectado a una clínica" in said(unknown)


def test_reschedule_to_a_time_by_its_number_in_the_list(rasa: ActionServer, clinic, db: Engine):
    code = _booked(rasa, clinic)
    found = slots_set(rasa.run("action_turnero_look_up", slots={"code": code, "phone": PHONE}))
    times = rasa.run("action_turnero_find_times", slots=found, text="el viernes")
    offered = slots_set(times)
    slots = {**found, **offered, "phone": PHONE}
    result = rasa.run("action_turnero_reschedule", slots=slots, text="el 3")
    assert "Cambiado" in said(result)
    [moved] = appointments(db)
    assert time_id(moved.starts_at, moved.professional_id) == offered["turnero_times"][2]


def test_a_booking_with_an_answer_missing_asks_the_form_again(rasa: ActionServer, clinic, db):
    result = rasa.run("action_turnero_book", slots=_form(clinic, time="mañana"))
    assert slots_set(result) == {"time": None}
    assert result["events"][-1]["event"] == "followup"
    assert "no entendí" in said(result) and appointments(db) == []


def test_the_latest_message_names_the_day_before_the_day_asked_before(rasa, clinic):
    slots = {"service": str(clinic.services["general"]), "day": "2026-11-26"}
    friday = rasa.run("action_turnero_find_times", slots=slots, text="y el viernes?")
    assert slots_set(friday)["day"] == "2026-11-27"
    same = rasa.run("action_turnero_find_times", slots=slots, text="¿qué horarios hay?")
    assert slots_set(same)["day"] == "2026-11-26"
