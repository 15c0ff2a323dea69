"""Each report over a year of one clinic: p50 / p95 / max in ms (target: p95 <= 500 ms
with 1,000,000 appointments and their notifications, on PostgreSQL).

Setup: the history of `report_history.py` (a clinic, 30 professionals, `--appointments`
appointments over the year before a fixed "now", with their events, reminders and
messages, surveys, queue tickets, waitlist offers, no-show recoveries and campaigns),
kept in the database `--keep` (default `bench_reports_<appointments>`) on the server of
`--database-url` and reused while it holds a finished history, so a second run measures
without writing it again.

The worker's job that sums up each closed day of the clinic (`store.report_days`) runs
once before measuring, as it would have every ten minutes while the year went by; its
time is printed (a kept history keeps its days).

Measured: `usecases.reports.REPORTS[name](session, query)` in a fresh session, for the
whole year and for its last month, `--rounds` times each, in the staff member's language;
what a console page or the admin API does, minus rendering.

Run: python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1/postgres
     [--appointments 1000000] [--rounds 20] [--keep NAME] [--explain]
"""

import argparse
import logging
import statistics
import time
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import Session

try:
    from report_history import kept_history, print_facts
except ImportError:  # imported as bench.reports
    from bench.report_history import kept_history, print_facts
from bot.locale import configure
from config.tzcheck import use_packaged_tzdata
from store.db import make_engine
from store.report_days import summarize_all
from usecases.reports import REPORTS, ReportQuery

TARGET_MS = 500.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server's URL")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", metavar="NAME", help="the database the history lives in")
    parser.add_argument("--explain", action="store_true", help="print the slowest statements")
    args = parser.parse_args(argv)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    use_packaged_tzdata()
    configure()
    name = args.keep or f"bench_reports_{args.appointments}"
    url, facts, written = kept_history(args.database_url, name, args.appointments, args.seed)
    print(f"report history: database {name}")
    print_facts(facts, written)
    engine = make_engine(url)
    started = time.perf_counter()
    summed = summarize_all(engine, facts.now, most=None)
    print(
        f"  report days summed up: {summed} in {time.perf_counter() - started:.1f} s"
        " (the worker's job; days summed before are kept)"
    )
    statements: dict[str, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _ended(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        took = time.perf_counter() - conn.info.pop("started", time.perf_counter())
        statements[statement] = max(statements.get(statement, 0.0), took)

    periods = {
        "year": (facts.first_day, facts.now.date()),
        "month": (facts.now.date() - timedelta(days=30), facts.now.date()),
    }
    print(f"\n{'report':<14} {'period':<6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
    met = True
    for report, build in REPORTS.items():
        for period, (first, last) in periods.items():
            query = ReportQuery(
                clinic_id=facts.clinic_id, first_day=first, last_day=last, months=12, ticket=100
            )
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                with Session(engine) as session:
                    build(session, query)
                times.append((time.perf_counter() - started) * 1000)
            p95 = percentile(times, 0.95)
            ok = p95 <= TARGET_MS
            met = met and (ok or period != "year")
            print(
                f"{report:<14} {period:<6} {statistics.median(times):>8.1f} {p95:>8.1f}"
                f" {max(times):>8.1f}  {'met' if ok else 'NOT met'} (p95 <= {TARGET_MS:.0f})"
            )
    if args.explain:
        print("\nslowest statements:")
        for statement, took in sorted(statements.items(), key=lambda item: -item[1])[:5]:
            print(f"  {took * 1000:8.1f} ms  {' '.join(statement.split())[:300]}")
    engine.dispose()
    print(f"\nevery report over a year: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
