"""Booking on the night the clocks go back, through the signed webhook: the hour the
clock shows twice is offered twice, and each time says which of the two it is."""

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from store.db import transaction
from store.models import WorkingHours
from tests import support
from tests.support import Chat, appointments

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 10, 29, 9, 0, tzinfo=NY)  # Thursday; the clocks go back on Sunday at 02:00
BEFORE, AFTER = "(antes del cambio de hora)", "(después del cambio de hora)"


@pytest.fixture
def clinic(db: Engine) -> support.TestClinic:
    """A clinic in New York where Dra. Ana Benítez also sees patients on Sunday night."""
    clinic = support.make_clinic(db, timezone="America/New_York")
    with transaction(db) as s:
        s.add(
            WorkingHours(
                clinic_id=clinic.id,
                professional_id=clinic.professionals["ana"],
                weekday=6,
                start=time(0),
                end=time(3),
            )
        )
    return clinic


def test_the_hour_shown_twice_is_offered_twice_and_told_apart(chat: Chat, db: Engine):
    for answer in ["hola", "1", "1"]:
        chat.says(answer)
    reply = chat.says("el domingo")
    assert chat.asked("booking.ask_time")
    offered = dict(re.findall(r"^(\d+)\. (.+)$", reply, re.MULTILINE))
    assert list(offered.values()) == [
        "00:00",
        "00:30",
        f"01:00 {BEFORE}",
        f"01:30 {BEFORE}",
        f"01:00 {AFTER}",
        f"01:30 {AFTER}",
        "02:00",
        "02:30",
    ]
    chat.says("5")  # 01:00, after the clocks went back
    for answer in ["Juana Pérez", "-", "-"]:
        reply = chat.says(answer)
    assert chat.asked("booking.review") and f"01:00 {AFTER}" in reply
    reply = chat.says("sí")
    [booked] = appointments(db)
    assert booked.starts_at == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert f"01:00 {AFTER}" in reply
