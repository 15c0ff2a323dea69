"""What the desk did to an appointment, told to the patient by WhatsApp in their language
through the outbox (moved, cancelled)."""

from sqlmodel import Session

from bot.render import render, tag_texts
from bot.types import Reply
from store.appointment_info import AppointmentInfo
from store.clinic_templates import overrides
from store.message_kinds import MessageKind
from store.outbox import enqueue
from web.console.common import ctx, now


def tell_patient(session: Session, info: AppointmentInfo, kind: MessageKind) -> None:
    """Queue the WhatsApp message of `kind` that tells the patient what the desk did to
    their appointment, in their language, once per appointment, kind and time."""
    appointment = info.appointment
    link = ctx("link_for")(appointment.id)
    own = overrides(session, appointment.clinic_id, info.language)
    tags = info.tags(link)
    body = render(Reply(kind.template_key(), tags), info.language, own)
    enqueue(
        session,
        clinic_id=appointment.clinic_id,
        idempotency_key=(
            f"appointment:{appointment.id}:{kind}:{int(appointment.starts_at.timestamp())}"
        ),
        from_phone=info.clinic.whatsapp_number,
        to_phone=info.patient.phone,
        body=body,
        now=now(),
        kind=kind,
        template=kind.template_key(),
        appointment_id=appointment.id,
        not_after=appointment.starts_at,
        language=info.language,
        variables=tag_texts(tags, info.language),  # for an approved template, window closed
    )
