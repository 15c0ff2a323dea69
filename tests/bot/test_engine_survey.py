"""The survey answer in the engine, on plain data: which messages read as a score, and
that the store is asked about a pending survey only for those."""

from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from bot.effects import CommentOnVisit, ScoreVisit
from bot.engine import read_score, step
from bot.types import AppointmentSummary, ConversationState, Inbound
from tests.bot.test_engine import NOW, view


@dataclass
class SurveyedPhone:
    """A phone with one unanswered survey (about appointment 7), counting the look-ups."""

    pending: int | None = 7
    asked: list[datetime | None] = field(default_factory=list)

    def upcoming(self) -> list[AppointmentSummary]:
        return []

    def reminded_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def campaign_asked_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def surveyed_since(self, since: datetime | None) -> int | None:
        self.asked.append(since)
        return self.pending


@pytest.mark.parametrize(
    ("text", "payload", "score"),
    [
        ("5", None, 5),
        ("1", None, 1),
        (" 3 ", None, 3),
        ("Excelente!", None, 5),
        ("muy mala", None, 1),
        ("malo", None, 2),
        ("regular", None, 3),
        ("good", None, 4),
        ("iporãiterei", None, 5),
        ("ivai", None, 2),
        ("1 · Muy mala", "score:1", 1),
        ("", "score:4", 4),
        ("6", None, None),
        ("0", None, None),
        ("", "score:9", None),
        ("hola", None, None),
        ("quiero un turno para el 5", None, None),
        ("", "confirm:12", None),
    ],
)
def test_what_reads_as_a_score(text: str, payload: str | None, score: int | None) -> None:
    assert read_score(Inbound(text=text, payload=payload)) == score


def test_the_store_is_asked_only_when_the_message_could_be_a_score() -> None:
    phone = SurveyedPhone()
    clinic = replace(view(), appointments=phone)
    state = ConversationState(language="es", last_inbound_at=NOW.isoformat())
    step(state, Inbound(text="hola, quiero un turno"), clinic)
    assert phone.asked == []
    turn = step(state, Inbound(text="4"), clinic)
    assert phone.asked == [NOW]
    assert turn.effects == [ScoreVisit(appointment_id=7, score=4)]


def test_a_number_without_a_pending_survey_answers_the_current_question() -> None:
    phone = SurveyedPhone(pending=None)
    clinic = replace(view(), appointments=phone)
    state = ConversationState(
        language="es", state="service", last_inbound_at=NOW.isoformat(), options=["1"]
    )
    turn = step(state, Inbound(text="1"), clinic)
    assert phone.asked == [NOW]
    assert turn.effects == [] and turn.state.state == "professional"


def test_the_comment_is_kept_whole_or_declined() -> None:
    clinic = view()
    state = ConversationState(language="es", state="comment", last_inbound_at=NOW.isoformat())
    state.draft.appointment = 7
    long_comment = "La atención fue muy buena pero la espera larga. " * 5
    turn = step(state, Inbound(text=long_comment), clinic)
    assert turn.effects == [
        CommentOnVisit(appointment_id=7, comment=" ".join(long_comment.split()))
    ]
    declined = step(state, Inbound(text="No"), clinic)
    assert declined.effects == [CommentOnVisit(appointment_id=7, comment=None)]
