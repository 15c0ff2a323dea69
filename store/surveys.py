"""Satisfaction surveys: the question asked after a visit, and the patient's score and
comment stored per appointment. In the caller's transaction."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.db import insert_or_skip
from store.models import SurveyResponse

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
