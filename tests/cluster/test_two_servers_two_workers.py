"""Two `turnero serve` and two `turnero worker` processes on one PostgreSQL database, with
the fake Twilio as a process of its own (`bench.cluster`): patients racing for the same
times, a paced burst from one sender shared by both workers, and a worker killed while it
sends."""

import json
import os
import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bench.cluster import CLINIC_NUMBER, Cluster, queue_burst, seed_clinic, wait_until
from bot.render import render
from bot.types import Reply
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    Clinic,
    Conversation,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
    Patient,
)
from tests.cluster.checks import (
    all_sent,
    assert_in_order_per_phone,
    assert_sent_exactly_once,
    at_fake,
    busiest,
    overlapping_appointments,
    queued,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="several processes share one database: needs PostgreSQL (set DATABASE_URL)",
)

CAMPAIGN_NUMBER = "+595981700001"  # a clinic sending slowly
CAMPAIGN_RATE = 5
PATIENTS = 40
FIRST_NAMES = ("María", "José", "Rosa", "Carlos", "Lucía", "Pedro", "Laura", "Diego")
LAST_NAMES = ("González", "Martínez", "Giménez", "Ramírez", "Acosta")
MOST_TURNS = 80
LATE = 4  # sends of the burst that Twilio answers too late
ANSWERS = (MessageKind.reply, MessageKind.booking_confirmation)
SETTLED = re.compile(r"cut-off sends settled: (\d+) found at Twilio, (\d+) to retry, (\d+) unconf")


def _two_clinics(engine: Engine) -> None:
    seed_clinic(engine, CLINIC_NUMBER, name="Clínica San Roque")
    seed_clinic(engine, CAMPAIGN_NUMBER, rate=CAMPAIGN_RATE, name="Clínica del Sur")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster, its processes' logs in a temporary folder pytest keeps."""
    with Cluster.start(
        os.environ["DATABASE_URL"],
        servers=2,
        workers=2,
        folder=Path(tmp_path_factory.mktemp("cluster")),
        seed=_two_clinics,
    ) as running:
        yield running


@dataclass
class Booker:
    """One patient booking over WhatsApp through the cluster, answering whatever the
    conversation waits on (read from the database after each message is answered)."""

    cluster: Cluster
    phone: str
    name: str
    professional: str  # "1" (the first professional) or "primero disponible"
    rng: random.Random
    sent: list[str] = field(default_factory=list)  # MessageSids
    lost: list[str] = field(default_factory=list)  # each "sí" that found the time taken

    def says(self, body: str) -> str:
        """Post a message; the state the conversation waits in once it is answered."""
        sid, answer = self.cluster.post_inbound(self.phone, body)
        assert answer.status_code == 200, answer.text
        self.sent.append(sid)
        return self.waits_on()

    def waits_on(self) -> str:
        with Session(self.cluster.engine) as session:
            stored = session.exec(
                select(Conversation.state)
                .join(Clinic, col(Clinic.id) == Conversation.clinic_id)
                .where(Conversation.phone == self.phone)
                .where(Clinic.whatsapp_number == CLINIC_NUMBER)
            ).one()
        return str(json.loads(stored).get("state", "done"))

    def books(self, race: threading.Barrier) -> None:
        """From "hola" to a booking; everybody's first "sí" goes at once."""
        state, before = self.says("hola"), ""
        raced = False
        for _ in range(MOST_TURNS):
            if state == "review":
                if not raced:
                    race.wait()
                    raced = True
                state = self.says("sí")
                if state == "done":
                    return
                # the time was taken: the times still free, or the days if that one filled
                assert state in ("time", "day"), f"{self.phone}: after yes, waits on {state}"
                self.lost.append(self.sent[-1])
                before = ""
                continue
            answer = self.answer(state, again=state == before)
            state, before = self.says(answer), state
        raise AssertionError(f"{self.phone} did not book in {MOST_TURNS} messages ({state})")

    def answer(self, state: str, again: bool) -> str:
        if state == "time":  # one of the first few times; the first if that one was refused
            return "1" if again else str(self.rng.randint(1, 3))
        return {
            "service": "1",
            "professional": self.professional,
            "day": "1",
            "who": "1",
            "name": self.name,
            "dni": "saltar",
            "insurance": "saltar",
        }[state]


