"""What the cluster tests check, against the database and what reached the fake Twilio:
every queued message sent exactly once, each phone's messages in the order queued, no
sender above its rate, no professional booked twice at one time."""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bench.cluster import Cluster, wait_until
from scheduler.pacing import busiest_second
from store.models import AppointmentStatus, OutboxMessage, OutboxStatus

WHATSAPP = "whatsapp:"
UNFINISHED = (OutboxStatus.pending, OutboxStatus.sending)


def bare(address: str) -> str:
    return address.removeprefix(WHATSAPP)


def queued(engine: Engine, sender: str) -> list[OutboxMessage]:
    """The outbox rows from `sender`, in the order they were written."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.from_phone == sender)
                .order_by(col(OutboxMessage.id))
            )
        )


def at_fake(cluster: Cluster, sender: str) -> list[dict[str, Any]]:
    """What reached the fake Twilio from `sender`, in the order it arrived."""
    return [m for m in cluster.fake_messages() if bare(m["from"]) == sender]


def all_sent(cluster: Cluster, sender: str, timeout: float) -> list[dict[str, Any]]:
    """Wait until no message from `sender` is left to send and the fake has as many as the
    outbox says were sent; what reached the fake."""

    def settled() -> list[dict[str, Any]] | None:
        rows = queued(cluster.engine, sender)
        if any(row.status in UNFINISHED for row in rows):
            return None
        arrived = at_fake(cluster, sender)
        sent = sum(row.twilio_sid is not None for row in rows)
        return arrived if len(arrived) >= sent else None

    return wait_until(settled, timeout, f"every message from {sender} sent")


def assert_sent_exactly_once(engine: Engine, arrived: list[dict[str, Any]], sender: str) -> None:
    """Each row from `sender` is sent, once: the fake holds exactly the rows' messages
    (recipient and words), each under the SID its row keeps."""
    rows = queued(engine, sender)
    assert rows, f"nothing was queued from {sender}"
    not_sent = [(row.id, row.status, row.error_message) for row in rows if row.twilio_sid is None]
    assert not not_sent, f"rows never sent: {not_sent}"
    assert Counter((m["to"], m["body"]) for m in arrived) == Counter(
        (f"{WHATSAPP}{row.to_phone}", row.body) for row in rows
    )
    sids = [m["sid"] for m in arrived]
    assert len(set(sids)) == len(sids)
    assert set(sids) == {row.twilio_sid for row in rows}


def assert_in_order_per_phone(engine: Engine, arrived: list[dict[str, Any]], sender: str) -> None:
    """Each phone got its messages in the order they were queued."""
    written: dict[str, list[str]] = {}
    for row in queued(engine, sender):
        written.setdefault(row.to_phone, []).append(row.body)
    received: dict[str, list[str]] = {}
    for message in sorted(arrived, key=lambda m: m["received_at"]):
        received.setdefault(bare(message["to"]), []).append(message["body"])
    assert received == written


def busiest(arrived: list[dict[str, Any]]) -> int:
    """The most messages that reached the fake in any one-second window."""
    return busiest_second(datetime.fromisoformat(m["received_at"]).timestamp() for m in arrived)


def overlapping_appointments(engine: Engine) -> list[tuple[int, int, int]]:
    """Pairs of appointments of one professional, neither cancelled, that overlap:
    (professional, id, id)."""
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT a.professional_id, a.id, b.id FROM appointment a"
                " JOIN appointment b ON a.professional_id = b.professional_id AND a.id < b.id"
                " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
                " WHERE a.status <> :cancelled AND b.status <> :cancelled"
            ),
            {"cancelled": AppointmentStatus.cancelled.value},
        )
        return [(p, a, b) for p, a, b in found]
