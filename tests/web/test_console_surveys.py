"""The survey answers for the desk: the last 30 days', the lowest scores first, each
linking to the patient, whose page lists their own answers."""

from datetime import timedelta

from sqlalchemy import Engine

from store.db import transaction
from store.surveys import record_comment, record_score, survey_asked
from tests.console_support import NOW, Desk, book_at
from tests.support import add_patient
from tests.web.test_console_agenda import text_of


def answered(
    db: Engine, clinic, patient_id: int, phone: str, days_ago: int, score: int, comment: str | None
) -> None:
    visit = NOW - timedelta(days=days_ago, hours=3)
    appointment = book_at(db, clinic, patient_id, visit)
    with transaction(db) as session:
        survey_asked(session, clinic.id, appointment, phone, visit + timedelta(hours=2))
        record_score(session, clinic.id, appointment, score, visit + timedelta(hours=2, minutes=5))
        record_comment(
            session, clinic.id, appointment, comment, visit + timedelta(hours=2, minutes=6)
        )


def test_the_desk_sees_the_lowest_scores_first_and_each_patients_own(
    db: Engine, clinic, desk: Desk
) -> None:
    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    jose = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    answered(db, clinic, maria, "+595981222333", 2, 5, "Muy amables")
    answered(db, clinic, jose, "+595981444555", 3, 1, "Esperé una hora")
    answered(db, clinic, maria, "+595981222333", 45, 2, "Hace mucho")  # older than 30 days

    shown = text_of(desk.open("/console/surveys").get_data(as_text=True))
    assert "Encuestas" in shown
    assert shown.index("1 de 5 · José Gómez") < shown.index("5 de 5 · María Pérez")
    assert "Esperé una hora" in shown and "Muy amables" in shown
    assert "Hace mucho" not in shown

    own = text_of(desk.open(f"/console/patients/{maria}").get_data(as_text=True))
    assert own.index("Muy amables") < own.index("Hace mucho")  # all hers, newest first
    assert "Esperé una hora" not in own


def test_with_no_answers_the_page_says_so(desk: Desk) -> None:
    shown = text_of(desk.open("/console/surveys").get_data(as_text=True))
    assert "Nadie respondió la encuesta en los últimos 30 días." in shown
