"""The booking page's calendar: p50/p95 of its answer — a month of days with space, then
one day's times — for 30 professionals and 50,000 appointments (target: p95 <= 15 ms on
PostgreSQL), and the first page's bytes (target: under 60 KB).

Setup: `first_available.py`'s scratch database and clinic (its "random" scenario: 30
professionals, 50,000 appointments of 15 or 30 minutes over 90 days, the day loads
written), with its booking page switched on. Measured: at random moments within the 90
days, in one fresh session, what `GET /r/<slug>/days?day=…` reads: `web.booking_page.calendar`
(the days with space of four weeks from today, "first available": every professional)
then `web.booking_page.day_times` of the first day with space, on one
`StoreAvailability` as the page does, timed together (database
reads included). Then `GET /r/<slug>` through the real app, and its body's bytes: the page
is one file (no fonts, styles or scripts fetched), so that is what the phone downloads.

Run: python bench/booking_calendar.py [--database-url URL] [--queries 400] [--keep]
"""

import argparse
import gzip
import logging
import tempfile
import time as clock
from datetime import datetime
from pathlib import Path

from _support import describe_url, drop_scratch_database, figure, percentile, scratch_database_url
from first_available import SCENARIOS, fill_day_loads, random_moments, seed, timed
from sqlalchemy import Engine, text, update
from sqlmodel import Session, col, select

from config.settings import Settings
from config.tzcheck import use_packaged_tzdata
from store.db import make_engine, transaction
from store.migrate import upgrade
from store.models import Clinic, Professional, Service
from usecases.stored_availability import StoreAvailability, booking_rules
from web.booking_page import Choice, calendar, day_times
from webhook import create_app

TARGET_P95_MS = 15.0
TARGET_FIRST_PAGE_BYTES = 60_000
SLUG = "bench"


def open_page(engine: Engine, clinic_id: int) -> None:
    with transaction(engine) as session:
        session.execute(
            update(Clinic)
            .where(col(Clinic.id) == clinic_id)
            .values(booking_slug=SLUG, web_booking=True)
        )


def measure(
    engine: Engine, clinic_id: int, service_id: int, moments: list[datetime]
) -> list[float]:
    """Milliseconds of each calendar answer, and the answers checked to hold a time."""
    times: list[float] = []
    with Session(engine) as session:
        service = session.get(Service, service_id)
        names = {p.id or 0: p.name for p in session.exec(select(Professional))}
        session.expunge_all()
    assert service is not None
    choice = Choice(service, None, list(names), names)
    for now in moments:
        started = clock.perf_counter()
        with transaction(engine) as session:
            clinic = session.get(Clinic, clinic_id)
            assert clinic is not None
            availability = StoreAvailability(session, clinic, now)
            month = calendar(availability, choice, booking_rules(clinic).local_date(now))
            first = min(month.free) if month.free else None
            slots = day_times(availability, choice, first) if first else []
        times.append((clock.perf_counter() - started) * 1000)
        assert not month.free or slots, f"{first} shown with space but no times at {now}"
    return times


def first_page(url: str, moment: datetime) -> tuple[int, int]:
    """The first page's bytes as served, and gzipped (what a proxy that compresses sends)."""
    settings = Settings(database_url=url, secret_key="bench-secret")
    app = create_app(settings, clock=lambda: moment)
    response = app.test_client().get(f"/r/{SLUG}", headers={"Accept-Language": "es"})
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    return len(body), len(gzip.compress(body))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--queries", type=int, default=400, help="timed answers")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    scenario = SCENARIOS["random"]
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    use_packaged_tzdata()
    with tempfile.TemporaryDirectory(prefix="bench-booking-calendar-") as folder:
        url = scratch_database_url(args.database_url, "booking_calendar", Path(folder))
        print(f"booking_calendar: {describe_url(url)}")
        engine = make_engine(url)
        try:
            timed("migrate", lambda: upgrade(url))
            seeded = timed("seed", lambda: seed(engine, scenario))
            clinic_id, service, _, fill, count = seeded  # type: ignore[misc]
            timed("day loads", lambda: fill_day_loads(engine, clinic_id, scenario))
            open_page(engine, clinic_id)
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            print(f"  30 professionals, {count:,} appointments ({fill:.0%} of working time)")
            measure(engine, clinic_id, service.id, random_moments(20, 1, scenario))  # warm up
            times = measure(
                engine, clinic_id, service.id, random_moments(args.queries, 2, scenario)
            )
            plain, zipped = first_page(url, random_moments(1, 3, scenario)[0])
        finally:
            engine.dispose()
            if not args.keep:
                drop_scratch_database(url)
    p95 = percentile(times, 0.95)
    print(figure("calendar answer p50", percentile(times, 0.5), "ms"))
    print(figure("calendar answer p95", p95, "ms", f"<= {TARGET_P95_MS:g}", p95 <= TARGET_P95_MS))
    met = plain <= TARGET_FIRST_PAGE_BYTES
    print(figure("first page, bytes as served", plain, "B", f"< {TARGET_FIRST_PAGE_BYTES:,}", met))
    print(figure("first page, bytes gzipped", zipped, "B"))
    return 0 if p95 <= TARGET_P95_MS and met else 1


if __name__ == "__main__":
    raise SystemExit(main())
