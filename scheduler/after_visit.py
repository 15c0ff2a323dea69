"""Writing the messages that follow a visit's outcome — the no-show recovery steps, the
care message chosen per service, the survey question — in the patient's language, and
handing them to the outbox. Part of the due-notifications pass (`scheduler.notifications`)."""

import json
from datetime import datetime
from urllib.parse import quote

from sqlmodel import Session

from bot.choices import offer
from bot.render import default_templates, render, tag_texts
from bot.types import Option, Reply
from store import notifications as due
from store.after_visit import LATE, outbox_kind
from store.appointment_info import appointment_info
from store.clinic_templates import ClinicTexts
from store.models import Appointment, Clinic, Notification, Service
from store.outcomes import CARE, SURVEY
from store.surveys import survey_asked

TEMPLATES = {
    "no_show_1": "automations.no_show_1",
    "no_show_2": "automations.no_show_2",
    "no_show_3": "automations.no_show_3",
    CARE: "automations.care",
    SURVEY: "automations.survey_score",
}
SCORES = range(1, 6)


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
    key = service.care_template if service else None
    if key and key.startswith(TEMPLATES[CARE]) and key in default_templates(language):
        return key
    return TEMPLATES[CARE]


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
    template = TEMPLATES[kind]
    if kind == "no_show_2":
        tags["booking_link"] = booking_link(info.clinic, language, own)
    if kind == CARE:
        template = care_template(session.get(Service, appointment.service_id), language)
    body = render(Reply(template, tags), language, own)
    options = None
    if kind == SURVEY and info.clinic.interactive_messages:
        choices = tuple(Option(f"score:{n}", label_key=f"labels.score_{n}") for n in SCORES)
        offered = offer([Reply(template, tags, choices)], language, own)
        options = json.dumps(offered.to_json(), ensure_ascii=False) if offered else None
    if kind == SURVEY:
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
