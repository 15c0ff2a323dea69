"""The reports' benchmark history holds together: written into the test database, its
appointments never overlap, every reminder points at its own message, its shares are
near what it asks for, and every report reads it over the year."""

from collections import Counter

from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.report_history import write_history
from usecases.reports import REPORTS, ReportQuery


def test_a_small_history_is_whole_and_every_report_reads_it(db: Engine) -> None:
    facts = write_history(db, appointments=2_000, seed=3)
    with db.connect() as connection:
        counted = connection.execute(text("SELECT count(*) FROM appointment")).scalar()
        overlapping = connection.execute(
            text(
                "SELECT count(*) FROM appointment a JOIN appointment b"
                " ON a.professional_id = b.professional_id AND a.id < b.id"
                " AND a.status NOT IN ('cancelled') AND b.status NOT IN ('cancelled')"
                " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            )
        ).scalar()
        astray = connection.execute(
            text(
                "SELECT count(*) FROM notification n JOIN outbox_message o"
                " ON o.id = n.outbox_message_id WHERE o.appointment_id != n.appointment_id"
            )
        ).scalar()
        statuses = Counter(
            dict(
                connection.execute(
                    text("SELECT status, count(*) FROM appointment GROUP BY 1")
                ).all()
            )  # type: ignore[arg-type]
        )
    assert counted == facts.appointments and counted >= 1_900
    assert overlapping == 0
    assert astray == 0
    past = sum(statuses[s] for s in ("completed", "no_show", "arrived"))
    assert 0.03 < statuses["no_show"] / past < 0.2
    query = ReportQuery(
        clinic_id=facts.clinic_id, first_day=facts.first_day, last_day=facts.last_day
    )
    with Session(db) as session:
        for name, build in REPORTS.items():
            assert build(session, query).tables, name
