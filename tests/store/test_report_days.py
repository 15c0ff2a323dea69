"""Report days: a report read from the days' summaries counts exactly what it would count
live from the rows, over any period, and goes on doing so when rows change after their
day was summed up, whoever changes them (the ORM or plain SQL), until and after the
worker sums the day up again."""

from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, text, update
from sqlmodel import Session, col

from bench.report_history import HistoryFacts, write_history
from scheduler.report_days import report_days_job
from store import message_counts, queue_counts, report_days, visit_counts
from store.models import (
    Appointment,
    AppointmentEvent,
    Clinic,
    QueueTicket,
    ReportDay,
    ReportHorizon,
)
from store.notification_plan import DAY_BEFORE, HOURS_BEFORE
from store.queue_counts import WaitingRoomFigures
from store.visit_counts import ReminderFilter, Span, span_of


@pytest.fixture
def history(db: Engine) -> HistoryFacts:
    return write_history(db, appointments=1_500, seed=11)


def _rows(found: list[Any]) -> list[tuple[Any, ...]]:
    """Results as sorted tuples, floats rounded (sums taken in another order)."""
    rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in astuple(f)) for f in found]
    return sorted(rows, key=repr)


def _room(found: WaitingRoomFigures) -> list[tuple[Any, ...]]:
    """The waiting room's groups as sorted tuples, floats rounded."""
    groupings = {"queue": found.by_queue, "channel": found.by_channel}
    groups = [(name, key, f) for name, keyed in groupings.items() for key, f in keyed.items()]
    groups += [("professional", str(key), f) for key, f in found.by_professional.items()]
    return sorted(
        (name, key, *(round(v, 6) if isinstance(v, float) else v for v in astuple(f)))
        for name, key, f in groups
    )


def _reads(session: Session, span: Span) -> dict[str, Any]:
    """Every figure a report reads, by the summaries' readers and live."""
    reminders = [
        ReminderFilter(),
        ReminderFilter(step=DAY_BEFORE),
        ReminderFilter(step=HOURS_BEFORE),
    ]
    figures: dict[str, Any] = {
        "messages": (report_days.count_messages, message_counts.count_messages),
        "professionals": (
            report_days.professional_messages,
            message_counts.professional_messages,
        ),
        "days": (report_days.visits_by_day, visit_counts.visits_by_day),
        "hours": (report_days.visits_by_hour_of_week, visit_counts.visits_by_hour_of_week),
        "channels": (report_days.channel_figures, visit_counts.channel_figures),
    }
    found = {
        name: (_rows(summed(session, span)), _rows(live(session, span)))
        for name, (summed, live) in figures.items()
    }
    found["waiting room"] = (
        _room(report_days.waiting_room_figures(session, span)),
        _room(queue_counts.waiting_room_figures(session, span)),
    )
    for reminder in reminders:
        found[f"visits {reminder.step}"] = (
            _rows(report_days.visits_by_reminder(session, span, reminder)),
            _rows(visit_counts.visits_by_reminder(session, span, reminder)),
        )
    return found


def _periods(session: Session, facts: HistoryFacts) -> list[Span]:
    today = facts.now.date()
    return [
        span_of(session, facts.clinic_id, facts.first_day, today),  # the year, to today
        span_of(session, facts.clinic_id, today - timedelta(days=30), today),
        span_of(session, facts.clinic_id, date(2026, 3, 9), date(2026, 3, 15)),  # a week
        span_of(session, facts.clinic_id, date(2026, 6, 2), date(2026, 6, 2)),  # a day
        span_of(session, facts.clinic_id, today - timedelta(days=3), facts.last_day),
    ]


def _assert_same(engine: Engine, facts: HistoryFacts) -> None:
    with Session(engine) as session:
        for span in _periods(session, facts):
            for name, (summed, live) in _reads(session, span).items():
                assert summed == live, f"{name} over {span.start:%Y-%m-%d}..{span.end:%Y-%m-%d}"


