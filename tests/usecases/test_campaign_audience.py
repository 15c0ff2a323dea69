"""A campaign's audience filtered by service, branch and insurance (each alone and with a
day), exactly which appointments become recipients; a blocked number left out under its
own reason; and the results counting what was read and who replied, from the fake
Twilio's signed status callbacks and the patients' own messages through the webhook."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, select

from scheduler.worker import dispatch_job
from store.campaigns import BLOCKED, INVALID, OPTED_OUT, PAUSED, Filters, results
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Branch, Campaign, CampaignRecipient, Patient, Professional
from tests.campaign_support import LINKS, Person, by_phone, seat
from tests.notification_support import writes
from tests.support import Chat, Clock
from tests.support import TestClinic as SmallClinic
from tests.window_support import live
from usecases.campaigns import Draft, create, preview

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday morning
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)

ROSA = Person("+595981000001", "Rosa Giménez", "es", (("insurance", "IPS"),))
JUAN = Person("+595981000002", "Juan Pérez", "es", (("insurance", "Santa Clara"),))
MARY = Person("+595981000003", "Mary Smith", "en")  # no insurance
# written by another hand: an insurance matches whatever its case and spaces
KARAI = Person("+595981000004", "Karai Ñandu", "gn", (("insurance", " Ips "),))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ASU).astimezone(UTC)


def recipients(db: Engine, campaign_id: int) -> set[int]:
    with Session(db) as session:
        return set(
            session.exec(
                select(CampaignRecipient.appointment_id).where(
                    CampaignRecipient.campaign_id == campaign_id
                )
            )
        )


def go(db: Engine, clinic: SmallClinic, draft: Draft, clock: Clock, token: str) -> int:
    made = create(
        db, clinic.id, draft, token=token, send_at=None, by="staff:ana", now=clock(), links=LINKS
    )
    assert made.refused is None and made.campaign_id is not None, made
    return made.campaign_id


@dataclass(frozen=True)
class Agenda:
    """Ana works at the Centro branch, Luis at Norte, Eva at none; each name an
    appointment's id."""

    centro: int
    norte: int
    general: int
    dentistry: int
    lab: int
    ids: dict[str, int]


def agenda(db: Engine, clinic: SmallClinic) -> Agenda:
    with transaction(db) as session:
        centro = Branch(clinic_id=clinic.id, name="Centro")
        norte = Branch(clinic_id=clinic.id, name="Norte")
        session.add_all([centro, norte])
        session.flush()
        for name, branch in (("ana", centro), ("luis", norte)):
            professional = session.get(Professional, clinic.professionals[name])
            assert professional is not None
            professional.branch_id = branch.id
            session.add(professional)
        eva = Professional(clinic_id=clinic.id, name="Dra. Eva Sin Sede")
        session.add(eva)
        session.flush()
        assert centro.id is not None and norte.id is not None and eva.id is not None
        clinic.professionals["eva"] = eva.id
        branches = (centro.id, norte.id)
    ids = {
        "rosa_mon": seat(db, clinic, ROSA, at(MONDAY, 9)),  # ana, general
        "juan_mon": seat(
            db, clinic, JUAN, at(MONDAY, 10), professional="luis", service="dentistry"
        ),
        "mary_mon": seat(db, clinic, MARY, at(MONDAY, 11), professional="luis"),
        "eva_mon": seat(db, clinic, MARY, at(MONDAY, 12), professional="eva"),  # no branch
        "karai_mon": seat(db, clinic, KARAI, at(MONDAY, 15), service="lab"),
        "rosa_tue": seat(
            db, clinic, ROSA, at(TUESDAY, 9), professional="luis", service="dentistry"
        ),
        "mary_tue": seat(
            db, clinic, MARY, at(TUESDAY, 11), professional="luis", service="dentistry"
        ),
        "juan_tue": seat(db, clinic, JUAN, at(TUESDAY, 14), status="confirmed"),
        "karai_tue": seat(db, clinic, KARAI, at(TUESDAY, 16), service="lab"),
    }
    # matches every filter below but its status: never in an audience
    seat(db, clinic, ROSA, at(MONDAY, 16), status="cancelled")
    return Agenda(
        *branches,
        clinic.services["general"],
        clinic.services["dentistry"],
        clinic.services["lab"],
        ids,
    )


