"""A clinic's own message texts and the optional flow steps it switched off, each change
recorded (who, when, before, after), in the caller's transaction. What may be saved is
decided before (`usecases.clinic_texts`); reading here is what the bot and the senders
need: one query per clinic, or per clinic and language."""

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import ClinicFlow, ClinicTemplate, CustomizationChange

TEMPLATE = "template"
FLOW = "flow"
HISTORY_LIMIT = 50


def overrides(session: Session, clinic_id: int, language: str) -> dict[str, str]:
    """The clinic's own texts in one language, by template key."""
    rows = session.exec(
        select(ClinicTemplate.key, ClinicTemplate.body).where(
            ClinicTemplate.clinic_id == clinic_id, ClinicTemplate.language == language
        )
    )
    return dict(rows.all())


def all_overrides(session: Session, clinic_id: int) -> dict[str, dict[str, str]]:
    """The clinic's own texts in every language (language → key → text): one query,
    for the catalog each web worker keeps."""
    found: dict[str, dict[str, str]] = {}
    rows = session.exec(
        select(ClinicTemplate.language, ClinicTemplate.key, ClinicTemplate.body).where(
            ClinicTemplate.clinic_id == clinic_id
        )
    )
    for language, key, body in rows:
        found.setdefault(language, {})[key] = body
    return found


def skipped_steps(session: Session, clinic_id: int) -> dict[str, frozenset[str]]:
    """The optional steps the clinic switched off, per flow."""
    rows = session.exec(
        select(ClinicFlow.flow, ClinicFlow.skipped).where(ClinicFlow.clinic_id == clinic_id)
    )
    return {flow: steps_of(skipped) for flow, skipped in rows if skipped}


def steps_of(raw: str | None) -> frozenset[str]:
    return frozenset(s for s in (raw or "").split(",") if s)


def _steps_text(steps: frozenset[str]) -> str | None:
    return ",".join(sorted(steps)) or None


def own_text(session: Session, clinic_id: int, language: str, key: str) -> str | None:
    """The clinic's own text of one template, or None for the default."""
    row = _template_row(session, clinic_id, language, key)
    return row.body if row else None


def _template_row(
    session: Session, clinic_id: int, language: str, key: str
) -> ClinicTemplate | None:
    return session.exec(
        select(ClinicTemplate)
        .where(
            ClinicTemplate.clinic_id == clinic_id,
            ClinicTemplate.language == language,
            ClinicTemplate.key == key,
        )
        .with_for_update()
    ).first()


def set_text(
    session: Session,
    clinic_id: int,
    language: str,
    key: str,
    body: str | None,
    by: str,
    now: datetime,
    reverts: int | None = None,
) -> bool:
    """Make `body` the clinic's text of `key` (None: back to the default) and record the
    change; False when it was so already (nothing recorded)."""
    row = _template_row(session, clinic_id, language, key)
    before = row.body if row else None
    if before == body:
        return False
    if body is None and row is not None:
        session.delete(row)
    elif row is None:
        session.add(
            ClinicTemplate(
                clinic_id=clinic_id,
                language=language,
                key=key,
                body=body or "",
                updated_at=now,
                updated_by=by,
            )
        )
    else:
        row.body, row.updated_at, row.updated_by = body or "", now, by
    _record(session, clinic_id, TEMPLATE, language, key, before, body, by, now, reverts)
    return True


def flow_steps(session: Session, clinic_id: int, flow: str) -> frozenset[str]:
    row = _flow_row(session, clinic_id, flow)
    return steps_of(row.skipped) if row else frozenset()


def _flow_row(session: Session, clinic_id: int, flow: str) -> ClinicFlow | None:
    return session.exec(
        select(ClinicFlow)
        .where(ClinicFlow.clinic_id == clinic_id, ClinicFlow.flow == flow)
        .with_for_update()
    ).first()


def set_steps(
    session: Session,
    clinic_id: int,
    flow: str,
    skipped: frozenset[str],
    by: str,
    now: datetime,
    reverts: int | None = None,
) -> bool:
    """Switch off exactly the steps `skipped` of the clinic's `flow` and record the
    change; False when they were so already."""
    row = _flow_row(session, clinic_id, flow)
    before = _steps_text(steps_of(row.skipped)) if row else None
    after = _steps_text(skipped)
    if before == after:
        return False
    if row is None:
        session.add(
            ClinicFlow(
                clinic_id=clinic_id, flow=flow, skipped=after or "", updated_at=now, updated_by=by
            )
        )
    else:
        row.skipped, row.updated_at, row.updated_by = after or "", now, by
    _record(session, clinic_id, FLOW, "", flow, before, after, by, now, reverts)
    return True


def _record(
    session: Session,
    clinic_id: int,
    subject: str,
    language: str,
    key: str,
    before: str | None,
    after: str | None,
    by: str,
    now: datetime,
    reverts: int | None,
) -> None:
    session.add(
        CustomizationChange(
            clinic_id=clinic_id,
            subject=subject,
            language=language,
            key=key,
            before=before,
            after=after,
            changed_by=by,
            changed_at=now,
            reverts=reverts,
        )
    )
    session.flush()


def history(
    session: Session,
    clinic_id: int,
    subject: str,
    language: str,
    key: str,
    limit: int = HISTORY_LIMIT,
) -> list[CustomizationChange]:
    """The changes of one text (or one flow's steps), newest first."""
    return list(
        session.exec(
            select(CustomizationChange)
            .where(
                CustomizationChange.clinic_id == clinic_id,
                CustomizationChange.subject == subject,
                CustomizationChange.language == language,
                CustomizationChange.key == key,
            )
            .order_by(col(CustomizationChange.id).desc())
            .limit(limit)
        )
    )


def change(session: Session, clinic_id: int, change_id: int) -> CustomizationChange | None:
    """One change of the clinic's (another clinic's is None, like a missing one)."""
    found = session.get(CustomizationChange, change_id)
    return found if found is not None and found.clinic_id == clinic_id else None


class ClinicTexts:
    """The clinic's own texts by (clinic, language), each read once per instance: for a
    pass that writes many messages in one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._read: dict[tuple[int, str], dict[str, str]] = {}

    def __call__(self, clinic_id: int, language: str) -> dict[str, str]:
        if (clinic_id, language) not in self._read:
            self._read[clinic_id, language] = overrides(self.session, clinic_id, language)
        return self._read[clinic_id, language]
