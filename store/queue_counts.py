"""What the reports count of the waiting room: per queue, per professional and per
booking channel, the visits that checked in, how long the called ones waited and the
served ones took, and how many never answered. A ticket belongs to the local day it was
taken on. The three groupings are kept apart (not their product), so a day's summary
holds a few hundred values, not thousands."""

from collections import Counter
from dataclasses import dataclass, fields

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from store.local_time import epoch_seconds
from store.models import Appointment, Branch, QueueTicket, Service, TicketStatus
from store.visit_counts import Span, professional_names

BY_PROFESSIONAL = "professional:"


@dataclass(frozen=True)
class QueueFigures:
    """The tickets of one group (a queue, a professional, a booking channel) and their
    times."""

    checked_in: int
    called: int
    wait_seconds: float  # from arrival to the (latest) call, over the called ones
    served: int
    service_seconds: float  # from the call to the end, over the served ones
    absent: int


@dataclass(frozen=True)
class WaitingRoomFigures:
    """A period's tickets three ways. A walk-in to a professional's queue is that
    professional's; other walk-ins are professional 0 and booking channel ""."""

    by_queue: dict[str, QueueFigures]
    by_professional: dict[int, QueueFigures]
    by_channel: dict[str, QueueFigures]


FIGURES = [f.name for f in fields(QueueFigures)]
GROUPINGS = ("queue", "professional", "channel")
# grouping -> key (as text) -> figure -> sum: what a day's summary keeps, and adds up
Tallies = dict[str, dict[str, Counter[str]]]


def tallies(session: Session, span: Span) -> Tallies:
    """The span's tickets counted by queue, by professional and by booking channel."""
    days = span.days()
    status = col(QueueTicket.status)
    served = status == TicketStatus.served
    called_at = epoch_seconds(col(QueueTicket.called_at))
    arrived_at = epoch_seconds(col(QueueTicket.arrived_at))
    rows = session.execute(
        select(
            col(QueueTicket.queue),
            func.coalesce(col(Appointment.professional_id), 0),
            func.coalesce(col(QueueTicket.source_channel), ""),
            func.count(),
            func.count(col(QueueTicket.called_at)),
            func.coalesce(func.sum(called_at - arrived_at), 0),
            func.sum(case((served, 1), else_=0)),
            func.coalesce(
                func.sum(case((served, epoch_seconds(col(QueueTicket.ended_at)) - called_at))), 0
            ),
            func.sum(case((status == TicketStatus.absent, 1), else_=0)),
        )
        .select_from(QueueTicket)
        .outerjoin(Appointment, col(Appointment.id) == col(QueueTicket.appointment_id))
        .where(
            col(QueueTicket.clinic_id) == span.clinic_id,
            col(QueueTicket.day) >= days[0],
            col(QueueTicket.day) <= days[-1],
        )
        .group_by(
            col(QueueTicket.queue),
            col(Appointment.professional_id),
            col(QueueTicket.source_channel),
        )
    ).all()
    found: Tallies = {grouping: {} for grouping in GROUPINGS}
    for queue, professional_id, channel, *values in rows:
        if not professional_id and queue.startswith(BY_PROFESSIONAL):
            professional_id = int(queue.removeprefix(BY_PROFESSIONAL))
        sums = dict(zip(FIGURES, (float(v or 0) for v in values), strict=True))
        for grouping, key in zip(GROUPINGS, (queue, str(professional_id), channel), strict=True):
            found[grouping].setdefault(key, Counter()).update(sums)
    return found


def add(into: Tallies, more: Tallies) -> None:
    """Add `more` into `into`: a period's tallies are the sum of its days'."""
    for grouping, groups in more.items():
        for key, sums in groups.items():
            into.setdefault(grouping, {}).setdefault(key, Counter()).update(sums)


def figures(found: Tallies) -> WaitingRoomFigures:
    """The tallies as figures, each group's keys as the reports name them."""

    def each(grouping: str) -> dict[str, QueueFigures]:
        return {key: _figures(sums) for key, sums in found.get(grouping, {}).items()}

    return WaitingRoomFigures(
        by_queue=each("queue"),
        by_professional={int(key): f for key, f in each("professional").items()},
        by_channel=each("channel"),
    )


def waiting_room_figures(session: Session, span: Span) -> WaitingRoomFigures:
    return figures(tallies(session, span))


def _figures(sums: Counter[str]) -> QueueFigures:
    return QueueFigures(
        checked_in=int(sums["checked_in"]),
        called=int(sums["called"]),
        wait_seconds=float(sums["wait_seconds"]),
        served=int(sums["served"]),
        service_seconds=float(sums["service_seconds"]),
        absent=int(sums["absent"]),
    )


def queue_names(session: Session, clinic_id: int) -> dict[str, str]:
    """What each queue key the clinic may have used is called: its service's or
    professional's name, and its branch's where it names one ("Clínica · Centro")."""
    services = dict(
        session.execute(
            select(col(Service.id), col(Service.name)).where(col(Service.clinic_id) == clinic_id)
        ).all()
    )
    branches = dict(
        session.execute(
            select(col(Branch.id), col(Branch.name)).where(col(Branch.clinic_id) == clinic_id)
        ).all()
    )
    names = {f"service:{k}": v for k, v in services.items()}
    names |= {f"{BY_PROFESSIONAL}{k}": v for k, v in professional_names(session, clinic_id).items()}
    for branch_id, branch in branches.items():
        names |= {f"branch:{branch_id}/service:{k}": f"{v} · {branch}" for k, v in services.items()}
    return names
