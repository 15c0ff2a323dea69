"""The outbox dispatcher's sustained send rate against the fake Twilio, through the real
twilio client, with per-sender pacing (target: no sender ever above its clinic's
`send_rate_per_second` in any one-second window at the fake; sustained ≥ 90% of it, or
of rate / (1 + latency) when the fake takes `--latency` to answer).

Setup: the fake Twilio (`turnero.fake_twilio.FakeTwilio`) on a free port of 127.0.0.1,
answering each send after `--latency` seconds (0 by default: at once; a real round trip
to Twilio takes of the order of 0.1–0.3 s, which is what parallel sends are for; the
one-second window, counted from the end of a send, then allows at most
rate / (1 + latency) on average); a fresh database (a SQLite file in a temp folder,
or with --database-url a scratch PostgreSQL database on that server,
`bench_dispatcher_rate_<pid>`, dropped and created again), migrated; two
clinics with their own sender numbers and rates (`--rates`, 80,80: Twilio's default for a
WhatsApp sender), and `--first` (5,000) and `--second` (2,000) messages queued for them,
each to its own patient.

Measured: one `scheduler.worker.dispatch_job` run (what the worker does each tick: it
drains a backlog batch after batch, `--batch` (50) at a time, `--at-once` (16) sends
waiting for their answers together, paced by the schedules every worker shares: the
database's, or Redis's with `--redis-url`), timed;
then, at the fake, when each message arrived (to the microsecond): per sender the
sustained rate (messages over the time from its first to its last arrival) and the most
arrivals in any one-second window; overall, while both had a backlog and over the whole
run. Then `--unpaced` (1,000) more messages for a clinic
with a rate no sender reaches, to show what the dispatcher does when pacing does not hold
it back.

Run: python bench/dispatcher_rate.py [--database-url URL] [--first 5000] [--second 2000]
     [--rates 80,80] [--latency 0] [--batch 50] [--at-once 16] [--redis-url URL]
     [--unpaced 1000] [--keep]
"""

import argparse
import logging
import sys
import tempfile
import time as clock
from datetime import UTC, datetime
from pathlib import Path

from _support import describe_url, drop_scratch_database, figure, scratch_database_url
from sqlalchemy import Engine

from channel.twilio import TwilioChannel
from config.tzcheck import use_packaged_tzdata
from scheduler.pacing import Pacer, busiest_second
from scheduler.redis_paces import RedisPaces
from scheduler.worker import dispatch_job
from store.db import make_engine, transaction
from store.migrate import upgrade
from store.models import Clinic
from store.outbox import enqueue
from store.sender_paces import StorePaces
from turnero.fake_twilio import FakeTwilio

SUSTAINED_SHARE = 0.9  # of the configured rate, while a backlog waits


