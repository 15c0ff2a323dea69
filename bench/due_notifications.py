"""Due-notification scan on PostgreSQL: p50/p95 of the claim with 1,000,000 and 100,000
appointments, 1,000 reminders due in each (target: p95 <= 200 ms, growing with the due
work, not with the table).

Setup: for each size, a fresh database of its own (`bench_due_notifications_<pid>`, dropped and
created again, so nothing else on the server is touched), migrated with
`store.migrate.upgrade`. One clinic with its default notification rule, 50 professionals,
one 30-minute service, one patient per 10 appointments; then the appointments (back to
back per professional, spread over the year around "now") and one 24-hour reminder each,
bulk-loaded with `INSERT … SELECT … FROM generate_series` (the database builds the rows;
nothing crosses the wire). 90% of the appointments are in the past: their reminders are
queued (one in ten skipped); of the ones starting in the next day, 1,000 have a pending,
due reminder and the rest are queued already; later ones are pending, not yet due.
`ANALYZE` after the load.

Measured, `--runs` (15) times each, after a warm-up:
- the claim query alone (`SELECT … FOR UPDATE SKIP LOCKED LIMIT 500`, the pass's first
  statement), rolled back;
- `store.notifications.claim_due` (the claim plus the batch's appointments, patients,
  professionals, services and clinics, five statements), rolled back;
- the whole pass (`scheduler.notifications.queue_due_notifications` until nothing is due:
  checks, rendering in the patient's language, outbox rows; nothing is sent), after which
  the 1,000 are made pending again and their outbox rows deleted, untimed.
The plan of the claim query (EXPLAIN) is printed: it must read `ix_notification_due`.

Run: python bench/due_notifications.py [--database-url URL] [--sizes 1000000,100000]
     [--due 1000] [--runs 15] [--keep]
"""

import argparse
import logging
import tempfile
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _support import (
    describe_url,
    drop_scratch_database,
    figure,
    percentile,
    scratch_database_url,
)
from sqlalchemy import Engine, Select, text
from sqlmodel import Session, col, select

from bot import locale
from config.tzcheck import use_packaged_tzdata
from scheduler.notifications import queue_due_notifications
from store import notifications as due
from store.db import make_engine, transaction
from store.message_kinds import MessageKind
from store.migrate import upgrade
from store.models import Clinic, Notification, Professional, Service
from store.rules import add_default_rule

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/turnero_bench"
TARGET_P95_MS = 200.0
PROFESSIONALS = 50
SLOT = timedelta(minutes=30)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BATCH = 500


def timed(label: str, work: Callable[[], object]) -> object:
    started = clock.perf_counter()
    result = work()
    print(f"  {label}: {clock.perf_counter() - started:.1f} s")
    return result


def seed(engine: Engine, appointments: int, due_count: int) -> None:
    """The clinic, then appointments and their reminders built by the database."""
    with transaction(engine) as session:
        clinic = Clinic(
            name="Clínica Bench", timezone="America/Asuncion", whatsapp_number="+595981000000"
        )
        session.add(clinic)
        session.flush()
        add_default_rule(session, clinic.id or 0, NOW)
        session.add(Service(clinic_id=clinic.id or 0, name="Consulta", duration_minutes=30))
        session.add_all(
            Professional(clinic_id=clinic.id or 0, name=f"Profesional {n}")
            for n in range(PROFESSIONALS)
        )
    past = int(appointments * 0.9)
    # appointment i (from 0) is with professional i % P at base + (i // P) slots; the first
    # one after NOW is number `past`, so the first `due_count` after it have due reminders
    base = NOW + SLOT - (past // PROFESSIONALS) * SLOT
    params = {
        "n": appointments,
        "patients": max(appointments // 10, 1),
        "profs": PROFESSIONALS,
        "base": base,
        "now": NOW,
        "first_due": (past // PROFESSIONALS) * PROFESSIONALS,
        "due": due_count,
    }
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patient (clinic_id, phone, name, language, bot_paused, opted_out,"
                " first_seen_at)"
                " SELECT 1, '+5959' || lpad(i::text, 8, '0'), 'Paciente ' || i,"
                " (ARRAY['es','en','gn'])[1 + i % 3], false, false, :now"
                " FROM generate_series(1, :patients) AS i"
            ),
            params,
        )
        connection.execute(
            text(
                "INSERT INTO appointment (clinic_id, professional_id, service_id, patient_id,"
                " starts_at, ends_at, status, source_channel, code, new_patient, created_at,"
                " updated_at)"
                " SELECT 1, 1 + i % :profs, 1, 1 + i % :patients,"
                " :base + (i / :profs) * interval '30 minutes',"
                " :base + (i / :profs + 1) * interval '30 minutes',"
                " 'booked', 'whatsapp', 'B' || i, false, :now, :now"
                " FROM generate_series(0, :n - 1) AS i"
            ),
            params,
        )
        connection.execute(
            text(
                "INSERT INTO notification (clinic_id, appointment_id, kind, step, starts_at,"
                " due_at, status, reason, created_at, updated_at)"
                f" SELECT 1, a.id, '{MessageKind.reminder}', 'hours_before', a.starts_at,"
                " a.starts_at - interval '24 hours',"
                " CASE"
                "  WHEN a.id - 1 >= :first_due AND a.id - 1 < :first_due + :due THEN 'pending'"
                "  WHEN a.starts_at - interval '24 hours' > :now THEN 'pending'"
                "  WHEN a.id % 10 = 0 THEN 'skipped'"
                "  ELSE 'queued' END,"
                " NULL, :now, :now"
                " FROM appointment AS a"
            ),
            params,
        )
        connection.execute(text("ANALYZE"))


def claim_query() -> Select:
    """The claim query of `store.notifications.claim_due`."""
    return (
        select(Notification)
        .where(due.IS_PENDING, col(Notification.due_at) <= NOW)
        .order_by(col(Notification.due_at))
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Notification)
    )


def explain(engine: Engine) -> list[str]:
    compiled = claim_query().compile(dialect=engine.dialect)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params
        )
        lines = [str(row[0]) for row in plan]
        connection.rollback()
    return lines


