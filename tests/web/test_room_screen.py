"""The waiting room screen's feed: the calls after the screen's cursor, in the order they
were made (recalls again, served ones too), so however fast calls come none is missed; a
batch at a time with "more"; a new day counts from its first call; a bad cursor or branch
is a 4xx, never a 500."""

import json
import re
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.db import transaction
from store.models import Appointment, Clinic, QueueTicket
from tests.console_support import NOW, Desk, book_at
from tests.support import TestClinic, add_patient
from usecases import waiting_room
from usecases.kiosk import AT_THE_KIOSK
from web.console import room_screen

TODAY = "2026-12-01"  # NOW's local day in Asunción
FEED = "/console/waiting-room/screen/feed"


def checked_in(db: Engine, clinic: TestClinic, count: int, names: Sequence[str] = ()) -> None:
    """`count` patients (named `names`, else "Paciente n") checked in at the kiosk."""
    for n in range(count):
        name = names[n] if n < len(names) else f"Paciente {n}"
        patient = add_patient(db, clinic.id, f"+59598100000{n}", name)
        appointment_id = book_at(db, clinic, patient, NOW + timedelta(minutes=30 * (n + 1)))
        with transaction(db) as session:
            appointment = session.get(Appointment, appointment_id)
            found = session.get(Clinic, clinic.id)
            assert appointment and found
            waiting_room.arrive(session, found, appointment, "kiosk", AT_THE_KIOSK, NOW)


def call_next(desk: Desk, room: str) -> None:
    desk.open("/console/waiting-room?room=" + room)
    queue = re.search(r'name="queue" value="([^"]+)"', desk.page.get_data(as_text=True))  # type: ignore[union-attr]
    assert queue
    desk.submit("/console/waiting-room/call", {"queue": queue.group(1), "room": room})


def feed(desk: Desk, query: str) -> dict:
    response = desk.open(f"{FEED}?{query}")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def numbers(answer: dict) -> list[str]:
    return [f"{c['number']}@{c['room']}" for c in answer["calls"]]


def test_every_call_after_the_cursor_in_order_recalls_and_served_ones_too(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    page = desk.open("/console/waiting-room/screen").get_data(as_text=True)
    assert f'data-cursor="0" data-day="{TODAY}"' in page
    checked_in(db, clinic, 3)
    for room in ("Box1", "Box2", "Box3"):  # three calls before the screen asks again
        call_next(desk, room)
    first, second, _ = ticket_ids(db)
    desk.submit(f"/console/waiting-room/tickets/{first}/served", {"room": "Box1"})
    desk.submit(f"/console/waiting-room/tickets/{second}/recall", {"room": "Box9"})

    answer = feed(desk, f"after=0&day={TODAY}")
    assert numbers(answer) == ["A-001@Box1", "A-003@Box3", "A-002@Box9"]
    assert answer["cursor"] == 4 and answer["more"] is False and answer["day"] == TODAY
    assert feed(desk, f"after=4&day={TODAY}")["calls"] == []
    assert numbers(feed(desk, f"after=3&day={TODAY}")) == ["A-002@Box9"]
    reopened = desk.open("/console/waiting-room/screen").get_data(as_text=True)
    assert 'data-cursor="4"' in reopened  # a screen opened now starts after them


def ticket_ids(db: Engine) -> list[int]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket.id).order_by(col(QueueTicket.id))))  # type: ignore[arg-type]


def test_a_screen_far_behind_gets_its_calls_a_batch_at_a_time(
    db: Engine, clinic: TestClinic, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_screen, "BATCH", 2)
    checked_in(db, clinic, 3)
    for room in ("Box1", "Box2", "Box3"):
        call_next(desk, room)
    first = feed(desk, f"after=0&day={TODAY}")
    assert numbers(first) == ["A-001@Box1", "A-002@Box2"]
    assert first["more"] is True and first["cursor"] == 2
    rest = feed(desk, f"after={first['cursor']}&day={TODAY}")
    assert numbers(rest) == ["A-003@Box3"] and rest["more"] is False and rest["cursor"] == 3


def test_a_new_day_counts_from_its_first_call(db: Engine, clinic: TestClinic, desk: Desk) -> None:
    checked_in(db, clinic, 1)
    call_next(desk, "Box1")
    answer = feed(desk, "after=7&day=2026-11-30")  # a screen left on since yesterday
    assert numbers(answer) == ["A-001@Box1"] and answer["cursor"] == 1


def test_the_screen_shows_initials_only_once_the_clinic_turns_them_on(
    db: Engine, clinic: TestClinic, desk: Desk, admin: Desk
) -> None:
    checked_in(db, clinic, 2, names=["María Pérez", "José Gómez"])
    call_next(desk, "Box1")

    def shown() -> tuple[str, list[str]]:
        page = desk.open("/console/waiting-room/screen").get_data(as_text=True)
        assert "Pérez" not in page and "María" not in page  # never the name
        now_initials = re.search(r'<p class="initials" id="now-initials">([^<]*)</p>', page)
        assert now_initials
        calls = feed(desk, f"after=0&day={TODAY}")["calls"]
        return now_initials.group(1), [c["initials"] for c in calls]

    assert shown() == ("", [""])  # off by default

    admin.open("/console/waiting-room/rules")
    form = {"queue_by": "service", "late_grace_minutes": "10", "near_ahead": "2"}
    turned_on = admin.submit("/console/waiting-room/rules", {**form, "show_initials": "on"})
    assert turned_on.status_code == 303
    assert shown() == ("M. P.", ["M. P."])
    call_next(desk, "Box2")
    assert shown() == ("J. G.", ["M. P.", "J. G."])


@pytest.mark.parametrize(
    "query", ["", "after=x&day=" + TODAY, "after=-1", "after=1&day=yesterday", "after=0&branch=99"]
)
def test_a_bad_cursor_day_or_branch_is_refused_clearly(desk: Desk, query: str) -> None:
    assert desk.open(f"{FEED}?{query}").status_code in (400, 404)
