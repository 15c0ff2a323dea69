"""Answering an appointment request: accept it with a time (the booking and its reminders,
`store.requests`) or decline it, and tell the patient by WhatsApp in their language through
the outbox, once per request. The accepted message is the booking's confirmation."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.locale import text
from bot.render import render, tag_texts
from bot.types import Reply
from store import requests
from store.appointment_info import appointment_info
from store.clinic_templates import overrides
from store.message_kinds import MessageKind
from store.models import Appointment, AppointmentRequest, Clinic, Service
from store.outbox import enqueue

LinkMaker = Callable[[int], str]


def accept_request(
    session: Session,
    clinic: Clinic,
    request: AppointmentRequest,
    *,
    service: Service,
    professional_id: int,
    starts_at: datetime,
    by: str,
    now: datetime,
    link_for: LinkMaker,
) -> Appointment:
    """Book the time for the request (locked by the caller) and queue the patient's
    confirmation. `SlotTaken` and `AlreadyHandled` leave everything as it was."""
    appointment = requests.accept(
        session,
        clinic,
        request,
        service=service,
        professional_id=professional_id,
        starts_at=starts_at,
        by=by,
        now=now,
    )
    info = appointment_info(session, appointment)
    language = request.language or info.language
    tags = info.tags(link_for(appointment.id or 0))
    _tell(
        session,
        clinic,
        request,
        MessageKind.request_accepted,
        tags,
        language,
        now,
        appointment_id=appointment.id,
        not_after=appointment.starts_at,
    )
    return appointment


def decline_request(
    session: Session,
    clinic: Clinic,
    request: AppointmentRequest,
    *,
    reason: str | None,
    service_name: str,
    by: str,
    now: datetime,
) -> None:
    """Decline the request (locked by the caller) and queue the patient's message, with
    the reason when staff gave one."""
    requests.decline(session, request, reason, by, now)
    language = request.language or clinic.default_language
    given = request.decline_reason
    tags: dict[str, object] = {
        "patient_name": request.patient_name,
        "service": service_name,
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone or "",
        "clinic_address": clinic.address or "",
        "reason": text("labels.request_reason", language, reason=given) if given else "",
    }
    _tell(session, clinic, request, MessageKind.request_declined, tags, language, now)


def _tell(
    session: Session,
    clinic: Clinic,
    request: AppointmentRequest,
    kind: MessageKind,
    tags: dict[str, object],
    language: str,
    now: datetime,
    **about: Any,
) -> None:
    """Queue the answer once per request, in the clinic's own words where it has them;
    its tags are kept for an approved template once the window has closed."""
    reply = Reply(kind.template_key(), tags)
    enqueue(
        session,
        clinic_id=clinic.id or 0,
        idempotency_key=f"request:{request.id}:{kind}",
        from_phone=clinic.whatsapp_number,
        to_phone=request.phone,
        body=render(reply, language, overrides(session, clinic.id or 0, language)),
        now=now,
        kind=kind,
        template=reply.template,
        language=language,
        variables=tag_texts(reply.tags, language),
        **about,
    )
