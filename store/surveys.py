"""Satisfaction surveys: the question asked after a visit, and the patient's score and
comment stored per appointment. In the caller's transaction."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.db import insert_or_skip
from store.models import Appointment, Patient, Professional, Service, SurveyResponse

LOW_SCORE = 2  # this or less: staff should call the patient


def survey_asked(
    session: Session, clinic_id: int, appointment_id: int, phone: str, now: datetime
) -> None:
    """The survey question about this appointment goes to `phone` now (once)."""
    session.connection().execute(
        insert_or_skip(session.get_bind().dialect.name, SurveyResponse, ("appointment_id",)),
        {"clinic_id": clinic_id, "appointment_id": appointment_id, "phone": phone, "asked_at": now},
    )


def surveyed_since(
    session: Session, clinic_id: int, phone: str, since: datetime | None
) -> int | None:
    """The appointment of the latest unanswered survey question sent to the phone after
    `since` (the patient's previous message): what a score written now answers."""
    query = (
        select(SurveyResponse.appointment_id)
        .where(
            SurveyResponse.clinic_id == clinic_id,
            SurveyResponse.phone == phone,
            col(SurveyResponse.scored_at).is_(None),
        )
        .order_by(col(SurveyResponse.asked_at).desc())
        .limit(1)
    )
    if since is not None:
        query = query.where(col(SurveyResponse.asked_at) > since)
    return session.exec(query).first()


def record_score(
    session: Session, clinic_id: int, appointment_id: int, score: int, now: datetime
) -> bool:
    """Keep the score; False if the survey was answered already (the first answer stays)."""
    result = session.execute(
        update(SurveyResponse)
        .where(
            col(SurveyResponse.clinic_id) == clinic_id,
            col(SurveyResponse.appointment_id) == appointment_id,
            col(SurveyResponse.scored_at).is_(None),
        )
        .values(score=score, scored_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_comment(
    session: Session, clinic_id: int, appointment_id: int, comment: str | None, now: datetime
) -> None:
    """Keep the comment (None: the patient declined to write one), once."""
    session.execute(
        update(SurveyResponse)
        .where(
            col(SurveyResponse.clinic_id) == clinic_id,
            col(SurveyResponse.appointment_id) == appointment_id,
            col(SurveyResponse.commented_at).is_(None),
        )
        .values(comment=comment, commented_at=now)
    )


def response_for(session: Session, appointment_id: int) -> SurveyResponse | None:
    return session.exec(
        select(SurveyResponse).where(SurveyResponse.appointment_id == appointment_id)
    ).first()


@dataclass(frozen=True)
class Answer:
    """A patient's answer to a survey, with the visit it was about."""

    score: int
    comment: str | None
    scored_at: datetime
    visit_at: datetime
    service: str
    professional: str
    patient_id: int
    patient_name: str | None


def _answers(clinic_id: int) -> Select[SurveyResponse, Appointment, str, str, Patient]:
    return (
        sa_select(SurveyResponse, Appointment, col(Service.name), col(Professional.name), Patient)
        .join(Appointment, col(Appointment.id) == col(SurveyResponse.appointment_id))
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .join(Professional, col(Professional.id) == col(Appointment.professional_id))
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(
            col(SurveyResponse.clinic_id) == clinic_id,
            col(SurveyResponse.score).is_not(None),
        )
    )


def recent_answers(
    session: Session, clinic_id: int, since: datetime, limit: int = 200
) -> list[Answer]:
    """The answers given since `since`, the lowest scores first (those patients may need
    a call), then the newest."""
    query = (
        _answers(clinic_id)
        .where(col(SurveyResponse.scored_at) >= since)
        .order_by(col(SurveyResponse.score), col(SurveyResponse.scored_at).desc())
        .limit(limit)
    )
    return [_answer(*row) for row in session.execute(query)]


def patient_answers(session: Session, clinic_id: int, patient_id: int) -> list[Answer]:
    """One patient's answers, the newest first."""
    query = (
        _answers(clinic_id)
        .where(col(Appointment.patient_id) == patient_id)
        .order_by(col(SurveyResponse.scored_at).desc())
    )
    return [_answer(*row) for row in session.execute(query)]


def _answer(
    response: SurveyResponse,
    appointment: Appointment,
    service: str,
    professional: str,
    patient: Patient,
) -> Answer:
    return Answer(
        score=response.score or 0,
        comment=response.comment,
        scored_at=response.scored_at or response.asked_at,
        visit_at=appointment.starts_at,
        service=service,
        professional=professional,
        patient_id=patient.id or 0,
        patient_name=patient.name,
    )