BOTH_DAYS, ONLY_MONDAY, ONLY_TUESDAY = (MONDAY, TUESDAY), (MONDAY, MONDAY), (TUESDAY, TUESDAY)
CASES = [
    # (days, services, branches, insurances) -> the appointments that get the message
    ("service", BOTH_DAYS, ("dentistry",), (), (), {"juan_mon", "rosa_tue", "mary_tue"}),
    ("service+day", ONLY_MONDAY, ("dentistry",), (), (), {"juan_mon"}),
    ("services+day", ONLY_TUESDAY, ("general", "lab"), (), (), {"juan_tue", "karai_tue"}),
    (
        "branch",
        BOTH_DAYS,
        (),
        ("norte",),
        (),
        {"juan_mon", "mary_mon", "rosa_tue", "mary_tue"},
    ),
    ("branch+day", ONLY_TUESDAY, (), ("centro",), (), {"juan_tue", "karai_tue"}),
    (
        "branches",
        ONLY_MONDAY,
        (),
        ("centro", "norte"),
        (),
        {"rosa_mon", "juan_mon", "mary_mon", "karai_mon"},  # not Eva's: no branch
    ),
    ("insurance", BOTH_DAYS, (), (), ("IPS",), {"rosa_mon", "karai_mon", "rosa_tue", "karai_tue"}),
    ("insurance+day", ONLY_MONDAY, (), (), ("Santa Clara",), {"juan_mon"}),
    ("insurance as typed", ONLY_MONDAY, (), (), ("santa  CLARA",), {"juan_mon"}),
    (
        "insurances+day",
        ONLY_TUESDAY,
        (),
        (),
        ("IPS", "Santa Clara"),
        {"rosa_tue", "juan_tue", "karai_tue"},
    ),
    ("service+branch+day", ONLY_MONDAY, ("general",), ("norte",), (), {"mary_mon"}),
    ("all three", BOTH_DAYS, ("general",), ("centro",), ("IPS",), {"rosa_mon"}),
    ("all three+day", ONLY_TUESDAY, ("dentistry",), ("norte",), ("IPS",), {"rosa_tue"}),
]


