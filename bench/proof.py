"""The one command that proves Turnero under load, faults and hostile input, against real
PostgreSQL: two servers and two workers (`bench.cluster`), the fake Twilio as a process of
its own, and one table of figures, each against its target; exit 1 when one is not met.

    python bench/proof.py [--quick] [--minutes N] [--outage-minutes N]
                          [--restart-postgres] [--database-url URL]

load — about 1,000 messages a minute for `--minutes` (10; 1 with `--quick`), from 170
patients a minute (`--patients-a-minute`), each holding a conversation: a fifth start a
booking ("hola" to the confirmation), half are mid-flow (their "hola" was answered before
the clock started) and answer three questions, the rest reply "1" to a reminder of an
appointment they already have. Every inbound message must be kept, answered once and its
answer delivered once, in order per patient; no professional booked twice at one time.

faults — on a second cluster: Twilio down `--outage-minutes` (10; 0.5 with `--quick`)
while patients write and care messages are queued, then up; PostgreSQL's connections all
terminated three times mid-load (`pg_terminate_backend`; `--restart-postgres` restarts
the server with pg_ctlcluster instead, which everybody on it notices); a worker SIGKILLed
with sends Twilio accepted and never answered; Twilio answering after the client gave up.

hostile — the property tests (tests/webhook, tests/web: hypothesis) run on the database,
and a burst of garbage posts interleaved with real messages against a running server."""

import argparse
import heapq
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from sqlalchemy import Engine, bindparam, create_engine, make_url, text
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from bench.cluster import (
    CLINIC_NUMBER,
    INBOUND_PATH,
    PUBLIC_BASE_URL,
    Cluster,
    queue_burst,
    seed_clinic,
    wait_until,
)
from bench.proof_checks import (
    Row,
    all_met,
    at_most,
    duplicated,
    lost,
    match_answers,
    out_of_order,
    percentile,
    table,
)
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    Notification,
    NotificationStatus,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Professional,
)
from store.notification_plan import HOURS_BEFORE, REMINDER
from tests.cluster.checks import overlapping_appointments
from turnero.fake_twilio import DEFAULT_AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Each patient of the load holds a whole conversation (a booking is some eight messages), so
# 170 patients a minute write about 1,000 messages a minute. One WhatsApp number sends at
# most 80 messages a second: 1,000 patients a minute holding whole conversations ask for
# about 100 replies a second, which no single sender can give (`--patients-a-minute 1000`
# shows the queue growing).
PATIENTS_A_MINUTE = 170
MIX = (("new", 0.2), ("mid", 0.5), ("reminded", 0.3))
MID_ANSWERS = 3
MOST_TURNS = 20
THINK = (0.5, 2.0)  # seconds a patient takes to answer
PROFESSIONALS = tuple(f"Dra. Profesional {n + 1}" for n in range(10))
SEEDED = "seed:"  # outbox rows written by the seed, not sent through the fake
FIRST_NAMES = ("María", "José", "Rosa", "Carlos", "Lucía", "Pedro", "Laura", "Diego")
LAST_NAMES = ("González", "Martínez", "Giménez", "Ramírez", "Acosta", "Benítez", "Ortiz")
REMINDED_FROM_DAY = 20  # seeded appointments lie beyond the bookable horizon (14 days)
SETTLE_SECONDS = 300.0
UNFINISHED = ("pending", "sending")
HOSTILE_TESTS = (
    "tests/webhook/test_any_signed_form.py",
    "tests/web/test_any_console_input.py",
    "tests/web/test_tampered_links.py",
)


@dataclass
class Post:
    """One inbound message posted: who, its MessageSid, when (wall clock), how long the
    webhook took, its HTTP status (0: no answer at all), and whether the webhook answered
    it in its own response (TwiML: the bot broke on it, it was kept for staff and the
    patient told so)."""

    phone: str
    sid: str
    at: float
    seconds: float
    status: int
    answered_inline: bool = False


@dataclass
class Poster:
    """Posts messages to the cluster and keeps every one of them."""

    cluster: Cluster
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, phone: str, body: str) -> Post:
        started, clock = time.time(), time.perf_counter()
        inline = False
        try:
            sid, answer = self.cluster.post_inbound(phone, body)
            status, inline = answer.status_code, "<Message>" in answer.text
        except requests.RequestException:
            sid, status = "", 0
        done = Post(phone, sid, started, time.perf_counter() - clock, status, inline)
        with self.lock:
            self.posts.append(done)
        return done

    def acknowledged(self) -> list[Post]:
        return [p for p in self.posts if p.status == 200]


