"""Writing the messages that follow a visit's outcome — the no-show recovery steps, the
care message chosen per service, the survey question — in the patient's language, and
handing them to the outbox. Part of the due-notifications pass (`scheduler.notifications`)."""

import json
from datetime import datetime
from urllib.parse import quote

from sqlmodel import Session

from bot.choices import offer
from bot.payloads import score_buttons
from bot.render import default_templates, render, tag_texts
from bot.types import Reply
from store import notifications as due
from store.after_visit import LATE, outbox_kind
from store.appointment_info import appointment_info
from store.clinic_templates import ClinicTexts
from store.message_kinds import MessageKind
from store.models import Appointment, Clinic, Notification, Service
from store.surveys import survey_asked


def booking_link(clinic: Clinic, language: str, own: dict[str, str] | None = None) -> str:
    """WhatsApp's click-to-chat link to the clinic's number with a first message that
    starts a booking: one tap from any phone, no page to load."""
    digits = "".join(c for c in clinic.whatsapp_number if c.isdigit())
    tags = {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone or "",
        "clinic_address": clinic.address or "",
    }
    first_message = render(Reply("automations.rebook_text", tags), language, own)
    return f"https://wa.me/{digits}?text={quote(first_message)}"


def care_template(service: Service | None, language: str) -> str:
    """The service's own care message if it names one that exists, else the default."""
    default = MessageKind.care.template_key()
    key = service.care_template if service else None
    if key and key.startswith(default) and key in default_templates(language):
        return key
    return default


def queue_after_visit(
    session: Session, notification: Notification, now: datetime, texts: ClinicTexts | None = None
) -> None:
    """Render one message (the clinic's own text where it has one) and queue it (useless
    `LATE` after its time). The survey question is recorded as asked, so the patient's
    answer is read as its score."""
    appointment = session.get(Appointment, notification.appointment_id)
    assert appointment is not None and appointment.id is not None
    info = appointment_info(session, appointment)
    language, kind = info.language, outbox_kind(notification)
    own = (texts or ClinicTexts(session))(appointment.clinic_id, language)
    tags = {k: v for k, v in info.tags().items() if k != "link"}
    template = kind.template_key()
    if kind == MessageKind.no_show_2:
        tags["booking_link"] = booking_link(info.clinic, language, own)
    if kind == MessageKind.care:
        template = care_template(session.get(Service, appointment.service_id), language)
    body = render(Reply(template, tags), language, own)
    options = None
    if kind == MessageKind.survey and info.clinic.interactive_messages:
        offered = offer([Reply(template, tags, score_buttons())], language, own)
        options = json.dumps(offered.to_json(), ensure_ascii=False) if offered else None
    if kind == MessageKind.survey:
        survey_asked(session, appointment.clinic_id, appointment.id, info.patient.phone, now)
    due.queue(
        session,
        notification,
        template=template,
        body=body,
        now=now,
        language=language,
        options=options,
        variables=tag_texts(tags, language),
        kind=kind,
        not_after=notification.due_at + LATE,
    )