@pytest.mark.parametrize(
    ("days", "services", "branches", "insurances", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_audience_by_service_branch_and_insurance(
    db: Engine,
    clock: Clock,
    clinic: SmallClinic,
    days: tuple[date, date],
    services: tuple[str, ...],
    branches: tuple[str, ...],
    insurances: tuple[str, ...],
    expected: set[str],
) -> None:
    found = agenda(db, clinic)
    branch_ids = {"centro": found.centro, "norte": found.norte}
    filters = Filters(
        *days,
        services=tuple(clinic.services[s] for s in services),
        branches=tuple(branch_ids[b] for b in branches),
        insurances=insurances,
    )
    draft = Draft(MessageKind.campaign_reminder, filters)
    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert seen.appointments == len(expected) and not seen.excluded

    campaign_id = go(db, clinic, draft, clock, token="filters")
    assert recipients(db, campaign_id) == {found.ids[name] for name in expected}


BRUNO = Person("+595981000008", "Bruno Bloqueó", "es", (("unreachable", BLOCKED),))
PAUSA = Person("+595981000005", "Pedro Pausa", "es", (("bot_paused", True),))
BAJA = Person("+595981000006", "Berta Baja", "es", (("opted_out", True),))
MAL = Person("+595981000007", "Mario Mal", "es", (("unreachable", INVALID),))
# blocked the clinic and opted out as well: opting out is checked first
AMBOS = Person("+595981000009", "Ana Ambos", "es", (("unreachable", BLOCKED), ("opted_out", True)))
HERMANA = Person("+595981000010", "Hermana Sana", "es")  # her phone's other patient blocked it


def test_a_blocked_number_is_counted_apart_and_left_out(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    ids = {
        person.phone: seat(db, clinic, person, at(MONDAY, 8) + timedelta(minutes=30 * n))
        for n, person in enumerate([ROSA, BRUNO, PAUSA, BAJA, MAL, AMBOS, HERMANA])
    }
    seat(db, clinic, BRUNO, at(MONDAY, 15))  # his second that day: one message kept back
    with transaction(db) as session:  # another patient on Hermana's phone blocked the clinic
        session.add(
            Patient(clinic_id=clinic.id, phone=HERMANA.phone, name="Otra", unreachable=BLOCKED)
        )
    draft = Draft(MessageKind.campaign_closure, Filters(MONDAY, MONDAY))

    seen = preview(db, clinic.id, draft, clock(), LINKS)
    assert seen.excluded == {BLOCKED: 2, PAUSED: 1, OPTED_OUT: 2, INVALID: 1}
    assert (seen.messages, seen.appointments) == (1, 8)
    assert [s.phone for s in seen.samples] == [ROSA.phone]

    campaign_id = go(db, clinic, draft, clock, token="blocked")
    assert recipients(db, campaign_id) == {ids[ROSA.phone]}
    assert set(by_phone(db, campaign_id)) == {ROSA.phone}


def test_the_results_count_what_was_read_and_who_replied(
    db: Engine, clock: Clock, clinic: SmallClinic, app: Flask
) -> None:
    people = [ROSA, JUAN, MARY, KARAI]
    for n, person in enumerate(people):
        seat(db, clinic, person, at(MONDAY, 9 + n))
        writes(db, clinic.id, person.phone, clock() - timedelta(hours=1))  # all as text
    client = app.test_client()

    def chat(person: Person) -> Chat:
        return Chat(client, db, phone=person.phone)

    chat(JUAN).says("hola")  # before the campaign: not a reply to it
    clock.advance(minutes=5)
    campaign_id = go(
        db, clinic, Draft(MessageKind.campaign_reminder, Filters(MONDAY, MONDAY)), clock, "read"
    )
    with Session(db) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        nothing_yet = results(session, campaign)
    assert (nothing_yet.pending, nothing_yet.read, nothing_yet.replied) == (4, 0, 0)

    with live(db, clock) as server:
        clock.advance(minutes=1)
        dispatch_job(db, server.channel, clock)
        sid = {phone: row.twilio_sid or "" for phone, row in by_phone(db, campaign_id).items()}
        assert set(sid) == {p.phone for p in people} and all(sid.values())
        server.fake.emit_statuses(sid[ROSA.phone], ["sent", "delivered", "read"])
        server.fake.emit_statuses(sid[JUAN.phone], ["sent", "delivered"])
        server.fake.emit_statuses(sid[MARY.phone], ["sent"])
        server.fake.emit_statuses(sid[KARAI.phone], ["sent", "delivered", "read", "delivered"])
        assert all(c.get("response_status") == 204 for c in server.fake.callbacks)
    statuses = {row.to_phone: row.status for row in by_phone(db, campaign_id).values()}
    assert statuses == {
        ROSA.phone: "read",
        JUAN.phone: "delivered",
        MARY.phone: "sent",
        KARAI.phone: "read",  # a late "delivered" does not take it back
    }

    clock.advance(minutes=10)
    chat(ROSA).says("gracias")
    chat(KARAI).says("aguyje")
    chat(KARAI).says("ahí estaré")  # twice: one patient who replied
    Chat(client, db, phone="+595981099999").says("hola")  # not a recipient
    with Session(db) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        found = results(session, campaign)
    assert found.counts() == {
        "recipients": 4,
        "pending": 0,
        "sent": 4,
        "delivered": 3,
        "read": 2,
        "failed": 0,
        "skipped": 0,
        "replied": 2,
        "rescheduled": 0,
        "cancelled": 0,
    }