# -- the clinic of the load -----------------------------------------------------------------


def seed_load_clinic(reminded: list[str]) -> Callable[[Engine], None]:
    """The clinic with ten professionals, and each phone of `reminded` with an appointment
    and its reminder just sent (what a reminder reply answers; its outbox row, keyed
    `seed:…`, never went through the fake and is left out of the checks)."""

    def seed(engine: Engine) -> None:
        clinic_id = seed_clinic(engine, professionals=PROFESSIONALS)
        now = datetime.now(UTC)
        first = (now + timedelta(days=REMINDED_FROM_DAY)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        with transaction(engine) as session:
            professionals = list(
                session.exec(
                    select(Professional.id)
                    .where(Professional.clinic_id == clinic_id)
                    .order_by(col(Professional.id))
                )
            )
            service_id = session.execute(
                text("SELECT id FROM service WHERE clinic_id = :c"), {"c": clinic_id}
            ).scalar_one()
            for n, phone in enumerate(reminded):
                slot, professional = divmod(n, len(professionals))
                starts = first + timedelta(minutes=30 * (slot % 46) + 60 * 24 * (slot // 46))
                patient = Patient(clinic_id=clinic_id, phone=phone, name=f"Paciente {n}")
                session.add(patient)
                session.flush()
                appointment = Appointment(
                    clinic_id=clinic_id,
                    professional_id=professionals[professional],
                    service_id=service_id,
                    patient_id=patient.id or 0,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=30),
                    code=f"X-{n}",
                )
                session.add(appointment)
                session.flush()
                reminder = OutboxMessage(
                    clinic_id=clinic_id,
                    idempotency_key=f"{SEEDED}{MessageKind.reminder}:{n}",
                    kind=MessageKind.reminder,
                    from_phone=CLINIC_NUMBER,
                    to_phone=phone,
                    body=f"Recordatorio {appointment.code}",
                    appointment_id=appointment.id,
                    status=OutboxStatus.sent,
                    twilio_sid=f"SM{uuid.uuid4().hex}",
                    sent_at=now,
                    created_at=now,
                )
                session.add(reminder)
                session.flush()
                session.add(
                    Notification(
                        clinic_id=clinic_id,
                        appointment_id=appointment.id or 0,
                        kind=REMINDER,
                        step=HOURS_BEFORE,
                        starts_at=starts,
                        due_at=now,
                        status=NotificationStatus.queued,
                        outbox_message_id=reminder.id,
                        updated_at=now,
                    )
                )

    return seed


# -- patients -------------------------------------------------------------------------------


@dataclass
class Visitor:
    """One patient of the load: what they came for and how far they got."""

    phone: str
    kind: str
    rng: random.Random
    turns: int = 0
    before: str = ""
    lost_race: bool = False


ANSWERS = {
    "service": "1",
    "professional": "primero disponible",
    "day": "1",
    "who": "1",
    "dni": "saltar",
    "insurance": "saltar",
    "review": "sí",
}


def next_words(patient: Visitor, state: str | None) -> str | None:
    """What the patient writes next, given where the conversation waits (None: the
    patient is done)."""
    if patient.kind == "reminded":
        return "1" if patient.turns == 0 else None
    if patient.kind == "new" and patient.turns == 0:
        return "hola"
    if patient.kind == "mid" and patient.turns >= MID_ANSWERS:
        return None
    if state is None or state == "done" or patient.turns >= MOST_TURNS:
        return None
    if state == "time":
        again = patient.before == "time"
        return "1" if again else str(patient.rng.randint(1, 3))
    if state == "name":
        number = int(patient.phone[-6:])
        first, last = FIRST_NAMES[number % 8], LAST_NAMES[number // 8 % 7]
        return f"{first} {last}"
    return ANSWERS.get(state)


def conversation_state(engine: Engine, phone: str) -> str | None:
    """Where the phone's conversation waits, or None without one."""

    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT state FROM conversation WHERE phone = :p"), {"p": phone}
        ).scalar()
    if stored is None:
        return None
    return str(json.loads(stored).get("state", "done"))


class Schedule:
    """Patients' next messages, each due at its time; `threads` post them."""

    def __init__(self, threads: int) -> None:
        self.heap: list[tuple[float, int, Visitor]] = []
        self.lock = threading.Condition()
        self.count = 0
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.busy = 0

    def add(self, due: float, patient: Visitor) -> None:
        with self.lock:
            self.count += 1
            heapq.heappush(self.heap, (due, self.count, patient))
            self.lock.notify()

    def run(self, step: Callable[[Visitor], float | None], until: float) -> None:
        """Hand each due patient to a thread until `until` and nothing is left to do."""

        def go(patient: Visitor) -> None:
            try:
                wait = step(patient)
                if wait is not None:
                    self.add(time.monotonic() + wait, patient)
            finally:
                with self.lock:
                    self.busy -= 1
                    self.lock.notify()

        while True:
            with self.lock:
                now = time.monotonic()
                if not self.heap and self.busy == 0:
                    return
                if now > until + 60:  # late conversations are left
                    return
                if self.heap and self.heap[0][0] <= now:
                    _, _, patient = heapq.heappop(self.heap)
                    self.busy += 1
                else:
                    self.lock.wait(0.05)
                    continue
            self.pool.submit(go, patient)


# -- delivery: what was acknowledged reached Twilio once, in order ---------------------------


@dataclass
class Delivery:
    """What became of acknowledged messages and of everything queued to some phones."""

    acknowledged: int
    not_kept: list[str]
    unanswered: list[str]
    not_delivered: list[str]  # each row's kind and status
    twice: list[Any]
    disorder: list[Any]
    failed_rows: int
    reply_seconds: dict[str, float]  # MessageSid: from its post to its answer at Twilio


def settle(cluster: Cluster, phones: set[str], timeout: float) -> float:
    """Wait until nothing to these phones is left to send; the seconds it took."""
    started = time.monotonic()

    def settled() -> bool:
        try:
            with cluster.engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT to_phone, status FROM outbox_message WHERE status IN :u"
                    ).bindparams(bindparam("u", expanding=True)),
                    {"u": list(UNFINISHED)},
                ).all()
        except Exception:
            return False
        return not any(phone in phones for phone, _ in rows)

    with suppress(TimeoutError):
        wait_until(settled, timeout, "everything sent", every=0.5)
    return time.monotonic() - started


