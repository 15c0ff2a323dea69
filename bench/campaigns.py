"""Campaigns at scale (targets: building the audience of 100,000 appointments and fixing
it — its recipients kept — within 2 s on PostgreSQL; a 20,000-recipient campaign drained
at the sender's pace, never above its rate in any second at the fake Twilio and at least
90% of it sustained, with no phone written to twice).

Setup: a fresh database (with --database-url a scratch PostgreSQL database on that server,
`bench_campaigns_<pid>`, dropped and created again; else a SQLite file), migrated; a clinic with
`--professionals` (500) professionals each seeing a patient every 10 minutes, 40 a day,
over five days: `--appointments` (100,000) appointments of as many patients, inserted in
bulk, then analysed (as autovacuum would after such an insert). Measured:
`usecases.campaigns.audience` (the build: matched, grouped, exclusions counted) and
`usecases.campaigns.start` (the fix: the campaign taken, its recipients kept, its first
messages written in their patients' languages and queued), timed apart. Then a second
clinic sending at `--rate` (80, Twilio's default) and a campaign of `--drain` (20,000) of
its appointments, drained by `scheduler.worker.dispatch_job` to the fake Twilio while the
worker's campaigns job writes the rest ahead of it every two seconds; at the fake, the
busiest second, the sustained rate and the phones written twice.

Run: python bench/campaigns.py [--database-url URL] [--appointments 100000] [--drain 20000]
     [--rate 80] [--keep]
"""

import argparse
import logging
import sys
import tempfile
import threading
import time as clock
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _support import describe_url, drop_scratch_database, figure, scratch_database_url
from dispatcher_rate import arrivals, sustained
from sqlalchemy import Engine, func, insert, select, text
from sqlmodel import Session, col

from bot import locale
from bot.links import Links
from bot.locale import LANGUAGES
from channel.twilio import TwilioChannel
from config.tzcheck import use_packaged_tzdata
from scheduler.campaigns import campaigns_job
from scheduler.pacing import Pacer, busiest_second
from scheduler.worker import dispatch_job
from store.campaigns import Filters
from store.content_templates import put_template
from store.db import make_engine, transaction
from store.message_kinds import MessageKind
from store.migrate import upgrade
from store.models import (
    Appointment,
    Campaign,
    Clinic,
    OutboxMessage,
    Patient,
    Professional,
    Service,
)
from store.outbox import STILL_TO_SEND
from store.sender_paces import StorePaces
from turnero.fake_twilio import FakeTwilio
from usecases import campaigns

ASU = ZoneInfo("America/Asuncion")
FIRST_DAY = date(2030, 3, 4)  # a Monday, far from any clock the database has seen
DAYS, PER_DAY = 5, 40
LINKS = Links("https://turnero.example.org", "bench-secret")
BUILD_TARGET = 2.0
SUSTAINED_SHARE = 0.9
WORKER_SECONDS = 2.0  # the worker's interval (`scheduler.worker.run_worker`)


