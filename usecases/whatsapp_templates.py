"""A clinic's WhatsApp templates made from its own texts: one row per business-initiated
kind and language with WhatsApp's word on it, creating one at Twilio from the text the bot
would send (tags as numbered variables with sample values) and submitting it for approval,
and asking Twilio again about those WhatsApp has not decided on."""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.custom_texts import sample_tags
from bot.locale import LANGUAGES
from bot.render import default_templates, tag_texts, template_tags
from bot.whatsapp_template import Numbered, numbered
from channel.base import SendError, TemplateApprover
from store import content_templates
from store.clinic_templates import overrides, own_text
from store.db import transaction
from store.message_kinds import WITH_TEMPLATES, MessageKind, recovery_step
from store.models import Clinic, ContentTemplate, Patient
from store.rules import RuleError

log = logging.getLogger(__name__)
NONE = "none"  # no template yet (a state of a row, beside Twilio's statuses)
KINDS = tuple(kind for kind in WITH_TEMPLATES)


class Refused(Exception):
    """A template that cannot be created: `reason` is a label's suffix (`wa_problem_*`),
    `detail` Twilio's own words where it refused."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Row:
    """One kind in one language: WhatsApp's status (or `NONE`), the rest of its row, and
    what in the clinic's current text WhatsApp would reject (`wa_problem_*`), if anything."""

    kind: MessageKind
    language: str
    status: str
    category: str
    rejection_reason: str | None = None
    content_sid: str | None = None
    problem: str | None = None


def served_languages(session: Session, clinic: Clinic) -> list[str]:
    """The clinic's default language and every one its patients speak, in our order."""
    spoken = set(
        session.exec(
            select(Patient.language)
            .where(Patient.clinic_id == clinic.id, col(Patient.language).is_not(None))
            .distinct()
        )
    )
    return [lang for lang in LANGUAGES if lang == clinic.default_language or lang in spoken]


def overview(session: Session, clinic: Clinic) -> list[Row]:
    """Every kind × served language, with its template's state."""
    clinic_id = clinic.id or 0
    kept = {(t.kind, t.language): t for t in content_templates.list_templates(session, clinic_id)}
    rows = []
    for language in served_languages(session, clinic):
        texts = overrides(session, clinic_id, language)
        for kind in KINDS:
            problem = text_problem(texts.get(kind.template_key()), kind, language)
            rows.append(_row(kind, language, kept.get((kind.value, language)), problem))
    return sorted(rows, key=lambda row: KINDS.index(row.kind))


def _row(
    kind: MessageKind, language: str, found: ContentTemplate | None, problem: str | None = None
) -> Row:
    if found is None:
        return Row(kind, language, NONE, kind.whatsapp_category, problem=problem)
    return Row(
        kind,
        language,
        found.status,
        found.category or kind.whatsapp_category,
        found.rejection_reason,
        found.content_sid,
        problem,
    )


def _numbered(
    own: str | None, kind: MessageKind, language: str, samples: dict[str, str]
) -> Numbered:
    return numbered(own or default_templates(language)[kind.template_key()], samples)


def _kept_tags(kind: MessageKind, language: str) -> set[str]:
    """The tags a message of `kind` keeps on its outbox row, which fill its template."""
    return template_tags(default_templates(language)[kind.template_key()]) - {"options"}


def text_problem(own: str | None, kind: MessageKind, language: str) -> str | None:
    """What WhatsApp would reject in the text of (kind, language), or a tag the message
    does not keep for its template; None when it may be submitted."""
    made = _numbered(own, kind, language, {})
    if made.problems:
        return made.problems[0]
    if set(made.variables.values()) - _kept_tags(kind, language):
        return "unknown_tags"
    return None


