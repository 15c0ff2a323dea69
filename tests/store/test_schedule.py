"""Busy intervals read from the store: the block-offs found are exactly those that meet the
window, however long ago they started, whichever index the database reads them through."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert
from sqlmodel import Session

from store.db import transaction
from store.models import BlockOff
from store.schedule import Interval, busy_between
from tests.support import make_clinic

TODAY = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LENGTHS = (
    timedelta(minutes=30),
    timedelta(hours=4),
    timedelta(days=1),
    timedelta(days=21),  # a vacation
    timedelta(days=400),  # a leave of more than a year
)


def _random_block_offs(
    chance: random.Random, clinic_ids: list[int], professionals: dict[int, list[int]]
) -> list[dict]:
    """Block-offs over three years around TODAY, of any length, clinic-wide or one
    professional's, in two clinics; some that started years ago and have not ended."""
    found = []
    for _ in range(400):
        clinic_id = chance.choice(clinic_ids)
        length = chance.choice(LENGTHS) * chance.uniform(0.1, 1.5)
        starts = TODAY + timedelta(seconds=chance.randint(-2 * 365 * 86_400, 365 * 86_400))
        found.append(
            {
                "clinic_id": clinic_id,
                "professional_id": chance.choice([None, *professionals[clinic_id]]),
                "starts_at": starts.replace(microsecond=0),
                "ends_at": (starts + length).replace(microsecond=0),
            }
        )
    for clinic_id in clinic_ids:  # still running, started long ago
        for years in (1, 3):
            found.append(
                {
                    "clinic_id": clinic_id,
                    "professional_id": chance.choice([None, *professionals[clinic_id]]),
                    "starts_at": TODAY - timedelta(days=365 * years),
                    "ends_at": TODAY + timedelta(days=years),
                }
            )
    return found


def _windows(chance: random.Random, block_offs: list[dict]) -> list[tuple[datetime, datetime]]:
    """Random windows, and ones that start or end exactly where a block-off ends or starts."""
    windows = []
    for _ in range(60):
        since = TODAY + timedelta(seconds=chance.randint(-400 * 86_400, 200 * 86_400))
        windows.append((since, since + timedelta(days=chance.choice([1, 7, 90]))))
    for block in chance.sample(block_offs, 20):
        windows.append((block["ends_at"], block["ends_at"] + timedelta(days=1)))
        windows.append((block["starts_at"] - timedelta(days=1), block["starts_at"]))
    return windows


def _expected(
    block_offs: list[dict], clinic_id: int, ids: list[int], since: datetime, until: datetime
) -> dict[int, list[Interval]]:
    return {
        p: sorted(
            (b["starts_at"], b["ends_at"])
            for b in block_offs
            if b["clinic_id"] == clinic_id
            and b["professional_id"] in (None, p)
            and b["starts_at"] < until
            and b["ends_at"] > since
        )
        for p in ids
    }


def test_block_offs_are_found_exactly_whenever_they_started(db: Engine):
    first = make_clinic(db)
    second = make_clinic(db, number="+595981777777")
    professionals = {c.id: list(c.professionals.values()) for c in (first, second)}
    chance = random.Random(19)
    block_offs = _random_block_offs(chance, list(professionals), professionals)
    with transaction(db) as session:
        session.execute(insert(BlockOff.__table__), block_offs)  # type: ignore[attr-defined]
    assert any(b["ends_at"] < TODAY for b in block_offs)  # the past is there to skip
    with Session(db) as session:
        for since, until in _windows(chance, block_offs):
            for clinic_id, ids in professionals.items():
                asked = chance.sample(ids, chance.randint(1, len(ids)))
                found = busy_between(session, clinic_id, asked, since, until)
                assert {p: sorted(v) for p, v in found.items()} == _expected(
                    block_offs, clinic_id, asked, since, until
                ), (clinic_id, asked, since, until)
