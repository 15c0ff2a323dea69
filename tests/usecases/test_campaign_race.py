"""A campaign sent twice at the same moment on PostgreSQL — the same form submitted by
four requests at once, its start run by two workers at once, its messages written by two
workers and drained by two dispatchers — writes to each recipient once; a stop pressed
while its messages are being written leaves none of them to send."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from scheduler.worker import dispatch_job
from store.campaigns import Filters, campaign_key, take_for_writing
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import OutboxStatus
from store.outbox import insert_many, outbox_rows
from tests.campaign_support import LINKS, Person, seat, sent
from tests.notification_support import channel_for, writes
from tests.support import Clock
from tests.support import TestClinic as SmallClinic
from turnero.fake_twilio import FakeTwilio
from usecases.campaigns import Draft, create, start, start_due, stop, write_due

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)
MONDAY = date(2026, 11, 30)
PEOPLE = 30


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results, in order."""
    gate = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        gate.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_workers_and_a_double_submitted_send_write_to_each_recipient_once(
    on_postgres: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    db = on_postgres
    phones = []
    for n in range(PEOPLE):
        person = Person(f"+5959810200{n:02d}", f"Paciente {n}")
        seat(db, clinic, person, datetime(2026, 11, 30, 8, tzinfo=ASU).astimezone(UTC)
             + timedelta(minutes=30 * n))  # fmt: skip
        writes(db, clinic.id, person.phone, clock())
        phones.append(person.phone)
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))

    def submit() -> Any:
        return create(
            db, clinic.id, draft, token="same", send_at=None, by="api", now=clock(), links=LINKS
        )

    made = at_once(submit, submit, submit, submit)
    assert len({m.campaign_id for m in made}) == 1
    assert sum(m.queued for m in made) == PEOPLE and sum(m.new for m in made) == 1

    later = clock() + timedelta(minutes=10)
    scheduled = create(
        db, clinic.id, draft, token="later", send_at=later, by="api", now=clock(), links=LINKS
    )
    clock.now = later
    started = at_once(lambda: start_due(db, clock(), LINKS), lambda: start_due(db, clock(), LINKS))
    assert sorted(started) == [0, PEOPLE]

    with FakeTwilio(clock=clock) as fake:
        channel = channel_for(fake)
        at_once(lambda: dispatch_job(db, channel, clock), lambda: dispatch_job(db, channel, clock))
        dispatch_job(db, channel, clock)  # whatever one left to the other
        arrived = Counter(m["to"].removeprefix("whatsapp:") for m in fake.messages)
    assert arrived == {phone: 2 for phone in phones}  # once for each of the two campaigns
    for campaign_id in (made[0].campaign_id, scheduled.campaign_id):
        rows = sent(db, campaign_id)
        assert len(rows) == PEOPLE and all(r.twilio_sid for r in rows)


def test_two_writers_write_each_message_once_and_a_stop_beside_them_leaves_none_to_send(
    on_postgres: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    db = on_postgres
    for n in range(PEOPLE):
        person = Person(f"+5959810400{n:02d}", f"Paciente {n}")
        seat(db, clinic, person, datetime(2026, 11, 30, 8, tzinfo=ASU).astimezone(UTC)
             + timedelta(minutes=30 * n))  # fmt: skip
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))
    ids = []
    for token in ("stopped", "writers"):
        made = create(db, clinic.id, draft, token=token, send_at=clock(), by="api", now=clock(),
                      links=LINKS)  # fmt: skip
        assert made.campaign_id is not None
        assert start(db, made.campaign_id, clock(), LINKS, first=2) == PEOPLE
        ids.append(made.campaign_id)
    stopped, writers = ids

    def write() -> int:
        return write_due(db, clock(), LINKS, seconds=0, least=4)

    at_once(write, write, lambda: stop(db, clinic.id, stopped, "staff:ana", clock()))
    stopped_rows = sent(db, stopped)
    for _ in range(PEOPLE):
        if len(sent(db, writers)) == PEOPLE:
            break
        at_once(write, write)
    rows = sent(db, writers)
    assert len(rows) == PEOPLE and len({r.to_phone for r in rows}) == PEOPLE
    assert all(r.status == OutboxStatus.skipped for r in stopped_rows)
    write()
    assert len(sent(db, stopped)) == len(stopped_rows)  # nothing written after the stop


def test_a_stop_waits_for_the_batch_being_written_and_withdraws_it(
    on_postgres: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    db = on_postgres
    person = Person("+595981040100", "Paciente")
    seat(db, clinic, person, datetime(2026, 11, 30, 8, tzinfo=ASU).astimezone(UTC))
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))
    made = create(db, clinic.id, draft, token="held", send_at=clock(), by="api", now=clock(),
                  links=LINKS)  # fmt: skip
    assert made.campaign_id is not None
    campaign_id = made.campaign_id
    assert start(db, campaign_id, clock(), LINKS, first=0) == 1
    stopping = threading.Thread(
        target=lambda: withdrawn.append(stop(db, clinic.id, campaign_id, "staff:ana", clock()))
    )
    withdrawn: list[int | None] = []
    with transaction(db) as session:  # a writer's batch, held open
        assert take_for_writing(session, campaign_id) is not None
        stopping.start()
        stopping.join(timeout=0.5)
        assert stopping.is_alive()  # the stop waits for the batch
        insert_many(session, outbox_rows(
            clinic_id=clinic.id, idempotency_key=campaign_key(campaign_id, 1), from_phone="+1",
            to_phone=person.phone, body="cerrado", now=clock(),
        ))  # fmt: skip
    stopping.join(timeout=10)
    assert withdrawn == [1]
    assert [r.status for r in sent(db, campaign_id)] == [OutboxStatus.skipped]
