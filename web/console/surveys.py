"""What patients answered the satisfaction survey: the last 30 days' answers for the
desk, the lowest scores first (those patients may need a call), each linking to the
patient's page, which lists that patient's own answers."""

from datetime import timedelta

from sqlmodel import Session
from werkzeug.wrappers import Response

from store.surveys import LOW_SCORE, recent_answers
from web.console.agenda import formatting, own_clinic
from web.console.common import console, engine, language, now, page, staff_required

RECENT = timedelta(days=30)


@console.get("/surveys")
@staff_required
def surveys() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        answers = recent_answers(session, clinic.id or 0, now() - RECENT)
    return page(
        "surveys.html",
        answers=answers,
        low=LOW_SCORE,
        days=RECENT.days,
        **formatting(clinic, language()),
    )
