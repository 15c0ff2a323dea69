"""Saving a clinic's own texts and flow steps: checked first (`bot.custom_texts`,
`bot.flow`), then stored with their history (`store.clinic_templates`), in the caller's
transaction. A revert is one more change, checked like any other."""

from datetime import datetime

from sqlmodel import Session

from bot.custom_texts import Problem, body_problems, is_editable
from bot.flow import flow_problems
from bot.locale import LANGUAGES
from bot.render import default_templates
from store.clinic_templates import (
    TEMPLATE,
    change,
    overrides,
    set_steps,
    set_text,
    steps_of,
)
from store.models import CustomizationChange


class TextRefused(ValueError):
    """A text that cannot be saved, and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(p.kind for p in problems))
        self.problems = problems


class StepsRefused(ValueError):
    """Steps switched off that would break the flow, and how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def clean(body: str) -> str:
    """A text as a browser sends it, as it is kept: Unix line ends, no blank edges."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def default_text(language: str, key: str) -> str:
    return default_templates(language)[key]


def save_text(
    session: Session,
    clinic_id: int,
    language: str,
    key: str,
    body: str,
    by: str,
    now: datetime,
    reverts: int | None = None,
) -> bool:
    """Check and save the clinic's text of `key` in `language`; the default's own words
    are the default again. Raises LookupError for a template nobody may change and
    TextRefused with the problems; False when nothing changed."""
    if language not in LANGUAGES or not is_editable(key):
        raise LookupError(key)
    body = clean(body)
    problems = body_problems(key, body)
    if problems:
        raise TextRefused(problems)
    own = None if body == default_text(language, key).strip() else body
    return set_text(session, clinic_id, language, key, own, by, now, reverts)


def reset_text(
    session: Session, clinic_id: int, language: str, key: str, by: str, now: datetime
) -> bool:
    """Back to the default text; False when it was the default already."""
    if language not in LANGUAGES or not is_editable(key):
        raise LookupError(key)
    return set_text(session, clinic_id, language, key, None, by, now)


def save_steps(
    session: Session,
    clinic_id: int,
    flow: str,
    skipped: frozenset[str],
    by: str,
    now: datetime,
    reverts: int | None = None,
) -> bool:
    """Check the flow with `skipped` switched off — no dead ends, every step reachable,
    every prompt with a text in every language, the clinic's own counted — and save it.
    Raises StepsRefused with the problems; False when nothing changed."""
    keys = {
        language: set(default_templates(language)) | set(overrides(session, clinic_id, language))
        for language in LANGUAGES
    }
    problems = flow_problems(flow, skipped, keys)
    if problems:
        raise StepsRefused(problems)
    return set_steps(session, clinic_id, flow, skipped, by, now, reverts)


def revert(
    session: Session, clinic_id: int, change_id: int, by: str, now: datetime
) -> CustomizationChange:
    """Put back what one change replaced, recorded as a change of its own. Raises
    LookupError for a change that is not the clinic's."""
    found = change(session, clinic_id, change_id)
    if found is None:
        raise LookupError(change_id)
    if found.subject == TEMPLATE and found.before is None:
        set_text(session, clinic_id, found.language, found.key, None, by, now, found.id)
    elif found.subject == TEMPLATE:
        save_text(
            session, clinic_id, found.language, found.key, found.before or "", by, now, found.id
        )
    else:
        save_steps(session, clinic_id, found.key, steps_of(found.before), by, now, found.id)
    return found
