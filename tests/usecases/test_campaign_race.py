"""A campaign sent twice at the same moment on PostgreSQL — the same form submitted by
four requests at once, its start run by two workers at once, its messages drained by two
dispatchers — writes to each recipient once."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from scheduler.worker import dispatch_job
from store.campaigns import Filters
from store.message_kinds import MessageKind
from tests.campaign_support import LINKS, Person, seat, sent
from tests.notification_support import channel_for, writes
from tests.support import Clock
from tests.support import TestClinic as SmallClinic
from turnero.fake_twilio import FakeTwilio
from usecases.campaigns import Draft, create, start_due

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
