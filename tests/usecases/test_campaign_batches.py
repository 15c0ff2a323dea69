"""A large campaign fixes its recipients at once and writes its messages in batches ahead
of its sender: each message once, earliest appointment first, none after a stop, none
for an appointment booked after the start; and one message per phone and *local* day,
whatever day the stored UTC time falls on."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from store.campaigns import Filters
from store.message_kinds import MessageKind
from store.models import Campaign, CampaignStatus, Clinic, OutboxStatus
from tests.campaign_support import LINKS, Person, seat, sent
from tests.support import Clock
from tests.support import TestClinic as SmallClinic
from usecases.campaigns import Draft, create, preview, start, stop, write_due

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)
MONDAY = date(2026, 11, 30)
DRAFT = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))
PEOPLE = 11


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=ASU).astimezone(UTC)


def person(n: int) -> Person:
    return Person(f"+5959810300{n:02d}", f"Paciente {n}")


def slow_sender(db: Engine, clinic_id: int) -> None:
    """One message a second: the writer's batches stay small."""
    with Session(db) as session:
        found = session.get(Clinic, clinic_id)
        assert found is not None
        found.send_rate_per_second = 1.0
        session.add(found)
        session.commit()


def scheduled(db: Engine, clinic: SmallClinic, clock: Clock) -> int:
    """A campaign of Monday's appointments, due now and not started yet."""
    made = create(db, clinic.id, DRAFT, token="batches", send_at=clock(), by="api",
                  now=clock(), links=LINKS)  # fmt: skip
    assert made.campaign_id is not None
    return made.campaign_id


def status_of(db: Engine, campaign_id: int) -> str:
    with Session(db) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign.status


def started(db: Engine, clinic: SmallClinic, clock: Clock) -> int:
    """A campaign to eleven people on Monday (the first with two appointments, one
    message) of a clinic sending one a second, started with its first four messages."""
    clock.now = NOW
    slow_sender(db, clinic.id)
    for n in range(PEOPLE):
        seat(db, clinic, person(n), monday(8) + timedelta(minutes=30 * n))
    seat(db, clinic, person(0), monday(17))
    campaign_id = scheduled(db, clinic, clock)
    assert start(db, campaign_id, clock(), LINKS, first=4) == PEOPLE
    return campaign_id


def test_the_messages_are_written_in_batches_earliest_first_each_once(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    campaign_id = started(db, clinic, clock)
    assert len(sent(db, campaign_id)) == 4 and status_of(db, campaign_id) == "writing"
    late = seat(db, clinic, person(50), monday(18))  # booked after the start: not added

    batches = []
    while status_of(db, campaign_id) == CampaignStatus.writing:
        batches.append(write_due(db, clock(), LINKS, seconds=1, least=2))
        assert len(batches) < 10
    assert batches == [3, 3, 1]  # one a second, three runs ahead
    assert write_due(db, clock(), LINKS, seconds=1, least=2) == 0

    rows = sent(db, campaign_id)
    assert Counter(r.to_phone for r in rows) == {person(n).phone: 1 for n in range(PEOPLE)}
    assert [r.appointment_id for r in rows] == sorted(r.appointment_id for r in rows)
    assert late not in {r.appointment_id for r in rows}
    assert "17:00" in rows[0].body  # the first person's two appointments in one message


def test_a_stop_while_writing_writes_nothing_more(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    campaign_id = started(db, clinic, clock)
    assert stop(db, clinic.id, campaign_id, "staff:ana", clock()) == 4
    assert write_due(db, clock(), LINKS, seconds=1, least=2) == 0
    rows = sent(db, campaign_id)
    assert len(rows) == 4 and {r.status for r in rows} == {OutboxStatus.skipped}
    assert status_of(db, campaign_id) == "stopped"


def test_one_message_per_phone_and_local_day(db: Engine, clock: Clock, clinic: SmallClinic) -> None:
    """20:30 and 22:30 in Asunción are one day there, two in UTC; 23:30 and 00:30 the
    next day are one day in UTC, two there."""
    clock.now = NOW
    late, night = person(1), person(2)
    seat(db, clinic, late, datetime(2026, 11, 30, 20, 30, tzinfo=ASU).astimezone(UTC))
    seat(db, clinic, late, datetime(2026, 11, 30, 22, 30, tzinfo=ASU).astimezone(UTC))
    seat(db, clinic, night, datetime(2026, 11, 30, 23, 30, tzinfo=ASU).astimezone(UTC))
    seat(db, clinic, night, datetime(2026, 12, 1, 0, 30, tzinfo=ASU).astimezone(UTC))
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY + timedelta(days=1)))

    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert (seen.messages, seen.appointments) == (3, 4)
    evening = Draft(draft.kind, Filters(MONDAY, MONDAY, part="afternoon"))
    assert preview(db, clinic.id, evening, clock(), LINKS).appointments == 3
    morning = Draft(draft.kind, Filters(MONDAY + timedelta(days=1), MONDAY + timedelta(days=1),
                                        part="morning"))  # fmt: skip
    assert preview(db, clinic.id, morning, clock(), LINKS).appointments == 1