def delivery(cluster: Cluster, posts: Sequence[Post], phones: set[str]) -> Delivery:
    """Check every acknowledged post and every row queued to `phones` against the
    database and the fake Twilio."""
    acked = [p for p in posts if p.status == 200]
    with cluster.engine.connect() as connection:
        kept = {
            sid for (sid,) in connection.execute(text("SELECT message_sid FROM inbound_message"))
        }
        rows = [
            row
            for row in connection.execute(
                text(
                    "SELECT id, kind, idempotency_key, to_phone, body, twilio_sid, status"
                    " FROM outbox_message ORDER BY id"
                )
            ).all()
            if row.to_phone in phones and not row.idempotency_key.startswith(SEEDED)
        ]
    fake = [m for m in cluster.fake_messages() if m["to"].removeprefix("whatsapp:") in phones]
    arrived_at = {m["sid"]: datetime.fromisoformat(m["received_at"]).timestamp() for m in fake}
    replies = [r.idempotency_key for r in rows if r.kind == MessageKind.reply]
    confirmations = [r for r in rows if r.kind == MessageKind.booking_confirmation]
    answers, unanswered = match_answers(
        [(p.phone, p.sid) for p in acked if not p.answered_inline],
        replies,
        [r.to_phone for r in confirmations],
    )
    by_key = {r.idempotency_key: r for r in rows}
    seconds = {}
    for post in acked:
        answer = answers.get(post.sid)
        if answer is None:
            continue
        row = (
            confirmations[int(answer.rsplit(":", 1)[1])]
            if answer.startswith("confirmation:")
            else by_key[answer]
        )
        if row.twilio_sid in arrived_at:
            seconds[post.sid] = arrived_at[row.twilio_sid] - post.at
    fake_sids = set(arrived_at)
    sid_row = {r.twilio_sid: r.id for r in rows if r.twilio_sid}
    queued: dict[str, list[int]] = {}
    for r in rows:
        queued.setdefault(r.to_phone, []).append(r.id)
    in_arrival = sorted(fake, key=lambda m: m["received_at"])
    missing = set(lost([r.id for r in rows], [r.id for r in rows if r.twilio_sid in fake_sids]))
    return Delivery(
        acknowledged=len(acked),
        not_kept=[str(s) for s in lost([p.sid for p in acked], kept)],
        unanswered=unanswered,
        not_delivered=[f"{r.kind} {r.status}" for r in rows if r.id in missing],
        twice=duplicated(
            [(r.to_phone, r.body) for r in rows],
            [(m["to"].removeprefix("whatsapp:"), m["body"]) for m in fake],
        ),
        disorder=out_of_order(
            queued,
            [
                (m["to"].removeprefix("whatsapp:"), sid_row.get(m["sid"], m["sid"]))
                for m in in_arrival
            ],
        ),
        failed_rows=sum(r.status not in ("sent", "delivered", "read") for r in rows),
        reply_seconds=seconds,
    )


