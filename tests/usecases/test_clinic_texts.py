"""A clinic's own texts and steps in the store (SQLite and PostgreSQL): saving checks
first and records who changed what, a revert is one more change, and what a clinic wrote
reaches its patients — through the signed webhook, in a reminder, and with "ask for the
DNI" switched off, a booking that never asks for it."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.custom_texts import Problem
from scheduler.notifications import queue_due_notifications
from store.clinic_templates import (
    FLOW,
    TEMPLATE,
    all_overrides,
    flow_steps,
    history,
    overrides,
    skipped_steps,
)
from store.db import transaction
from store.models import Appointment, ClinicTemplate, Patient
from tests.support import PUBLIC_URL, Chat, Clock, make_app, make_clinic
from usecases.clinic_texts import (
    StepsRefused,
    TextRefused,
    reset_text,
    revert,
    save_steps,
    save_text,
)

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU).astimezone(UTC)  # a Wednesday
SECRET = "test-secret"
ADMIN = "staff:boss"
ASK_NAME = "¿Cómo se llama el paciente? Nombre y apellido, por favor 🙏 ({clinic_name})"


def save(db: Engine, clinic_id: int, key: str, body: str, language: str = "es") -> bool:
    with transaction(db) as session:
        return save_text(session, clinic_id, language, key, body, ADMIN, NOW)


# -- the store -------------------------------------------------------------------------------


def test_a_saved_text_is_the_clinics_and_its_change_is_recorded(db: Engine, clinic):
    assert save(db, clinic.id, "booking.ask_name", ASK_NAME + "\r\n")
    assert not save(db, clinic.id, "booking.ask_name", ASK_NAME)  # the same again: nothing
    with Session(db) as session:
        assert overrides(session, clinic.id, "es") == {"booking.ask_name": ASK_NAME}
        assert overrides(session, clinic.id, "en") == {}
        assert all_overrides(session, clinic.id) == {"es": {"booking.ask_name": ASK_NAME}}
        [change] = history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")
    assert (change.before, change.after, change.changed_by, change.changed_at) == (
        None,
        ASK_NAME,
        ADMIN,
        NOW,
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", Problem("empty")),
        ("Hola {patient_name", Problem("broken_braces")),
        ("Hola {nombre}", Problem("unknown_tags", ("nombre",))),
    ],
)
def test_a_broken_text_is_refused_and_nothing_is_saved(db: Engine, clinic, body, problem):
    with pytest.raises(TextRefused) as refused:
        save(db, clinic.id, "notification.reminder", body)
    assert refused.value.problems == [problem]
    with Session(db) as session:
        assert session.exec(select(ClinicTemplate)).all() == []
        assert history(session, clinic.id, TEMPLATE, "es", "notification.reminder") == []


def test_only_the_templates_a_clinic_may_change_are_saved(db: Engine, clinic):
    for language, key in [
        ("es", "system.unknown_clinic"),
        ("es", "no.such"),
        ("fr", "booking.ask_name"),
    ]:
        with pytest.raises(LookupError):
            save(db, clinic.id, key, "Hola", language)


def test_the_defaults_own_words_and_back_to_default_leave_no_text_of_the_clinics(
    db: Engine, clinic
):
    save(db, clinic.id, "booking.ask_name", ASK_NAME)
    with transaction(db) as session:
        assert reset_text(session, clinic.id, "es", "booking.ask_name", ADMIN, NOW)
        assert not reset_text(session, clinic.id, "es", "booking.ask_name", ADMIN, NOW)
    save(db, clinic.id, "booking.ask_dni", ASK_NAME)
    save(
        db,
        clinic.id,
        "booking.ask_dni",
        "¿Número de documento (DNI/CI)? Si preferís no darlo, escribí «saltar».",
    )
    with Session(db) as session:
        assert overrides(session, clinic.id, "es") == {}
        [reset, _saved] = history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")
    assert (reset.before, reset.after) == (ASK_NAME, None)


def test_a_revert_puts_back_the_text_before_and_is_recorded_too(db: Engine, clinic):
    save(db, clinic.id, "booking.ask_name", ASK_NAME)
    save(db, clinic.id, "booking.ask_name", "Nombre completo, por favor.")
    with Session(db) as session:
        latest, first = history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")
    with transaction(db) as session:
        revert(session, clinic.id, latest.id or 0, "staff:ana", NOW + timedelta(minutes=5))
    with Session(db) as session:
        assert overrides(session, clinic.id, "es") == {"booking.ask_name": ASK_NAME}
        undone = history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")[0]
    assert (undone.before, undone.after, undone.changed_by, undone.reverts) == (
        "Nombre completo, por favor.",
        ASK_NAME,
        "staff:ana",
        latest.id,
    )
    with transaction(db) as session:
        revert(session, clinic.id, first.id or 0, "staff:ana", NOW)  # back to the default
    with Session(db) as session:
        assert overrides(session, clinic.id, "es") == {}


def test_another_clinics_change_cannot_be_reverted(db: Engine, clinic):
    other = make_clinic(db, number="+595981000111")
    save(db, other.id, "booking.ask_name", ASK_NAME)
    with Session(db) as session:
        [change] = history(session, other.id, TEMPLATE, "es", "booking.ask_name")
    with transaction(db) as session, pytest.raises(LookupError):
        revert(session, clinic.id, change.id or 0, ADMIN, NOW)


def test_steps_are_checked_saved_recorded_and_reverted(db: Engine, clinic):
    with transaction(db) as session:
        assert save_steps(session, clinic.id, "booking", frozenset({"dni"}), ADMIN, NOW)
        assert not save_steps(session, clinic.id, "booking", frozenset({"dni"}), ADMIN, NOW)
        with pytest.raises(StepsRefused, match="review: not an optional step"):
            save_steps(session, clinic.id, "booking", frozenset({"review"}), ADMIN, NOW)
        save_steps(session, clinic.id, "booking", frozenset({"insurance", "dni"}), ADMIN, NOW)
    with Session(db) as session:
        assert skipped_steps(session, clinic.id) == {"booking": {"dni", "insurance"}}
        latest, first = history(session, clinic.id, FLOW, "", "booking")
    assert (first.before, first.after, latest.before, latest.after) == (
        None,
        "dni",
        "dni",
        "dni,insurance",
    )
    with transaction(db) as session:
        revert(session, clinic.id, first.id or 0, ADMIN, NOW)
    with Session(db) as session:
        assert flow_steps(session, clinic.id, "booking") == frozenset()
        assert skipped_steps(session, clinic.id) == {}


# -- what patients read ------------------------------------------------------------------------


def test_the_clinics_text_reaches_the_patient_through_the_signed_webhook(
    db: Engine, clinic, clock: Clock
):
    save(db, clinic.id, "booking.ask_service", "🦷 ¿Qué necesitás hoy en {clinic_name}?\n{options}")
    save(db, clinic.id, "booking.ask_service", "Which service?\n{options}", "en")
    patient = Chat(make_app(db, clock, SECRET).test_client(), db)
    answer = patient.says("hola")
    assert "🦷 ¿Qué necesitás hoy en Clínica Test?\n1. Consulta general" in answer
    assert "¿Para qué servicio" not in answer


def test_the_clinics_reminder_reaches_the_patient(db: Engine, clinic, clock: Clock):
    save(
        db,
        clinic.id,
        "notification.reminder",
        "Hola {patient_name}, te esperamos el {date} a las {time} en {clinic_name}."
        " 1 confirma, 2 cancela.",
    )
    patient = Chat(make_app(db, clock, SECRET).test_client(), db)
    for answer in ["hola", "1", "1", "mañana", "15:00", "Rosa Giménez", "saltar", "saltar", "sí"]:
        patient.says(answer)
    with Session(db) as session:
        starts_at = session.exec(select(Appointment.starts_at)).one()
    clock.now = starts_at - timedelta(hours=23)
    assert queue_due_notifications(db, clock.now, base_url=PUBLIC_URL, secret=SECRET).queued == 1
    reminder = patient.reply()
    assert reminder.startswith(
        "Hola Rosa Giménez, te esperamos el jueves 26 de noviembre a las 15:00"
    )
    assert reminder.endswith("en Clínica Test. 1 confirma, 2 cancela.")


def test_without_asking_for_the_dni_a_new_patient_books_through_the_webhook(
    db: Engine, clinic, clock: Clock
):
    with transaction(db) as session:
        save_steps(session, clinic.id, "booking", frozenset({"dni"}), ADMIN, NOW)
    patient = Chat(make_app(db, clock, SECRET).test_client(), db)
    for answer in ["hola", "1", "1", "1", "1"]:
        patient.says(answer)
    asked = patient.says("Rosa Giménez")
    assert "obra social" in asked and "documento" not in asked
    assert "¿Confirmo el turno?" in patient.says("IPS")
    assert "Tu turno quedó reservado" in patient.says("sí")
    with Session(db) as session:
        rosa = session.exec(select(Patient)).one()
    assert (rosa.name, rosa.dni, rosa.insurance) == ("Rosa Giménez", None, "IPS")
    everything = "\n".join(m.body for m in patient.messages())
    assert "DNI" not in everything
