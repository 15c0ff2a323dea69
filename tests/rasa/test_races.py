"""A booking made through Rasa and one made over WhatsApp for the same time: the
database's overlap rule decides, exactly one wins, and the loser is offered the times
still free, read after it lost."""

import threading
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


def test_at_the_same_moment_each_time_is_booked_once(app, on_postgres, clinic, rasa):
    """Three WhatsApp patients and three Rasa ones confirm 10:30, 11:00 and 11:30 at once,
    one of each channel per time: each time is booked once, every loser hears it was
    taken and is offered times without it."""
    ana = clinic.professionals["ana"]
    hours = ["10:30", "11:00", "11:30"]
    chats = []
    for n, hour in enumerate(hours):
        chat = Chat(app.test_client(), on_postgres, phone=f"+59598100011{n}")
        for answer in ["hola", "1", "1", "mañana", hour, f"Ana Uno {'abc'[n]}", "-", "-"]:
            chat.says(answer)
        chats.append(chat)
    barrier = threading.Barrier(2 * len(hours))
    results: dict[str, object] = {}

    def whatsapp(n: int) -> None:
        barrier.wait()
        results[f"whatsapp {n}"] = chats[n].says("sí")

    def by_rasa(n: int) -> None:
        hour, minute = map(int, hours[n].split(":"))
        start = TEN_THIRTY.replace(hour=hour, minute=minute)
        form = {**_rasa_form(clinic), "time": time_id(start, ana), "phone": f"+59598100022{n}"}
        barrier.wait()
        results[f"rasa {n}"] = rasa.run("action_turnero_book", slots=form)

    threads = [threading.Thread(target=f, args=(n,)) for n in range(3) for f in (whatsapp, by_rasa)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    booked = appointments(on_postgres)
    assert sorted(a.starts_at.astimezone(ASU).strftime("%H:%M") for a in booked) == hours
    for n, hour in enumerate(hours):
        winner = next(a for a in booked if a.starts_at.astimezone(ASU).strftime("%H:%M") == hour)
        if winner.source_channel == "rasa":
            assert chats[n].said == ["booking.slot_taken", "booking.ask_time"]
            assert f". {hour}\n" not in str(results[f"whatsapp {n}"])
        else:
            lost = results[f"rasa {n}"]
            assert "se acaba de ocupar" in said(lost)  # type: ignore[arg-type]
            taken = time_id(winner.starts_at, ana)
            assert taken not in slots_set(lost)["turnero_times"]  # type: ignore[arg-type]