def kinds_turned_on(clinic: Clinic) -> list[MessageKind]:
    """The automated kinds the clinic's settings send: reminders, each no-show step,
    care and the survey."""
    kinds = []
    if clinic.reminder_hours_before is not None or clinic.reminder_day_before_at is not None:
        kinds.append(MessageKind.reminder)
    steps = [h for h in clinic.no_show_followup_hours.split(",") if h.strip()]
    kinds += [recovery_step(n) for n in range(1, min(len(steps), 3) + 1)]
    if clinic.care_delay_minutes is not None:
        kinds.append(MessageKind.care)
    if clinic.survey_enabled:
        kinds.append(MessageKind.survey)
    return kinds


def missing_approved(session: Session, clinic: Clinic) -> list[Row]:
    """The rows of kinds the clinic turned on that have no approved template."""
    on = set(kinds_turned_on(clinic))
    return [
        row
        for row in overview(session, clinic)
        if row.kind in on and row.status != content_templates.APPROVED
    ]


def template_name(clinic_id: int, kind: MessageKind, language: str, now: datetime) -> str:
    """WhatsApp's name for it (lowercase, digits, underscores), new each time: a rejected
    name cannot be used again for a while."""
    return f"turnero_{clinic_id}_{kind.value}_{language}_{now:%Y%m%d%H%M%S}"


def create_at_twilio(
    engine: Engine,
    channel: TemplateApprover,
    clinic_id: int,
    kind: MessageKind,
    language: str,
    now: datetime,
) -> Row:
    """Create the template of (kind, language) from the clinic's current text, submit it
    to WhatsApp and keep it (replacing any earlier one); raises `Refused`."""
    if kind not in KINDS or language not in LANGUAGES:
        raise Refused("unknown")
    with Session(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            raise Refused("unknown")
        own = own_text(session, clinic_id, language, kind.template_key())
        details = {"clinic_name": clinic.name, "clinic_phone": clinic.phone or ""}
        details["clinic_address"] = clinic.address or ""
    problem = text_problem(own, kind, language)
    if problem is not None:
        raise Refused(problem)
    made = _numbered(own, kind, language, tag_texts(sample_tags(language, details), language))
    try:
        sid = channel.create_content(
            friendly_name=f"turnero {clinic_id} {kind.value} {language}",
            language=language,
            types={"twilio/text": {"body": made.body}},
            variables=made.samples,
        )
        approval = channel.submit_for_approval(
            sid, name=template_name(clinic_id, kind, language, now), category=kind.whatsapp_category
        )
    except SendError as error:
        log.warning("template %s/%s: Twilio refused it: %s", kind, language, error.summary)
        raise Refused("twilio", error.message) from error
    with transaction(engine) as session:
        try:
            template, _ = content_templates.put_template(
                session,
                clinic_id,
                kind.value,
                language,
                content_sid=sid,
                variables=made.variables,
                allowed_tags=_kept_tags(kind, language),
                now=now,
                status=approval.status,
                category=kind.whatsapp_category,
            )
        except RuleError as error:
            raise Refused("unknown_tags") from error
        content_templates.set_status(
            session, template, approval.status, approval.rejection_reason, now
        )
        return _row(kind, language, template)


@dataclass
class Refreshed:
    """What one refresh did: templates asked about, changed, and not answered."""

    asked: int = 0
    changed: int = 0
    failed: int = 0


def refresh(
    engine: Engine, channel: TemplateApprover, now: datetime, clinic_id: int | None = None
) -> Refreshed:
    """Ask Twilio about every template WhatsApp has not decided on (of one clinic, or
    all) and keep the answers; one that cannot be asked stays as it was."""
    report = Refreshed()
    with Session(engine) as session:
        waiting = [
            (t.id, t.content_sid) for t in content_templates.waiting_templates(session, clinic_id)
        ]
    for template_id, sid in waiting:
        report.asked += 1
        try:
            approval = channel.approval(sid)
        except SendError as error:
            log.warning("template %s: approval not fetched: %s", template_id, error.summary)
            report.failed += 1
            continue
        with transaction(engine) as session:
            template = session.get(ContentTemplate, template_id)
            if template is None or template.content_sid != sid:
                continue  # replaced or removed meanwhile
            if content_templates.set_status(
                session, template, approval.status, approval.rejection_reason, now
            ):
                report.changed += 1
    return report