def delivery_rows(scenario: str, found: Delivery) -> list[Row]:
    """Lost, twice and out of order, each against zero."""
    missing = len(found.not_kept) + len(found.unanswered) + len(found.not_delivered)
    return [
        Row(
            scenario,
            "lost (not kept, not answered, not delivered)",
            "0",
            f"{missing} ({len(found.not_kept)}, {len(found.unanswered)}, "
            f"{len(found.not_delivered)}) of {found.acknowledged} acknowledged"
            + (f": {', '.join(sorted(set(found.not_delivered)))}" if found.not_delivered else ""),
            missing == 0,
        ),
        Row(scenario, "delivered twice", "0", str(len(found.twice)), not found.twice),
        Row(
            scenario,
            "out of order per patient",
            "0",
            str(len(found.disorder)),
            not found.disorder,
        ),
    ]


def rss_mb(process_id: int) -> float:
    """A process's resident memory, from /proc (MB)."""
    for line in Path(f"/proc/{process_id}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workers_rss(cluster: Cluster) -> list[float]:
    return [rss_mb(w.child.pid) for w in cluster.workers if w.child is not None]


# -- load ----------------------------------------------------------------------------------


def load(
    base_url: str, minutes: float, folder: Path, a_minute: int = PATIENTS_A_MINUTE
) -> list[Row]:
    """`a_minute` patients a minute, each holding a conversation, against two servers and
    two workers."""
    rng = random.Random(7)
    patients: list[tuple[float, Visitor]] = []
    total = int(a_minute * minutes)
    for n in range(total):
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        phone = f"+5959{n + 10_000_000:08d}"
        patients.append((rng.uniform(0, minutes * 60), Visitor(phone, kind, random.Random(n))))
    reminded = [p.phone for _, p in patients if p.kind == "reminded"]
    phones = {p.phone for _, p in patients}
    with Cluster.start(
        base_url, folder=folder / "load", seed=seed_load_clinic(reminded)
    ) as cluster:
        warm = Poster(cluster)
        mid = [p for _, p in patients if p.kind == "mid"]
        print(f"load: {len(mid)} mid-flow conversations opened before the clock starts")
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda p: warm.post(p.phone, "hola"), mid))
        settle(cluster, phones, SETTLE_SECONDS)
        rss_start = workers_rss(cluster)
        poster = Poster(cluster)

        def step(patient: Visitor) -> float | None:
            state = None
            if patient.kind != "reminded" and (patient.turns > 0 or patient.kind == "mid"):
                state = conversation_state(cluster.engine, patient.phone)
            words = next_words(patient, state)
            if words is None:
                return None
            poster.post(patient.phone, words)
            patient.turns += 1
            patient.before = state or ""
            return patient.rng.uniform(*THINK)

        schedule = Schedule(threads=48)
        started = time.monotonic()
        for offset, patient in patients:
            schedule.add(started + offset, patient)
        print(f"load: {total} patients over {minutes:g} min")
        schedule.run(step, started + minutes * 60)
        elapsed = time.monotonic() - started
        schedule.pool.shutdown(wait=True)
        rss_end = workers_rss(cluster)
        settle(cluster, phones, SETTLE_SECONDS)
        found = delivery(cluster, warm.posts + poster.posts, phones)
        double = overlapping_appointments(cluster.engine)
        with cluster.engine.connect() as connection:
            booked = connection.execute(
                text("SELECT count(*) FROM appointment WHERE code NOT LIKE 'X-%'")
            ).scalar_one()
            confirmed = connection.execute(
                text("SELECT count(*) FROM appointment WHERE confirmed_at IS NOT NULL")
            ).scalar_one()
    posts = poster.posts
    acked = [p for p in posts if p.status == 200]
    webhook = [p.seconds * 1000 for p in acked]
    errors = len(posts) - len(acked)
    # the answers to the load itself, not to the mid-flow hellos posted before it
    load_replies = [found.reply_seconds[p.sid] for p in acked if p.sid in found.reply_seconds]
    rate = len(acked) / elapsed if elapsed else 0.0
    growth = [end / start for start, end in zip(rss_start, rss_end, strict=False)]
    return [
        Row(
            "load",
            f"patients / messages ({minutes:g} min)",
            "",
            f"{total:,} / {len(posts):,} ({booked} booked, {confirmed} reminders confirmed)",
        ),
        Row("load", "messages/s", "", f"{rate:.1f}"),
        Row(
            "load",
            "webhook p50 / p99",
            "p99 ≤ 1,000 ms",
            f"{percentile(webhook, 0.5):.0f} / {percentile(webhook, 0.99):.0f} ms",
            at_most(percentile(webhook, 0.99), 1000),
        ),
        Row(
            "load",
            "reply at Twilio p50 / p95",
            "p95 ≤ 5 s",
            f"{percentile(load_replies, 0.5):.2f} / {percentile(load_replies, 0.95):.2f} s",
            at_most(percentile(load_replies, 0.95), 5.0),
        ),
        Row("load", "errors (not 200)", "0", str(errors), errors == 0),
        *delivery_rows("load", found),
        Row("load", "double bookings", "0", str(len(double)), not double),
        Row(
            "load",
            "workers' RSS start → end",
            "end ≤ 1.5 × start",
            ", ".join(f"{a:.0f} → {b:.0f} MB" for a, b in zip(rss_start, rss_end, strict=False)),
            bool(growth) and all(g <= 1.5 for g in growth),
        ),
    ]


