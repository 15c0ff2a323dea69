"""A clinic's approved WhatsApp templates (Twilio Content API), one per message kind and
language, sent in place of a business-initiated message when the 24-hour window is
closed. Changes run in the caller's transaction; the tags a kind may use are the caller's
to say (the store does not read message texts)."""

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


def template_for(
    session: Session, clinic_id: int, kind: str, language: str | None
) -> ContentTemplate | None:
    """The approved template a message of `kind` goes out as: its own, or that of the
    kind it stands in for (`message_kinds.STAND_INS`)."""
    if language is None:
        return None
    for wanted in template_kinds(kind):
        found = own_template(session, clinic_id, wanted, language)
        if found is not None:
            return found
    return None


def own_template(
    session: Session, clinic_id: int, kind: str, language: str
) -> ContentTemplate | None:
    """The template registered for exactly (kind, language)."""
    return session.exec(
        select(ContentTemplate).where(
            ContentTemplate.clinic_id == clinic_id,
            ContentTemplate.kind == kind,
            ContentTemplate.language == language,
        )
    ).first()


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
) -> tuple[ContentTemplate, bool]:
    """Create or replace the template of (kind, language); returns it and whether it is
    new. Two admins saving at once end with one row (the insert does nothing on conflict,
    then the row is updated)."""
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
        session.add(template)
        session.flush()
    return template, created


def delete_template(session: Session, clinic_id: int, kind: str, language: str) -> None:
    template = own_template(session, clinic_id, kind, language)
    if template is None:
        raise NotFound("content_template_not_found", f"no template for {kind} in {language}")
    session.delete(template)