def measure(engine: Engine, runs: int, due_count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"claim query": [], "claim + related rows": [], "pass": []}
    plan = explain(engine)
    print("  plan of the claim query:")
    for line in plan:
        print("    " + line)
    if "ix_notification_due" not in "\n".join(plan):
        print("  WARNING: the claim does not read ix_notification_due")

    for run in range(runs + 2):  # the first two warm up
        with engine.connect() as connection:
            started = clock.perf_counter()
            rows = connection.execute(claim_query()).all()
            elapsed_query = clock.perf_counter() - started
            connection.rollback()
        with Session(engine) as session, session.begin():
            started = clock.perf_counter()
            claimed = due.claim_due(session, NOW, BATCH)
            elapsed_claim = clock.perf_counter() - started
            session.rollback()
        assert len(rows) == len(claimed) == min(BATCH, due_count)
        started = clock.perf_counter()
        queued = 0
        while True:
            report = queue_due_notifications(
                engine, NOW, base_url="https://turnero.example.org", secret="bench", limit=BATCH
            )
            queued += report.queued
            if report.claimed < BATCH:
                break
        elapsed_pass = clock.perf_counter() - started
        assert queued == due_count, (queued, due_count, report)
        reset(engine)
        if run >= 2:
            times["claim query"].append(elapsed_query * 1000)
            times["claim + related rows"].append(elapsed_claim * 1000)
            times["pass"].append(elapsed_pass * 1000)
    return times


def reset(engine: Engine) -> None:
    """Make the pass's work due again (untimed). Foreign-key checks are off while the
    outbox rows go: `notification.outbox_message_id` has no index, so each deleted row
    would scan the whole table (the application never deletes outbox rows)."""
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(
            text(
                "UPDATE notification SET status = 'pending', outbox_message_id = NULL"
                " WHERE outbox_message_id IS NOT NULL"
            )
        )
        connection.execute(text("DELETE FROM outbox_message"))


def run_size(database_url: str, size: int, due_count: int, runs: int, keep: bool) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-due-") as folder:
        url = scratch_database_url(database_url, "due_notifications", Path(folder))
        print(f"\n{size:,} appointments, {due_count:,} due: {describe_url(url)}")
        engine = make_engine(url)
        try:
            timed("migrate", lambda: upgrade(url))
            timed("load (generate_series)", lambda: seed(engine, size, due_count))
            with engine.connect() as connection:
                counts = connection.execute(
                    text("SELECT status, count(*) FROM notification GROUP BY status ORDER BY 1")
                ).all()
            print("  notifications: " + ", ".join(f"{s} {n:,}" for s, n in counts))
            times = measure(engine, runs, due_count)
        finally:
            engine.dispose()
            if not keep:
                drop_scratch_database(url)
    met = True
    for label, values in times.items():
        target = TARGET_P95_MS if label != "pass" else None
        p95 = percentile(values, 0.95)
        print(figure(f"{size:>9,} appts: {label} p50", percentile(values, 0.5), "ms"))
        print(
            figure(
                f"{size:>9,} appts: {label} p95",
                p95,
                "ms",
                f"<= {TARGET_P95_MS:.0f} ms" if target else "",
                p95 <= target if target else None,
            )
        )
        if target:
            met = met and p95 <= target
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL URL")
    parser.add_argument("--sizes", default="1000000,100000", help="appointments, comma-separated")
    parser.add_argument("--due", type=int, default=1000, help="reminders due")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each measure")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    use_packaged_tzdata()
    locale.configure()
    met = True
    for size in (int(s) for s in args.sizes.split(",")):
        met = run_size(args.database_url, size, args.due, args.runs, args.keep) and met
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