# -- faults --------------------------------------------------------------------------------


def chatter(poster: Poster, phones: list[str], seconds: float, stop: threading.Event) -> None:
    """Each phone writes every second or two for `seconds`: "hola", then numbers."""

    def one(phone: str) -> None:
        rng = random.Random(phone)
        turns = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop.is_set():
            poster.post(phone, "hola" if turns == 0 else str(rng.randint(1, 3)))
            turns += 1
            time.sleep(rng.uniform(*THINK))

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        list(pool.map(one, phones))


def phones_for(tag: int, count: int) -> list[str]:
    return [f"+5959{tag:02d}{n:06d}" for n in range(count)]


def twilio_down(cluster: Cluster, minutes: float) -> list[Row]:
    """Twilio down while patients write and care messages are queued; then up."""
    phones = phones_for(20, 20)
    poster = Poster(cluster)
    for phone in phones:  # their windows open before the outage
        poster.post(phone, "hola")
    settle(cluster, set(phones), 60)
    cluster.fake_control("down")
    queue_burst(cluster.engine, CLINIC_NUMBER, phones, 3, "Cuidados")
    chatter(poster, phones, minutes * 60, threading.Event())
    cluster.fake_control("up")
    took = settle(cluster, set(phones), max(SETTLE_SECONDS, minutes * 60 * 2))
    found = delivery(cluster, poster.posts, set(phones))
    return [
        Row(
            "faults",
            f"Twilio down {minutes:g} min: time to deliver after up",
            "",
            f"{took:.0f} s",
        ),
        *delivery_rows(f"faults: Twilio down {minutes:g} min", found),
    ]


def terminate_backends(database_url: str) -> int:
    """End every connection to the database but this one; how many."""
    name = make_url(database_url).database
    engine = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": name},
                ).all()
            )
    finally:
        engine.dispose()


def restart_postgres() -> None:
    """Restart the (first) PostgreSQL cluster of this machine with pg_ctlcluster."""
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    version, name = listed.stdout.split()[:2]
    subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True)


