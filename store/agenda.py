"""What the staff console's agenda reads and the block-offs it edits, always within one
clinic."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from store.freed_slots import BLOCK_OFF_REMOVED, record_freed
from store.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    BlockOff,
    Patient,
    Professional,
    Service,
)


@dataclass(frozen=True)
class AgendaRow:
    """One appointment as the agenda lists it."""

    id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    source_channel: str
    new_patient: bool
    code: str
    patient_id: int
    patient_name: str
    patient_phone: str
    service_id: int
    service_name: str
    professional_id: int
    professional_name: str
    updated_at: datetime


def _rows(session: Session, *conditions: Any) -> list[AgendaRow]:
    statement = (
        select_columns(
            Appointment,
            col(Patient.name),
            col(Patient.phone),
            col(Service.name),
            col(Professional.name),
        )
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .join(Professional, col(Professional.id) == col(Appointment.professional_id))
        .where(*conditions)
        .order_by(col(Appointment.starts_at), col(Professional.name), col(Appointment.id))
    )
    return [
        AgendaRow(
            id=a.id or 0,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            status=a.status,
            source_channel=a.source_channel,
            new_patient=a.new_patient,
            code=a.code,
            patient_id=a.patient_id,
            patient_name=patient_name or "",
            patient_phone=phone,
            service_id=a.service_id,
            service_name=service_name,
            professional_id=a.professional_id,
            professional_name=professional_name,
            updated_at=a.updated_at,
        )
        for a, patient_name, phone, service_name, professional_name in session.execute(statement)
    ]


def agenda(
    session: Session,
    clinic_id: int,
    since: datetime,
    until: datetime,
    professional_id: int | None = None,
) -> list[AgendaRow]:
    """The clinic's appointments starting in [since, until), cancelled ones included,
    soonest first; one professional's if given."""
    conditions: list[Any] = [
        Appointment.clinic_id == clinic_id,
        col(Appointment.starts_at) >= since,
        col(Appointment.starts_at) < until,
    ]
    if professional_id is not None:
        conditions.append(Appointment.professional_id == professional_id)
    return _rows(session, *conditions)


def next_appointment_at(
    session: Session, clinic_id: int, since: datetime, professional_id: int | None = None
) -> datetime | None:
    """When the clinic's next appointment that still stands begins, from `since` on."""
    query = select(func.min(Appointment.starts_at)).where(
        Appointment.clinic_id == clinic_id,
        col(Appointment.starts_at) >= since,
        col(Appointment.status).not_in((AppointmentStatus.cancelled,)),
    )
    if professional_id is not None:
        query = query.where(Appointment.professional_id == professional_id)
    return session.exec(query).one()


def agenda_row(session: Session, clinic_id: int, appointment_id: int) -> AgendaRow | None:
    rows = _rows(session, Appointment.clinic_id == clinic_id, Appointment.id == appointment_id)
    return rows[0] if rows else None


def history(session: Session, appointment_id: int) -> list[AppointmentEvent]:
    """An appointment's events, oldest first."""
    return list(
        session.exec(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
        )
    )


def professionals(session: Session, clinic_id: int) -> list[Professional]:
    return list(
        session.exec(
            select(Professional)
            .where(Professional.clinic_id == clinic_id, col(Professional.active).is_(True))
            .order_by(col(Professional.name))
        )
    )


def block_offs_from(session: Session, clinic_id: int, since: datetime) -> list[BlockOff]:
    """Block-offs that have not ended by `since`, soonest first."""
    return list(
        session.exec(
            select(BlockOff)
            .where(BlockOff.clinic_id == clinic_id, col(BlockOff.ends_at) > since)
            .order_by(col(BlockOff.starts_at), col(BlockOff.id))
        )
    )


def add_block_off(
    session: Session,
    clinic_id: int,
    *,
    starts_at: datetime,
    ends_at: datetime,
    professional_id: int | None,
    reason: str | None,
) -> BlockOff:
    """A time nobody (or one professional of this clinic) can be booked; ValueError for an
    empty interval or a professional of another clinic."""
    if ends_at <= starts_at:
        raise ValueError("a block-off must end after it starts")
    if professional_id is not None:
        professional = session.get(Professional, professional_id)
        if professional is None or professional.clinic_id != clinic_id:
            raise ValueError("no such professional")
    block = BlockOff(
        clinic_id=clinic_id,
        professional_id=professional_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:200] or None,
    )
    session.add(block)
    session.flush()
    return block


def remove_block_off(session: Session, clinic_id: int, block_off_id: int, now: datetime) -> bool:
    """Delete a block-off; the time it covered is free again, so the waitlist is offered it."""
    block = session.get(BlockOff, block_off_id)
    if block is None or block.clinic_id != clinic_id:
        return False
    session.delete(block)
    record_freed(
        session,
        clinic_id=clinic_id,
        professional_id=block.professional_id,
        starts_at=block.starts_at,
        ends_at=block.ends_at,
        why=BLOCK_OFF_REMOVED,
        now=now,
    )
    session.flush()
    return True
