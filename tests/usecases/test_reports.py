"""Every figure of every report over a known month, counted by hand from
`tests.report_support` (the comments say which rows make each number)."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import product

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.db import transaction
from store.models import Appointment
from store.report_days import summarize_all
from tests.report_support import FIRST, LAST, ZONE, History, write_history
from tests.support import TestClinic, add_patient
from usecases.report_stats import Share, wilson
from usecases.reports import REPORTS, ReportQuery

SUMMED_AT = datetime(2026, 12, 5, 12, tzinfo=ZONE)  # every day of the month is over


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


@pytest.fixture(params=["counted live", "summed up by day"])
def history(request: pytest.FixtureRequest, db: Engine, clinic: TestClinic) -> dict[str, int]:
    """The known month, read from its rows, or from its days summed up as the worker
    does once they are over (`store.report_days`): the same figures either way."""
    ids = write_history(db, clinic)
    if request.param == "summed up by day":
        assert summarize_all(db, SUMMED_AT, most=None) >= (LAST - FIRST).days + 1
    return ids


def report(db: Engine, clinic: TestClinic, name: str, **asked: object) -> object:
    query = ReportQuery(clinic_id=clinic.id, first_day=FIRST, last_day=LAST, **asked)  # type: ignore[arg-type]
    with Session(db) as session:
        return REPORTS[name](session, query)


def rows(found: object, table: int = 0) -> list[list[object]]:
    return [list(row) for row in found.tables[table].rows]  # type: ignore[attr-defined]


def totals(found: object, table: int = 0) -> list[object]:
    return list(found.tables[table].totals)  # type: ignore[attr-defined]


def test_wilson_intervals_match_newcombes_published_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857–872, table I, method 3 (score, no
    # continuity correction)
    for part, whole, low, high in [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ]:
        found = wilson(part, whole)
        assert found is not None
        assert found[0] == pytest.approx(low, abs=5e-5)
        assert found[1] == pytest.approx(high, abs=5e-5)
    assert wilson(0, 0) is None
    assert not Share(3, 29).enough and Share(3, 30).enough


def test_consumption_by_kind_counts_what_twilio_took_and_what_came_of_it(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "consumption")
    # columns: messages, sent (Twilio took it), delivered (or read), read, failed,
    # failed but billed, not sent
    assert rows(found) == [
        # A1's booking_confirmation (read) and a reply (read): the chat's answers
        ["Respuestas del bot", 2, 2, 2, 2, 0, 0, 0],
        # A5's confirmation (delivered); L1's not sendable, never reached Twilio
        ["Asignaciones (confirmación de reserva)", 2, 1, 1, 0, 0, 0, 1],
        # A1 read, A2 A3 delivered, A4 sent, L1 failed, L2 L3 delivered, L4 read
        ["Recordatorios", 8, 8, 6, 2, 1, 1, 0],
        # a care message failed for a rate limit Meta imposed: Twilio waives the fee
        ["Después de la consulta", 1, 1, 0, 0, 1, 0, 0],
        # undelivered: a WhatsApp message Twilio does not charge
        ["Respuestas del personal", 1, 1, 0, 0, 1, 0, 0],
        ["Difusiones", 1, 1, 1, 0, 0, 0, 0],
    ]
    assert totals(found) == ["Total", 15, 14, 10, 4, 3, 1, 1]


def test_consumption_per_professional_follows_each_reminded_appointment(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "consumption")
    # booking confirmations, reminders sent, appointments asked, confirmed, cancelled,
    # rescheduled, no answer, % answered, % confirmed
    assert rows(found, 1) == [
        # A1 and A5 confirmations; reminders A1–A4, all asking; A1 confirmed, A4
        # cancelled, A2 and A3 said nothing
        ["Dra. Ana Benítez", 2, 4, 4, 1, 1, 0, 2, 0.5, 0.25],
        # L1's confirmation never reached Twilio; reminders L1 (failed: asked nobody),
        # L2, L3 (already confirmed: asks nothing), L4; L2 moved it, L4 confirmed
        ["Dr. Luis Ortiz", 0, 4, 2, 1, 0, 1, 0, 1.0, 0.5],
    ]
    assert totals(found, 1) == ["Total", 2, 8, 6, 2, 1, 1, 2, 4 / 6, 2 / 6]


def test_absences_by_reminder_with_their_intervals(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "absences")
    groups = {row[0]: row for row in rows(found)}
    # with an outcome: A1 A2 A3 A5 L1 L2 L3 L4 W1; absent: A2 L1 L4
    assert groups["Todos los turnos"][1:3] == [9, 3]
    # A1 and L4 confirmed after their reminder, L3 before its reminder_confirmed; L4 missed
    assert groups["Con recordatorio confirmado"][1:3] == [3, 1]
    assert groups["Con recordatorio sin respuesta"][1:3] == [2, 1]  # A2 missed, A3 came
    # A5 and W1 had none; L1's failed; L2's was about the time it moved from
    assert groups["Sin recordatorio"][1:3] == [4, 1]
    all_row = groups["Todos los turnos"]
    assert all_row[3] == pytest.approx(1 / 3)
    # Wilson 95% for 3 of 9, by the formula: centre (p + z²/2n)/(1 + z²/n), half-width
    # z·sqrt(p(1−p)/n + z²/4n²)/(1 + z²/n), z = 1.959964
    assert all_row[4] == pytest.approx(0.12058, abs=5e-5)
    assert all_row[5] == pytest.approx(0.64580, abs=5e-5)
    assert all_row[6] == "muy pocos para concluir"
    by_day = {row[0]: row[1:] for row in rows(found, 1)}
    assert by_day["2026-11-03"] == [1, 1, 1.0]  # A2
    assert by_day["2026-11-02"] == [1, 0, 0.0]  # A1
    assert sum(row[0] for row in by_day.values()) == 9


def test_absences_of_one_professional(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "absences", professional_id=clinic.professionals["luis"])
    groups = {row[0]: row[1:3] for row in rows(found)}
    assert groups["Todos los turnos"] == [4, 2]  # L1 L4 missed; L2 L3 came
    assert groups["Con recordatorio confirmado"] == [2, 1]  # L3, L4
    assert groups["Sin recordatorio"] == [2, 1]  # L1 (failed), L2 (moved)


def test_profitability_estimates_per_professional(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(
        db,
        clinic,
        "profitability",
        months=1,
        ticket=100.0,
        recover_share=0.5,
        message_price=0.05,
    )
    # absences, to recover (× 0.5), visits per month, messages, cost (× 0.05),
    # gain (to recover × 100 − cost)
    assert rows(found) == [
        ["Dr. Luis Ortiz", 2, 1.0, 4.0, 4, pytest.approx(0.2), pytest.approx(99.8)],
        # messages: A1 ×2, A2, A3, A4, A5, W1's campaign message
        ["Dra. Ana Benítez", 1, 0.5, 5.0, 7, pytest.approx(0.35), pytest.approx(49.65)],
    ]
    assert totals(found) == [
        "Total",
        3,
        1.5,
        9.0,
        11,
        pytest.approx(0.55),
        pytest.approx(149.45),
    ]


def test_channels_with_their_outcomes_scores_and_waits(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "channels")
    # bookings, % absent (of those with an outcome), % cancelled, score, wait minutes
    assert rows(found) == [
        ["Bot de WhatsApp", 4, 0.5, 0.0, 5.0, 10.0],  # A1 A2 L2 L4
        ["Página web", 2, 0.0, 0.0, 3.0, 20.0],  # A3 A5
        ["Recepción", 1, None, 1.0, None, None],  # A4, cancelled
        ["Teléfono", 1, 1.0, 0.0, None, None],  # L1
        ["Asistente Rasa", 1, 0.0, 0.0, None, 30.0],  # L3
        # W1; H1, a hold released, was never a booking
        ["Oferta de lista de espera", 1, 0.0, 0.0, None, None],
        ["Reprogramado por el paciente (página)", 1, 0.0, 0.0, None, None],  # L2
    ]


def test_waiting_room_per_queue_professional_and_booking_channel(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "waiting_room")
    # arrivals, called, average wait, served, average service, no answer
    assert rows(found, 0) == [
        # walk-ins on the 18th, 19th (twice: no answer, never called) and the 30th at 23:30
        ["Laboratorio", 4, 3, (15 + 25 + 10) / 3, 2, (12 + 5) / 2, 1],
        ["Consulta general", 3, 3, (10 + 20 + 30) / 3, 3, (20 + 20 + 10) / 3, 0],  # A1 A5 L3
        ["Dr. Luis Ortiz", 1, 1, 5.0, 1, 15.0, 0],  # the walk-in to his own queue
    ]
    assert totals(found, 0) == ["Total", 8, 7, 115 / 7, 6, 82 / 6, 1]
    assert rows(found, 1) == [
        ["Sin profesional (llegó sin turno)", 4, 3, 50 / 3, 2, 8.5, 1],
        ["Dr. Luis Ortiz", 2, 2, (30 + 5) / 2, 2, (10 + 15) / 2, 0],  # L3, the walk-in
        ["Dra. Ana Benítez", 2, 2, 15.0, 2, 20.0, 0],  # A1 A5
    ]
    assert rows(found, 2) == [
        ["Sin turno (llegó sin turno)", 5, 4, 55 / 4, 3, 32 / 3, 1],
        ["Asistente Rasa", 1, 1, 30.0, 1, 10.0, 0],  # L3
        ["Bot de WhatsApp", 1, 1, 10.0, 1, 20.0, 0],  # A1
        ["Página web", 1, 1, 20.0, 1, 20.0, 0],  # A5
    ]
    assert totals(found, 1) == totals(found, 2) == totals(found, 0)
    chart = found.charts[0]  # type: ignore[attr-defined]
    assert chart.categories == ["Laboratorio", "Consulta general", "Dr. Luis Ortiz"]


def test_recovery_is_worth_the_visits_it_filled(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "recovery", ticket=100.0)
    assert [row[1:] for row in rows(found)] == [
        [2, None],  # W1's offer and H1's
        [1, None],  # W1's, taken
        [1, 100.0],  # W1 came
        [2, None],  # A2 and L1 missed
        [1, None],  # A2's patient booked L3
        [1, 100.0],  # and came
    ]
    assert totals(found) == ["Total", 2, 200.0]


def test_findings_say_when_there_are_too_few_to_conclude(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    found = report(db, clinic, "findings")
    said = [finding.says for finding in found.findings]  # type: ignore[attr-defined]
    assert not any(finding.sure for finding in found.findings)  # type: ignore[attr-defined]
    assert "1 de 3" in said[0] and "1 de 2" in said[0]  # confirmed vs unanswered
    assert "9 turnos con resultado" in said[-1]


def test_every_report_in_every_language_has_its_labels(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    for name in REPORTS:
        titles = set()
        for lang in ("es", "en", "gn"):
            found = report(db, clinic, name, lang=lang)
            titles.add(found.title)  # type: ignore[attr-defined]
            for table in found.tables:  # type: ignore[attr-defined]
                labels = [table.title, *(column.label for column in table.columns)]
                assert not [label for label in labels if label.startswith("reports.")], name
        assert len(titles) == 3, name


def test_a_period_outside_the_history_is_empty_not_an_error(
    db: Engine, clinic: TestClinic, history: dict[str, int]
) -> None:
    query = ReportQuery(clinic_id=clinic.id, first_day=date(2025, 1, 1), last_day=date(2025, 1, 31))
    with Session(db) as session:
        for name, build in REPORTS.items():
            assert build(session, query).tables, name


def test_findings_name_an_hour_and_the_reminders_effect_when_the_figures_are_sure(
    db: Engine, clinic: TestClinic
) -> None:
    """48 weeks: Monday 8:00–9:00 (four visits each) misses half and never answers its
    reminders; Tuesday to Friday 10:00 (two visits each) confirms and misses one in 20."""
    patient = add_patient(db, clinic.id, "+595981000002", "Rosa Giménez")
    monday = date(2026, 1, 5)
    with transaction(db) as session:
        h = History(session, clinic, patient)
        for week in range(48):
            start = monday + timedelta(weeks=week)
            for n, (who, minute) in enumerate(product(("ana", "luis"), (0, 30))):
                missed = n % 2 == 0
                at = local_at(start, 8, minute)
                visit = h.visit(
                    f"M{week}{n}",
                    who,
                    at,
                    "no_show" if missed else "completed",
                    confirmed=not missed,
                )
                h.reminder(visit)
            for day, who in product(range(1, 5), ("ana", "luis")):
                index = h.serial
                at = local_at(start + timedelta(days=day), 10)
                status = "no_show" if index % 20 == 0 else "completed"
                h.reminder(h.visit(f"T{week}{day}{who}", who, at, status, confirmed=True))
    with Session(db) as session:
        status = Counter(
            session.exec(select(Appointment.status)).all()  # type: ignore[call-overload]
        )
    absent, seen = status["no_show"], status["no_show"] + status["completed"]
    query = ReportQuery(
        clinic_id=clinic.id, first_day=date(2026, 1, 1), last_day=date(2026, 12, 31)
    )
    with Session(db) as session:
        found = REPORTS["findings"](session, query)
    sure = [f.says for f in found.findings if f.sure]  # type: ignore[attr-defined]
    clinic_rate = absent / seen
    assert seen == 576 and 96 < absent < 96 + 30
    hour = next(s for s in sure if "lunes de 8:00 a 9:00" in s)
    assert "96 de 192 (50,0" in hour
    assert f"{0.5 / clinic_rate:.1f}".replace(".", ",") + " veces" in hour
    effect = next(s for s in sure if "confirman el recordatorio" in s)
    others_absent = absent - 96
    assert f"{others_absent} de 480" in effect and "96 de 96 (100,0" in effect
