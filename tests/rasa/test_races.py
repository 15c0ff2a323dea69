"""A booking made through Rasa and one made over WhatsApp for the same time: the
database's overlap rule decides, exactly one wins, and the loser is offered the times
still free, read after it lost."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import Engine, event

from tests.rasa.support import ActionServer, said, slots_set
from tests.support import Chat, appointments
from usecases.assistant import time_id

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)
TEN_THIRTY = datetime(2026, 11, 26, 10, 30, tzinfo=ASU)


def _whatsapp_at_review(app: Flask, db: Engine) -> Chat:
    """A WhatsApp patient asked to confirm tomorrow 10:30 with Ana."""
    chat = Chat(app.test_client(), db, phone="+595981000111")
    for answer in ["hola", "1", "1", "mañana", "10:30", "Ana Uno", "-", "-"]:
        chat.says(answer)
    assert chat.asked("booking.review")
    return chat


def _rasa_form(clinic) -> dict[str, str]:  # type: ignore[no-untyped-def]
    ana = clinic.professionals["ana"]
    return {
        "service": str(clinic.services["general"]),
        "professional": str(ana),
        "time": time_id(TEN_THIRTY, ana),
        "patient_name": "Rasa Dos",
        "phone": "+595981000222",
    }


@contextmanager
def _first_insert_runs(engine: Engine, before: Callable[[], object]) -> Iterator[list[object]]:
    """Runs `before()` once, just before the first appointment insert of anyone: what it
    returned is the list's one item."""
    ran: list[object] = []

    def hook(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if ran or not statement.lower().startswith("insert into appointment "):
            return
        ran.append(None)
        ran[0] = before()

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def test_whatsapp_wins_and_rasa_gets_fresh_times(app, on_postgres, clinic, rasa: ActionServer):
    chat = _whatsapp_at_review(app, on_postgres)
    with _first_insert_runs(on_postgres, lambda: chat.says("sí")) as won:
        result = rasa.run("action_turnero_book", slots=_rasa_form(clinic))
    assert won and chat.said == ["booking.booked"]
    [appointment] = appointments(on_postgres)
    assert appointment.source_channel == "whatsapp"
    offered = slots_set(result)
    assert offered["time"] is None and offered["turnero_times"]
    assert time_id(TEN_THIRTY, clinic.professionals["ana"]) not in offered["turnero_times"]
    assert "se acaba de ocupar" in said(result)


def test_rasa_wins_and_whatsapp_gets_fresh_times(app, on_postgres, clinic, rasa: ActionServer):
    chat = _whatsapp_at_review(app, on_postgres)
    book = lambda: rasa.run("action_turnero_book", slots=_rasa_form(clinic))  # noqa: E731
    with _first_insert_runs(on_postgres, book) as won:
        reply = chat.says("sí")
    assert won and "Código de confirmación" in said(won[0])  # type: ignore[arg-type]
    [appointment] = appointments(on_postgres)
    assert appointment.source_channel == "rasa"
    assert chat.said == ["booking.slot_taken", "booking.ask_time"]
    assert ". 10:30\n" not in reply and ". 11:00\n" in reply


def test_one_after_the_other_the_second_hears_it_was_taken(app, db, clinic, rasa):
    chat = _whatsapp_at_review(app, db)
    chat.says("sí")
    result = rasa.run("action_turnero_book", slots=_rasa_form(clinic))
    assert len(appointments(db)) == 1
    assert "se acaba de ocupar" in said(result)