def seed(engine: Engine, number: str, rate: float, appointments: int) -> tuple[int, int]:
    """A clinic with `appointments` appointments over five days; its id and professionals."""
    professionals = -(-appointments // (DAYS * PER_DAY))
    with transaction(engine) as session:
        clinic = Clinic(name=f"Clínica {number}", whatsapp_number=number, send_rate_per_second=rate)
        session.add(clinic)
        session.flush()
        cid = clinic.id or 0
        service = Service(clinic_id=cid, name="Consulta", duration_minutes=10)
        session.add(service)
        staff = [Professional(clinic_id=cid, name=f"Dr. {n}") for n in range(professionals)]
        session.add_all(staff)
        session.flush()
        patients = [
            {
                "clinic_id": cid,
                "phone": f"+59598{number[-2:]}{n:06d}",
                "name": f"Paciente {n}",
                "language": LANGUAGES[n % 3],
                "bot_paused": n % 97 == 0,
                "opted_out": n % 89 == 0,
                "first_seen_at": datetime.now(UTC),
            }
            for n in range(appointments)
        ]
        ids = session.execute(insert(Patient).returning(Patient.id), patients).scalars().all()
        rows = []
        for n, patient_id in enumerate(ids):
            professional = staff[n % professionals]
            slot = n // professionals
            day = FIRST_DAY + timedelta(days=slot // PER_DAY)
            start = datetime.combine(day, time(8), tzinfo=ASU) + timedelta(
                minutes=10 * (slot % PER_DAY)
            )
            rows.append(
                {
                    "clinic_id": cid,
                    "professional_id": professional.id,
                    "service_id": service.id,
                    "patient_id": patient_id,
                    "starts_at": start.astimezone(UTC),
                    "ends_at": (start + timedelta(minutes=10)).astimezone(UTC),
                    "status": "booked",
                    "source_channel": "console",
                    "code": f"B{number[-2:]}{n:07d}",
                    "new_patient": False,
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
            )
        session.execute(insert(Appointment), rows)
    with engine.begin() as connection:  # what autovacuum would learn of the bulk insert
        connection.execute(text("ANALYZE"))
    return cid, professionals


def approve_all(engine: Engine, clinic_id: int) -> None:
    """The clinic's approved templates of the closure notice, in every language."""
    with transaction(engine) as session:
        for n, language in enumerate(LANGUAGES):
            put_template(
                session,
                clinic_id,
                MessageKind.campaign_closure,
                language,
                content_sid=f"HX{n:032d}",
                variables={"1": "patient_name", "2": "date"},
                allowed_tags={"patient_name", "date"},
                now=datetime.now(UTC),
            )


def build_and_fix(
    engine: Engine, clinic_id: int, days: int, now: datetime
) -> tuple[float, float, int]:
    """The audience built, then the campaign started: seconds for each, messages queued."""
    last = FIRST_DAY + timedelta(days=days - 1)
    draft = campaigns.Draft(MessageKind.campaign_closure, Filters(FIRST_DAY, last))
    started = clock.perf_counter()
    with Session(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        found = campaigns.audience(session, clinic, draft, now)
    built = clock.perf_counter() - started
    made = campaigns.create(
        engine,
        clinic_id,
        draft,
        token=f"bench:{clinic_id}:{days}",
        send_at=now,
        by="bench",
        now=now,
        links=LINKS,
    )
    assert made.campaign_id is not None
    started = clock.perf_counter()
    queued = campaigns.start(engine, made.campaign_id, now, LINKS)
    fixed = clock.perf_counter() - started
    assert queued == found.messages
    campaigns.stop(engine, clinic_id, made.campaign_id, "bench", now)  # measured: not sent
    return built, fixed, queued


def drain_campaign(engine: Engine, clinic_id: int) -> int:
    """Start a closure notice of all the clinic's appointments; how many messages it queued."""
    now = datetime.now(UTC)
    draft = campaigns.Draft(
        MessageKind.campaign_closure, Filters(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    )
    made = campaigns.create(
        engine, clinic_id, draft, token=f"drain:{clinic_id}", send_at=None, by="bench", now=now,
        links=LINKS,
    )  # fmt: skip
    return made.queued


@contextmanager
def writing_ahead(engine: Engine) -> Iterator[None]:
    """The worker's campaigns job beside the dispatcher, every `WORKER_SECONDS`, as
    `scheduler.worker` runs it: it writes the campaign's messages ahead of the sender."""
    done = threading.Event()

    def run() -> None:
        while not done.wait(WORKER_SECONDS):
            campaigns_job(
                engine, lambda: datetime.now(UTC), links=LINKS, interval_seconds=WORKER_SECONDS
            )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()


def sent_all(engine: Engine, clinic_id: int) -> bool:
    """Whether the clinic's campaign has every message written and none left to send."""
    with Session(engine) as session:
        writing = session.scalar(
            select(func.count()).where(
                col(Campaign.clinic_id) == clinic_id, col(Campaign.status) == "writing"
            )
        )
        waiting = session.scalar(
            select(func.count()).where(
                col(OutboxMessage.clinic_id) == clinic_id,
                col(OutboxMessage.status).in_(STILL_TO_SEND),
            )
        )
    return writing == 0 and waiting == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--drain", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=80.0)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    logging.getLogger("scheduler.dispatcher").setLevel(logging.ERROR)  # not sendable, told
    use_packaged_tzdata()
    locale.configure()
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as folder:
        url = scratch_database_url(args.database_url, "campaigns", Path(folder))
        print(f"campaigns: {describe_url(url)}")
        engine = make_engine(url)
        try:
            upgrade(url)
            big, _ = seed(engine, "+595981000011", 10_000, args.appointments)
            built, fixed, queued = build_and_fix(engine, big, DAYS, datetime.now(UTC))
            print(f"  {args.appointments:,} appointments, {queued:,} messages queued")
            print(figure("audience built", built, "s"))
            print(figure("recipients fixed, messages written and queued", fixed, "s"))
            total = built + fixed
            ok &= total <= BUILD_TARGET
            print(
                figure("built and fixed", total, "s", f"≤ {BUILD_TARGET} s", total <= BUILD_TARGET)
            )

            sender = "+595981000022"
            small, _ = seed(engine, sender, args.rate, args.drain)
            approve_all(engine, small)  # nobody wrote lately: each goes as the template
            drained = drain_campaign(engine, small)
            with FakeTwilio() as fake, writing_ahead(engine):
                channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
                started = clock.perf_counter()
                while not sent_all(engine, small):
                    dispatch_job(engine, channel, lambda: datetime.now(UTC),
                                 limit=50, pacer=Pacer(StorePaces(engine)))  # fmt: skip
                took = clock.perf_counter() - started
                moments = arrivals(fake, sender)
                twice = sum(n > 1 for n in Counter(m["to"] for m in fake.messages).values())
            busiest = busiest_second(moments)
            rate = sustained(moments)
            print(f"  {len(moments):,} of {drained:,} sent in {took:.1f} s")
            print(
                figure("busiest second", busiest, "msg", f"≤ {args.rate:g}", busiest <= args.rate)
            )
            share = SUSTAINED_SHARE * args.rate
            print(figure("sustained", rate, "msg/s", f"≥ {share:g}", rate >= share))
            print(figure("phones written twice", twice, "", "0", twice == 0))
            ok &= busiest <= args.rate and rate >= share and twice == 0 and len(moments) == drained
            with Session(engine) as session:
                assert session.get(Campaign, 1) is not None
        finally:
            engine.dispose()
            if not args.keep:
                drop_scratch_database(url)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