def _summed_days(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM report_day")).scalar() or 0)


def _stale(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM report_stale")).scalar() or 0)


def test_the_summaries_count_what_the_rows_count_over_any_period(
    db: Engine, history: HistoryFacts
) -> None:
    assert report_days.summarize_all(db, history.now, most=None) > 300
    with db.connect() as connection:
        first, last = connection.execute(text("SELECT min(day), max(day) FROM report_day")).one()
    first, last = date.fromisoformat(str(first)), date.fromisoformat(str(last))
    assert first <= history.first_day  # from the first message (booked ahead) ...
    assert last == history.now.date() - timedelta(days=2)  # ... to the day before yesterday
    assert _summed_days(db) == (last - first).days + 1
    assert report_days.summarize_all(db, history.now, most=None) == 0  # nothing left to do
    _assert_same(db, history)


def test_a_run_sums_up_the_newest_days_first_and_the_rest_later(
    db: Engine, history: HistoryFacts
) -> None:
    assert report_days.summarize_all(db, history.now, most=10) == 10
    with Session(db) as session:
        days = sorted(session.exec(text("SELECT day FROM report_day")).scalars())  # type: ignore[call-overload]
    assert str(days[-1]).startswith(str(history.now.date() - timedelta(days=2)))
    _assert_same(db, history)  # ten days summed up, the rest counted live


def _one(connection: Connection, query: str) -> Any:
    row = connection.execute(text(query)).first()
    assert row is not None, query
    return row


def _absence_marked_late(connection: Connection) -> None:
    (found,) = _one(connection, "SELECT min(id) FROM appointment WHERE status = 'completed'")
    connection.execute(
        text("UPDATE appointment SET status = 'no_show' WHERE id = :i"), {"i": found}
    )


def _reminder_undelivered(connection: Connection) -> None:
    (found,) = _one(
        connection, "SELECT min(id) FROM outbox_message WHERE kind = 'reminder' AND status = 'read'"
    )
    connection.execute(
        text(
            "UPDATE outbox_message SET status = 'undelivered', error_code = '63024' WHERE id = :i"
        ),
        {"i": found},
    )


def _answer_written_late(connection: Connection) -> None:
    clinic_id, appointment_id, sent_at = _one(
        connection,
        "SELECT o.clinic_id, o.appointment_id, o.created_at FROM outbox_message o"
        " WHERE o.kind = 'reminder' AND o.status = 'read' AND NOT EXISTS (SELECT 1"
        " FROM appointment_event e WHERE e.appointment_id = o.appointment_id"
        " AND e.actor = 'patient') ORDER BY o.id LIMIT 1",
    )
    connection.execute(
        insert(AppointmentEvent).values(
            clinic_id=clinic_id,
            appointment_id=appointment_id,
            kind="cancelled",
            actor="patient",
            channel="whatsapp",
            at=_utc(sent_at) + timedelta(minutes=1),
        )
    )


def _professional_changed(connection: Connection) -> None:
    (other,) = _one(connection, "SELECT max(id) FROM professional")
    (found,) = _one(
        connection,
        "SELECT min(a.id) FROM appointment a JOIN outbox_message o ON o.appointment_id = a.id"
        f" WHERE o.kind = 'reminder' AND a.professional_id <> {other}",
    )
    connection.execute(
        text("UPDATE appointment SET professional_id = :p WHERE id = :i"), {"p": other, "i": found}
    )


def _moved(connection: Connection) -> None:
    found, starts_at, ends_at = _one(
        connection,
        "SELECT id, starts_at, ends_at FROM appointment WHERE status = 'no_show'"
        " ORDER BY starts_at LIMIT 1",
    )
    week = timedelta(days=7)
    connection.execute(
        update(Appointment)
        .where(col(Appointment.id) == found)
        .values(starts_at=_utc(starts_at) + week, ends_at=_utc(ends_at) + week)
    )


def _survey_answered(connection: Connection) -> None:
    (found,) = _one(connection, "SELECT min(id) FROM survey_response WHERE score IS NULL")
    connection.execute(text("UPDATE survey_response SET score = 1 WHERE id = :i"), {"i": found})


def _called_later(connection: Connection) -> None:
    found, called_at = _one(
        connection,
        "SELECT id, called_at FROM queue_ticket WHERE called_at IS NOT NULL ORDER BY id LIMIT 1",
    )
    connection.execute(
        update(QueueTicket)
        .where(col(QueueTicket.id) == found)
        .values(called_at=_utc(called_at) + timedelta(minutes=40))
    )


def _walk_in_ended_later(connection: Connection) -> None:
    found, ended_at = _one(
        connection,
        "SELECT id, ended_at FROM queue_ticket WHERE appointment_id IS NULL"
        " AND status = 'served' ORDER BY id LIMIT 1",
    )
    connection.execute(
        update(QueueTicket)
        .where(col(QueueTicket.id) == found)
        .values(ended_at=_utc(ended_at) + timedelta(minutes=25))
    )


def _notification_removed(connection: Connection) -> None:
    (found,) = _one(
        connection,
        "SELECT min(n.id) FROM notification n JOIN outbox_message o"
        " ON o.id = n.outbox_message_id JOIN appointment a ON a.id = n.appointment_id"
        " WHERE n.kind = 'reminder' AND o.status = 'read' AND a.status = 'completed'",
    )
    connection.execute(text("DELETE FROM notification WHERE id = :i"), {"i": found})


def _utc(value: Any) -> datetime:
    """A time as read back in plain SQL (SQLite gives it as text)."""
    found = datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=UTC)


CHANGES = {
    "an absence marked late": _absence_marked_late,
    "a reminder found undelivered by a status callback": _reminder_undelivered,
    "an answer written late": _answer_written_late,
    "an appointment given to another professional": _professional_changed,
    "an appointment moved a week": _moved,
    "a survey answered": _survey_answered,
    "a waiting-room call later than it was": _called_later,
    "a walk-in's visit ending later than it did": _walk_in_ended_later,
    "a reminder's notification taken away": _notification_removed,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_after_its_day_was_summed_up_is_counted_at_once(
    db: Engine, history: HistoryFacts, change: str
) -> None:
    report_days.summarize_all(db, history.now, most=None)
    before = _summed_days(db)
    with db.begin() as connection:
        CHANGES[change](connection)
    assert _stale(db) > 0  # the change marked its times
    _assert_same(db, history)  # counted live until summed up again
    report_days.summarize_all(db, history.now, most=None)
    assert _stale(db) == 0 and _summed_days(db) == before
    _assert_same(db, history)


def test_a_change_to_a_day_not_summed_up_marks_nothing(db: Engine, history: HistoryFacts) -> None:
    report_days.summarize_all(db, history.now, most=None)
    with db.begin() as connection:
        connection.execute(
            text(
                "UPDATE appointment SET status = 'no_show' WHERE id = (SELECT max(id)"
                " FROM appointment WHERE status = 'completed')"  # yesterday or today
            )
        )
    assert _stale(db) == 0


def test_a_clinic_that_changes_its_time_zone_has_its_days_cut_again(
    db: Engine, history: HistoryFacts
) -> None:
    report_days.summarize_all(db, history.now, most=None)
    with Session(db) as session:
        clinic = session.get(Clinic, history.clinic_id)
        assert clinic is not None
        clinic.timezone = "America/Sao_Paulo"
        session.add(clinic)
        session.commit()
    _assert_same(db, history)  # the old days are not read in the new zone
    report_days.summarize_all(db, history.now, most=None)
    with Session(db) as session:
        horizon = session.get(ReportHorizon, history.clinic_id)
        assert horizon is not None and horizon.timezone == "America/Sao_Paulo"
        assert session.get(ReportDay, (history.clinic_id, history.first_day)) is not None
    _assert_same(db, history)


def test_the_horizon_moves_with_the_days(db: Engine, history: HistoryFacts) -> None:
    earlier = history.now - timedelta(days=20)
    report_days.summarize_all(db, earlier, most=None)
    days = _summed_days(db)
    assert report_days.summarize_all(db, history.now, most=None) == 20
    assert _summed_days(db) == days + 20
    _assert_same(db, history)


def test_a_run_waits_for_transactions_that_began_before_it(
    on_postgres: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_days, "SETTLED_WAIT", 0.3)
    with on_postgres.connect() as writing:
        writing.execute(text("SELECT pg_current_xact_id()"))  # a transaction that writes
        assert not report_days._settled(on_postgres)
        assert report_days.summarize_all(on_postgres, datetime.now().astimezone()) == 0
        writing.rollback()
    assert report_days._settled(on_postgres)


def test_the_workers_pass_sums_up_days_and_never_raises(
    db: Engine, history: HistoryFacts, caplog: pytest.LogCaptureFixture
) -> None:
    assert report_days_job(db, lambda: history.now) == report_days.DAYS_PER_RUN

    def broken() -> datetime:
        raise RuntimeError("no clock")

    assert report_days_job(db, broken) == 0
    assert "could not be summed up" in caplog.text