def add_clinic(engine: Engine, number: str, rate: float, count: int) -> None:
    """A clinic sending from `number` at `rate`, with `count` messages queued."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        clinic = Clinic(name=f"Clínica {number}", whatsapp_number=number, send_rate_per_second=rate)
        session.add(clinic)
        session.flush()
        for n in range(count):
            enqueue(
                session,
                clinic_id=clinic.id or 0,
                idempotency_key=f"bench:{number}:{n}",
                from_phone=number,
                to_phone=f"+5959820{n:05d}",
                body=f"Recordatorio {n} de {number}: tu turno es mañana a las 10:30.",
                now=now,
            )


def arrivals(fake: FakeTwilio, number: str) -> list[float]:
    """When each message from `number` reached the fake, in seconds since the epoch."""
    return [
        datetime.fromisoformat(m["received_at"]).timestamp()
        for m in fake.messages
        if m["from"] == f"whatsapp:{number}"
    ]


def sustained(moments: list[float]) -> float:
    """Messages per second from the first arrival to the last."""
    if len(moments) < 2:
        return 0.0
    return (len(moments) - 1) / (max(moments) - min(moments))


def run(engine: Engine, fake: FakeTwilio, args: argparse.Namespace) -> float:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=10)
    shared = RedisPaces.from_url(args.redis_url) if args.redis_url else StorePaces(engine)
    started = clock.perf_counter()
    report = dispatch_job(
        engine,
        channel,
        lambda: datetime.now(UTC),
        limit=args.batch,
        pacer=Pacer(shared),
        sends_at_once=args.at_once,
    )
    took = clock.perf_counter() - started
    print(
        f"  dispatch_job: {report.sent:,} sent, {report.retried} retried, {report.failed} failed"
        f" in {took:.1f} s"
    )
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--first", type=int, default=5000, help="messages for the first sender")
    parser.add_argument("--second", type=int, default=2000, help="messages for the second")
    parser.add_argument("--rates", default="80,80", help="each sender's messages per second")
    parser.add_argument("--batch", type=int, default=50, help="messages claimed at a time")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each send waits")
    parser.add_argument("--at-once", type=int, default=16, help="sends waiting at a time")
    parser.add_argument("--redis-url", help="keep the senders' schedules in this Redis")
    parser.add_argument("--unpaced", type=int, default=1000, help="messages sent unpaced")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake's access log
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    use_packaged_tzdata()
    senders = {"+595981000001": (rates[0], args.first), "+595981000002": (rates[-1], args.second)}
    unpaced_sender = "+595981000003"

    with tempfile.TemporaryDirectory(prefix="bench-dispatcher-") as folder, FakeTwilio() as fake:
        url = scratch_database_url(args.database_url, "dispatcher_rate", Path(folder))
        print(f"dispatcher_rate: {describe_url(url)}; fake Twilio at {fake.url}")
        engine = make_engine(url)
        try:
            upgrade(url)
            for number, (rate, count) in senders.items():
                add_clinic(engine, number, rate, count)
            print(
                "  queued: "
                + ", ".join(f"{c:,} from {n} at {r:g}/s" for n, (r, c) in senders.items())
            )
            if args.latency > 0:
                fake.answer_late(args.first + args.second + args.unpaced, args.latency)
            took = run(engine, fake, args)
            paced = {number: arrivals(fake, number) for number in senders}
            unpaced: list[float] = []
            if args.unpaced:
                add_clinic(engine, unpaced_sender, 1_000_000.0, args.unpaced)
                print(f"  queued: {args.unpaced:,} from {unpaced_sender}, rate not limiting")
                run(engine, fake, args)
                unpaced = arrivals(fake, unpaced_sender)
        finally:
            engine.dispose()
            if not args.keep:
                drop_scratch_database(url)

    total = sum(len(m) for m in paced.values())
    bodies = len({m["body"] for m in fake.messages})
    print(f"  {len(fake.messages):,} messages at the fake, {bodies:,} different bodies")
    print()
    met = True
    for number, (rate, count) in senders.items():
        moments = paced[number]
        peak = busiest_second(moments)
        target = SUSTAINED_SHARE * rate / (1 + args.latency)  # what the window allows
        rate_met = sustained(moments) >= target
        met = met and peak <= rate and rate_met and len(moments) == count
        print(
            figure(
                f"sender {number}: sustained msgs/s",
                sustained(moments),
                "msgs/s",
                f">= {target:.4g}",
                rate_met,
            )
        )
        print(
            figure(
                f"sender {number}: most in any 1 s window",
                peak,
                "msgs",
                f"<= {rate:g}",
                peak <= rate,
            )
        )
    both_until = min(max(m) for m in paced.values() if m)
    both_from = min(min(m) for m in paced.values() if m)
    together = sum(1 for m in paced.values() for t in m if t <= both_until)
    print(
        figure(
            "overall msgs/s while both senders had a backlog",
            together / max(both_until - both_from, 1e-9),
            "msgs/s",
        )
    )
    print(figure("overall msgs/s (both senders, whole run)", total / took, "msgs/s"))
    if unpaced:
        print(figure("unpaced sender: sustained msgs/s", sustained(unpaced), "msgs/s"))
        print(figure("unpaced sender: most in any 1 s window", busiest_second(unpaced), "msgs"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