def postgres_lost(cluster: Cluster, seconds: float, restart: bool) -> list[Row]:
    """Patients writing while PostgreSQL's connections are cut (or it restarts)."""
    phones = phones_for(30, 30)
    poster = Poster(cluster)
    stop = threading.Event()
    writer = threading.Thread(target=chatter, args=(poster, phones, seconds, stop))
    writer.start()
    cuts: list[tuple[float, float]] = []
    for _n in range(1 if restart else 3):
        time.sleep(seconds / 4)
        started = time.time()
        if restart:
            restart_postgres()
        else:
            terminate_backends(cluster.database_url)
        cuts.append((started, time.time()))
    writer.join()
    cluster.engine.dispose()  # its connections were cut too
    recovered_after = cuts[-1][1] + 5
    tail = [p for p in poster.posts if p.at > recovered_after]
    failing = [p for p in poster.posts if p.status != 200]
    outside = [p for p in failing if not any(a - 1 <= p.at <= b + 5 for a, b in cuts)]
    settle(cluster, set(phones), SETTLE_SECONDS)
    found = delivery(cluster, poster.posts, set(phones))
    what = "restarted" if restart else "connections terminated 3×"
    return [
        Row(
            "faults",
            f"PostgreSQL {what}: answers not 200 (all / outside the cuts)",
            "0 outside",
            f"{len(failing)} / {len(outside)} of {len(poster.posts)}",
            not outside,
        ),
        Row(
            "faults",
            f"PostgreSQL {what}: recovers by itself (200 after the last cut)",
            "all",
            f"{sum(p.status == 200 for p in tail)} of {len(tail)}",
            bool(tail) and all(p.status == 200 for p in tail),
        ),
        *delivery_rows(f"faults: PostgreSQL {what}", found),
    ]


def worker_killed(cluster: Cluster) -> list[Row]:
    """A worker SIGKILLed with sends Twilio took and never answered."""
    phones = phones_for(40, 10)
    poster = Poster(cluster)
    for phone in phones:
        poster.post(phone, "hola")
    settle(cluster, set(phones), 60)
    before = len(cluster.fake_messages())
    queue_burst(cluster.engine, CLINIC_NUMBER, phones, 10, "Aviso")
    wait_until(lambda: len(cluster.fake_messages()) >= before + 10, 60, "the burst under way")
    cluster.fake_control("answer_late", count=4, delay=60)
    wait_until(lambda: len(cluster.fake_messages()) >= before + 14, 60, "sends waiting")
    cluster.kill_worker(0)
    cluster.restart_worker(0)
    settle(cluster, set(phones), SETTLE_SECONDS)
    return delivery_rows(
        "faults: worker SIGKILLed mid-dispatch", delivery(cluster, poster.posts, set(phones))
    )


def twilio_late(cluster: Cluster) -> list[Row]:
    """Twilio accepts sends and answers after the client's timeout."""
    phones = phones_for(50, 10)
    poster = Poster(cluster)
    for phone in phones:
        poster.post(phone, "hola")
    settle(cluster, set(phones), 60)
    cluster.fake_control("answer_late", count=5, delay=15)
    queue_burst(cluster.engine, CLINIC_NUMBER, phones, 5, "Recordatorio")
    chatter(poster, phones, 10, threading.Event())
    settle(cluster, set(phones), SETTLE_SECONDS)
    return delivery_rows(
        "faults: Twilio answers after the timeout", delivery(cluster, poster.posts, set(phones))
    )


# -- hostile input -------------------------------------------------------------------------


def property_tests(database_url: str) -> list[Row]:
    """The hypothesis tests on the database given."""
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *HOSTILE_TESTS],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    summary = (ran.stdout.strip().splitlines() or ["nothing ran"])[-1]
    passed = re.search(r"(\d+) passed", summary)
    return [
        Row(
            "hostile",
            "property tests (tests/webhook, tests/web)",
            "all pass",
            re.sub(r"=+", "", summary).strip(),
            ran.returncode == 0 and passed is not None,
        )
    ]


