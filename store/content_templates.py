"""A clinic's WhatsApp templates (Twilio Content API), one per message kind and language,
with WhatsApp's approval status; only an approved one is sent in place of a
business-initiated message when the 24-hour window is closed. Changes run in the caller's
transaction; the tags a kind may use are the caller's to say (the store does not read
message texts)."""

import json
import re
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from store.db import insert_or_skip
from store.message_kinds import template_kinds
from store.models import ContentTemplate
from store.rules import NotFound, RuleError

CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$")
MAX_VARIABLES = 100
APPROVED = "approved"
# WhatsApp has not decided yet (Twilio's words): asked again by a refresh
WAITING = frozenset({"unsubmitted", "received", "pending"})
_NUMBER = re.compile(r"^[1-9][0-9]*$")


def check_variables(variables: Mapping[str, object], allowed_tags: Collection[str]) -> None:
    """A template's numbered placeholders mapped to our tags: keys "1".."N" with none
    missing (WhatsApp numbers them in order), each value a tag the kind's message uses.
    Raises `RuleError` naming the first problem."""
    if len(variables) > MAX_VARIABLES:
        raise RuleError("too_many_variables", f"at most {MAX_VARIABLES} variables", "variables")
    for key, tag in variables.items():
        if not _NUMBER.match(key):
            raise RuleError(
                "bad_variable_number",
                f"variable {key!r}: keys are the template's numbers, 1, 2, 3, ...",
                f"variables.{key}",
            )
        if not isinstance(tag, str) or tag not in allowed_tags:
            raise RuleError(
                "unknown_tag",
                f"variable {key}: {tag!r} is not a tag of this message; "
                f"use one of {', '.join(sorted(allowed_tags))}",
                f"variables.{key}",
            )
    numbers = sorted(int(key) for key in variables)
    if numbers != list(range(1, len(numbers) + 1)):
        missing = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
        raise RuleError(
            "variables_not_consecutive",
            f"variables must be numbered 1 to {len(numbers)}; {missing} is missing",
            "variables",
        )


def template_fields(template: ContentTemplate) -> dict[str, object]:
    return {
        "kind": template.kind,
        "language": template.language,
        "content_sid": template.content_sid,
        "variables": json.loads(template.variables),
        "status": template.status,
        "category": template.category,
        "rejection_reason": template.rejection_reason,
        "updated_at": template.updated_at.isoformat(),
    }


def list_templates(session: Session, clinic_id: int) -> list[ContentTemplate]:
    return list(
        session.exec(
            select(ContentTemplate)
            .where(ContentTemplate.clinic_id == clinic_id)
            .order_by(col(ContentTemplate.kind), col(ContentTemplate.language))
        )
    )


def find_template(
    session: Session, clinic_id: int, kind: str, language: str | None
) -> ContentTemplate | None:
    """The template of (kind, language) whatever WhatsApp said of it."""
    if language is None:
        return None
    return session.exec(
        select(ContentTemplate).where(
            ContentTemplate.clinic_id == clinic_id,
            ContentTemplate.kind == kind,
            ContentTemplate.language == language,
        )
    ).first()


def template_for(
    session: Session, clinic_id: int, kind: str, language: str | None
) -> ContentTemplate | None:
    """The template to send for (kind, language): only an approved one, its own or that
    of the kind it stands in for (`message_kinds.STAND_INS`)."""
    for wanted in template_kinds(kind):
        found = find_template(session, clinic_id, wanted, language)
        if found is not None and found.status == APPROVED:
            return found
    return None


def waiting_templates(session: Session, clinic_id: int | None = None) -> list[ContentTemplate]:
    """The templates WhatsApp has not decided on yet, of one clinic or of all."""
    query = select(ContentTemplate).where(col(ContentTemplate.status).in_(WAITING))
    if clinic_id is not None:
        query = query.where(ContentTemplate.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(ContentTemplate.id))))


def set_status(
    session: Session, template: ContentTemplate, status: str, reason: str | None, now: datetime
) -> bool:
    """Keep what Twilio says of a template now; returns whether it changed."""
    reason = reason or None
    if (template.status, template.rejection_reason) == (status, reason):
        return False
    template.status, template.rejection_reason, template.updated_at = status, reason, now
    session.add(template)
    return True


def put_template(
    session: Session,
    clinic_id: int,
    kind: str,
    language: str,
    *,
    content_sid: str,
    variables: Mapping[str, str],
    allowed_tags: Collection[str],
    now: datetime,
    status: str = APPROVED,
    category: str | None = None,
) -> tuple[ContentTemplate, bool]:
    """Create or replace the template of (kind, language); returns it and whether it is
    new. One registered by its SID is taken as approved; one just submitted from the
    console waits (`status`). Two admins saving at once end with one row (the insert does
    nothing on conflict, then the row is updated)."""
    if not CONTENT_SID.match(content_sid):
        raise RuleError(
            "bad_content_sid", "content_sid is HX followed by 32 hex digits", "content_sid"
        )
    check_variables(variables, allowed_tags)
    mapping = json.dumps(dict(sorted(variables.items(), key=lambda kv: int(kv[0]))))
    statement = insert_or_skip(
        session.get_bind().dialect.name,
        ContentTemplate,
        ("clinic_id", "kind", "language"),
    )
    row = {
        "clinic_id": clinic_id,
        "kind": kind,
        "language": language,
        "content_sid": content_sid,
        "variables": mapping,
        "status": status,
        "category": category,
        "rejection_reason": None,
        "updated_at": now,
    }
    created = session.connection().execute(statement, row).first() is not None
    template = session.exec(
        select(ContentTemplate)
        .where(
            ContentTemplate.clinic_id == clinic_id,
            ContentTemplate.kind == kind,
            ContentTemplate.language == language,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not created:
        template.content_sid, template.variables, template.updated_at = content_sid, mapping, now
        template.status, template.category, template.rejection_reason = status, category, None
        session.add(template)
        session.flush()
    return template, created


def delete_template(session: Session, clinic_id: int, kind: str, language: str) -> None:
    template = find_template(session, clinic_id, kind, language)
    if template is None:
        raise NotFound("content_template_not_found", f"no template for {kind} in {language}")
    session.delete(template)