def test_patients_racing_for_the_same_times_each_book_once_and_hear_every_answer_once(
    cluster: Cluster,
):
    patients = [
        Booker(
            cluster,
            f"+5959817200{n:02d}",
            f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[n // len(FIRST_NAMES)]}",
            "1" if n % 2 else "primero disponible",
            random.Random(n),
        )
        for n in range(PATIENTS)
    ]
    race = threading.Barrier(PATIENTS, timeout=60)
    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        for done in [pool.submit(p.books, race) for p in patients]:
            done.result()

    engine = cluster.engine
    arrived = all_sent(cluster, CLINIC_NUMBER, timeout=60)
    assert_sent_exactly_once(engine, arrived, CLINIC_NUMBER)
    assert_in_order_per_phone(engine, arrived, CLINIC_NUMBER)
    assert overlapping_appointments(engine) == []
    rows = queued(engine, CLINIC_NUMBER)
    slot_taken = render(Reply("booking.slot_taken"), "es")
    answered = {row.idempotency_key: row.body for row in rows}
    with Session(engine) as session:
        for patient in patients:
            kept = session.exec(
                select(func.count()).where(InboundMessage.from_phone == patient.phone)
            ).one()
            assert kept == len(patient.sent)
            answers = {
                row.idempotency_key.split("#")[0]
                for row in rows
                if row.to_phone == patient.phone and row.kind in ANSWERS
            }
            assert len(answers) == len(patient.sent), patient.phone  # one answer each
            booked = session.exec(
                select(func.count())
                .select_from(Appointment)
                .join(Patient, col(Patient.id) == Appointment.patient_id)
                .where(Patient.phone == patient.phone)
            ).one()
            assert booked == 1, patient.phone
            for sid in patient.lost:  # the answer to a "sí" that lost the race says so
                assert slot_taken in answered[f"{MessageKind.reply}:{sid}"]
    assert sum(len(p.lost) for p in patients) > 0  # the race happened


def _greeted(cluster: Cluster, phones: list[str]) -> None:
    """Each phone writes to the slow clinic first: its 24-hour window opens."""
    for phone in phones:
        _, answer = cluster.post_inbound(phone, "hola", to=CAMPAIGN_NUMBER)
        assert answer.status_code == 200
    all_sent(cluster, CAMPAIGN_NUMBER, timeout=30)


def _sends_logged(log: str) -> int:
    return sum(int(n) for n in re.findall(r"outbox: (\d+) sent", log))


def test_a_burst_from_one_sender_keeps_its_rate_across_both_workers(cluster: Cluster):
    phones = [f"+5959817300{n:02d}" for n in range(10)]
    _greeted(cluster, phones)
    logged = [len(worker.log()) for worker in cluster.workers]

    # more than one batch (50), so that both workers claim and send at once
    assert queue_burst(cluster.engine, CAMPAIGN_NUMBER, phones, 6, "Novedades") == 60
    arrived = all_sent(cluster, CAMPAIGN_NUMBER, timeout=60)

    assert busiest(arrived) <= CAMPAIGN_RATE
    assert_sent_exactly_once(cluster.engine, arrived, CAMPAIGN_NUMBER)
    assert_in_order_per_phone(cluster.engine, arrived, CAMPAIGN_NUMBER)
    for worker, start in zip(cluster.workers, logged, strict=True):
        assert _sends_logged(worker.log()[start:]) > 0, f"{worker.name} sent none of the burst"


def test_a_worker_killed_while_it_sends_loses_nothing_and_sends_nothing_twice(cluster: Cluster):
    phones = [f"+5959817400{n:02d}" for n in range(10)]
    _greeted(cluster, phones)
    before = len(at_fake(cluster, CAMPAIGN_NUMBER))

    # two full batches, one phone's messages never in both: each worker claims one
    assert queue_burst(cluster.engine, CAMPAIGN_NUMBER, phones, 10, "Aviso") == 100
    wait_until(
        lambda: len(at_fake(cluster, CAMPAIGN_NUMBER)) >= before + 10, 30, "the burst under way"
    )
    # the next sends reach Twilio, whose answer comes only after the client gave up: the
    # worker is killed with sends Twilio has and the outbox does not know it has
    cluster.fake_control("answer_late", count=LATE, delay=60)
    wait_until(
        lambda: len(at_fake(cluster, CAMPAIGN_NUMBER)) >= before + 10 + LATE,
        30,
        "sends waiting for their answer",
    )
    cluster.kill_worker(0)
    logged = [len(worker.log()) for worker in cluster.workers]
    cluster.restart_worker(0)
    arrived = all_sent(cluster, CAMPAIGN_NUMBER, timeout=90)

    assert_sent_exactly_once(cluster.engine, arrived, CAMPAIGN_NUMBER)
    assert_in_order_per_phone(cluster.engine, arrived, CAMPAIGN_NUMBER)
    assert busiest(arrived) <= CAMPAIGN_RATE
    # the killed worker's claims were left "sending" and settled after it died, none
    # left for staff to decide
    settled = [
        tuple(int(n) for n in found)
        for worker, start in zip(cluster.workers, logged, strict=True)
        for found in SETTLED.findall(worker.log()[start:])
    ]
    assert settled and sum(found + retry for found, retry, _ in settled) > 0
    assert all(unconfirmed == 0 for *_, unconfirmed in settled)
    with Session(cluster.engine) as session:
        left = session.exec(
            select(func.count()).where(
                OutboxMessage.from_phone == CAMPAIGN_NUMBER,
                col(OutboxMessage.status).in_([OutboxStatus.unconfirmed, OutboxStatus.failed]),
            )
        ).one()
    assert left == 0