def garbage(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Requests no real Twilio sends: no or wrong signatures, broken forms, huge or
    binary bodies, other methods."""
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    for n in range(count):
        kind = n % 8
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "From": "whatsapp:+595981" + str(rng.randint(100000, 999999)),
            "To": f"whatsapp:{CLINIC_NUMBER}",
            "Body": "hola",
            "NumMedia": "0",
        }
        if kind == 0:
            yield {"method": "POST", "data": rng.randbytes(rng.randint(1, 4000))}
        elif kind == 1:
            yield {"method": "POST", "data": form}  # no signature
        elif kind == 2:
            yield {"method": "POST", "data": form, "headers": {"X-Twilio-Signature": "x" * 28}}
        else:
            broken = dict(form)
            if kind == 3:
                broken.pop("From")
            elif kind == 4:
                broken["Body"] = "x" * rng.randint(5_000, 200_000)
            elif kind == 5:
                broken["Body"] = "\x00" + "".join(chr(rng.randint(1, 0x10FFFF)) for _ in range(50))
                broken["Body"] = (
                    broken["Body"].encode("utf-8", "replace").decode("utf-8", "replace")
                )
            elif kind == 6:
                broken["NumMedia"] = "9" * 40
                broken["From"] = "whatsapp:" + "9" * 300
            else:
                yield {"method": rng.choice(["GET", "PUT", "DELETE", "PATCH"]), "data": form}
                continue
            signature = validator.compute_signature(PUBLIC_BASE_URL + INBOUND_PATH, broken)
            yield {"method": "POST", "data": broken, "headers": {"X-Twilio-Signature": signature}}


def garbage_burst(cluster: Cluster, count: int) -> list[Row]:
    """Garbage posts at full speed, a real message after every ten: no 5xx, none lost."""
    rng = random.Random(11)
    phones = phones_for(60, 20)
    poster = Poster(cluster)
    statuses: list[int] = []
    lock = threading.Lock()

    def send(n_and_request: tuple[int, dict[str, Any]]) -> None:
        n, request = n_and_request
        server = cluster.servers[n % len(cluster.servers)]
        try:
            answer = requests.request(
                request["method"],
                server.url + INBOUND_PATH,
                data=request["data"],
                headers=request.get("headers"),
                timeout=30,
            )
            status = answer.status_code
        except requests.RequestException:
            status = 0
        with lock:
            statuses.append(status)
        if n % 10 == 0:
            poster.post(phones[(n // 10) % len(phones)], "hola" if n < 200 else "1")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(send, enumerate(garbage(count, rng))))
    settle(cluster, set(phones), SETTLE_SECONDS)
    found = delivery(cluster, poster.posts, set(phones))
    server_errors = sum(s >= 500 or s == 0 for s in statuses + [p.status for p in poster.posts])
    return [
        Row(
            "hostile",
            f"garbage posts ({count:,}): 5xx or no answer",
            "0",
            f"{server_errors} ({sorted(set(statuses))})",
            server_errors == 0,
        ),
        *delivery_rows("hostile: real messages among garbage", found),
    ]


# -- the command ---------------------------------------------------------------------------


@contextmanager
def timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"-- {what}", flush=True)
    yield
    print(f"-- {what}: {time.monotonic() - started:.0f} s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every scenario shortened")
    parser.add_argument("--minutes", type=float, help="of load (10; 1 with --quick)")
    parser.add_argument("--outage-minutes", type=float, help="Twilio down (10; 0.5 with --quick)")
    parser.add_argument(
        "--patients-a-minute",
        type=int,
        default=PATIENTS_A_MINUTE,
        help=f"arriving in the load, each holding a conversation ({PATIENTS_A_MINUTE})",
    )
    parser.add_argument("--restart-postgres", action="store_true", help="a real restart")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args(argv)
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    outage = args.outage_minutes or (0.5 if args.quick else 10.0)
    cut_seconds = 30.0 if args.quick else 120.0
    if not args.database_url.startswith("postgres"):
        parser.error("the proof needs PostgreSQL: give --database-url postgresql+psycopg://…")
    rows: list[Row] = []

    with tempfile.TemporaryDirectory(prefix="proof-") as scratch:
        folder = Path(scratch)
        for part in ("load", "faults"):
            (folder / part).mkdir()
        with timed("load"):
            rows += load(args.database_url, minutes, folder, args.patients_a_minute)
        with timed("faults"), Cluster.start(args.database_url, folder=folder / "faults") as c:
            rows += twilio_down(c, outage)
            rows += postgres_lost(c, cut_seconds, args.restart_postgres)
            rows += worker_killed(c)
            rows += twilio_late(c)
            with timed("garbage"):
                rows += garbage_burst(c, 500 if args.quick else 5000)
        with timed("property tests"):
            rows += property_tests(args.database_url)
    print()
    print(f"Turnero proof, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    print(table(rows))
    met = all_met(rows)
    print("\nevery target met" if met else "\nSOME TARGET NOT MET")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
