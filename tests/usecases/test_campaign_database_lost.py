"""The database going away in the middle of a campaign's send, on PostgreSQL: every
connection to it is killed, three times, while the dispatcher is sending to the fake
Twilio; the job raises nothing (a statement on a dead connection is retried on a new one
or logged), and once the worker has run again every recipient has had the message
exactly once at Twilio, none lost, none twice."""

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from scheduler.dispatcher import CLAIM_TIMEOUT
from scheduler.worker import dispatch_job
from store.campaigns import Filters
from store.message_kinds import MessageKind
from store.models import OutboxStatus
from tests.campaign_support import LINKS, Person, seat, sent
from tests.notification_support import channel_for, writes
from tests.support import Clock
from tests.support import TestClinic as SmallClinic
from turnero.fake_twilio import FakeTwilio
from usecases.campaigns import Draft, create

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)
MONDAY = date(2026, 11, 30)
PEOPLE = 30
KILLED_AT = (7, 15, 23)  # the messages during whose send every connection is killed
GONE = {OutboxStatus.pending, OutboxStatus.sending, OutboxStatus.unconfirmed}

TERMINATE = """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()"""


class DatabaseKillingTwilio(FakeTwilio):
    """The fake Twilio, which kills every other connection to the database while it takes
    its `KILLED_AT`th message (accepted, but not yet answered)."""

    def __init__(self, database: str, **options: Any) -> None:
        super().__init__(**options)
        self.database, self.killed = database, 0  # connections killed, all told
        self._count = threading.Lock()

    def _create(self, account_sid: str) -> ResponseReturnValue:
        answer = super()._create(account_sid)
        with self._count:
            if len(self.messages) in KILLED_AT:
                with psycopg.connect(self.database, autocommit=True) as killer:
                    self.killed += sum(bool(r[0]) for r in killer.execute(TERMINATE))
        return answer


def test_every_recipient_gets_the_message_once_after_the_database_went_away(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("kills the database server's connections: SQLite has no server to lose")
    phones = []
    for n in range(PEOPLE):
        person = Person(f"+5959810300{n:02d}", f"Paciente {n}")
        seat(db, clinic, person, datetime(2026, 11, 30, 8, tzinfo=ASU).astimezone(UTC)
             + timedelta(minutes=30 * n))  # fmt: skip
        writes(db, clinic.id, person.phone, clock())
        phones.append(person.phone)
    made = create(
        db,
        clinic.id,
        Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY)),
        token="closure",
        send_at=None,
        by="api",
        now=clock(),
        links=LINKS,
    )
    assert made.campaign_id is not None and made.queued == PEOPLE
    lost: list[bool] = []  # whether each failed statement failed for a lost connection

    def note(context: ExceptionContext) -> None:
        lost.append(context.is_disconnect)

    event.listen(db, "handle_error", note)
    address = db.url.set(drivername="postgresql").render_as_string(hide_password=False)

    try:
        with DatabaseKillingTwilio(address, clock=clock) as fake:
            channel = channel_for(fake)
            dispatch_job(db, channel, clock, limit=5, sends_at_once=2)  # returns: nothing raised
            assert fake.killed >= 1, "no connection was killed"
            assert any(lost), "no statement met a killed connection"
            # the worker's later passes: cut-off sends settled against Twilio's record
            for _ in range(3):
                clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
                dispatch_job(db, channel, clock, limit=5, sends_at_once=2)
            at_twilio = Counter(str(m["to"]).removeprefix("whatsapp:") for m in fake.messages)
            sids = {str(m["to"]).removeprefix("whatsapp:"): m["sid"] for m in fake.messages}
    finally:
        event.remove(db, "handle_error", note)
        db.dispose()  # the pool's killed connections are not handed to the next test

    assert at_twilio == Counter(phones), "a recipient lost, or written to twice"
    rows = sent(db, made.campaign_id)
    assert len(rows) == PEOPLE
    assert not [r.status for r in rows if r.status in GONE]
    assert {r.to_phone: r.twilio_sid for r in rows} == sids
