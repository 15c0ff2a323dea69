"""Finding a patient by name, phone or DNI (without regard to accents or case), editing
their details, and moving them to another phone without breaking the phone's
conversation."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Session, col, select

from store.models import Conversation, Patient

# Accented letters folded inside the database with `translate` (built into PostgreSQL, and
# given to SQLite by `store.db`), so both match alike without an extension; combining
# accents and the Guarani nasal tilde (g̃) go.
_ACCENTED = "áàâäãÁÀÂÄÃéèêëẽÉÈÊËẼíìîïĩÍÌÎÏĨóòôöõÓÒÔÖÕúùûüũÚÙÛÜŨýÿỹÝỸñÑçÇ"
_PLAIN = "aaaaaaaaaaeeeeeeeeeeiiiiiiiiiioooooooooouuuuuuuuuuyyyyynncc"
_MARKS = "\u0301\u0300\u0302\u0303\u0308"
SEARCH_LIMIT = 50
NOT_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Lower case without accents: "José Ñandú" → "jose nandu"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def folded(column: ColumnElement[str]) -> ColumnElement[str]:
    """The SQL twin of `fold` for a column (accents replaced, then lower case)."""
    return func.lower(func.translate(column, _ACCENTED + _MARKS, _PLAIN))


def search(
    session: Session, clinic_id: int, query: str, limit: int = SEARCH_LIMIT
) -> list[Patient]:
    """Patients whose name contains every word of `query`, or whose phone or DNI contains
    its digits (three or more), names first in alphabetical order."""
    words = fold(query).split()
    digits = NOT_DIGITS.sub("", query).lstrip("0")  # "0981 …" as dialled at home
    if not words:
        return []
    matches: list[ColumnElement[bool]] = []
    name = folded(func.coalesce(col(Patient.name), ""))
    matches.append(reduce(lambda a, b: a & b, [name.contains(w, autoescape=True) for w in words]))
    if len(digits) >= 3:
        matches.append(col(Patient.phone).contains(digits))
        bare_dni = func.replace(func.replace(func.coalesce(col(Patient.dni), ""), ".", ""), " ", "")
        matches.append(bare_dni.contains(digits))
    return list(
        session.exec(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, or_(*matches))
            .order_by(col(Patient.name).is_(None), col(Patient.name), col(Patient.id))
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Details:
    """What staff may edit about a patient (the phone apart: see `move_to_phone`)."""

    name: str | None
    dni: str | None
    insurance: str | None
    plan: str | None
    language: str | None


def update_details(patient: Patient, details: Details) -> bool:
    """Write the details; whether anything changed."""
    changed = False
    for field, value in vars(details).items():
        if getattr(patient, field) != value:
            setattr(patient, field, value)
            changed = True
    return changed


def move_to_phone(session: Session, patient: Patient, phone: str, now: datetime) -> bool:
    """Give the patient another phone (E.164) and keep each phone's conversation whole.
    The patient takes on the new phone's pause, opt-out and reachability when somebody
    already uses it (those hold per phone), and otherwise keeps pause and opt-out with a
    clean reachability. The old conversation moves with the patient when nobody is left
    on the old phone and the new one has none (its flow and its 24-hour window start
    over: both belong to the number); otherwise each phone keeps its own."""
    old = patient.phone
    if phone == old:
        return False
    clinic_id = patient.clinic_id
    others_new = on_phone(session, clinic_id, phone)
    if others_new:
        patient.bot_paused = any(p.bot_paused for p in others_new)
        patient.opted_out = any(p.opted_out for p in others_new)
        patient.opted_out_at = next((p.opted_out_at for p in others_new if p.opted_out), None)
        patient.unreachable = next((p.unreachable for p in others_new if p.unreachable), None)
    else:
        patient.unreachable = None
    patient.phone = phone
    session.flush()
    left_behind = session.exec(
        select(col(Patient.id)).where(Patient.clinic_id == clinic_id, Patient.phone == old)
    ).first()
    conversations = {
        c.phone: c
        for c in session.exec(
            select(Conversation)
            .where(Conversation.clinic_id == clinic_id, col(Conversation.phone).in_((old, phone)))
            .with_for_update()
        )
    }
    moving = conversations.get(old)
    if left_behind is None and phone not in conversations and moving is not None:
        moving.phone = phone
        moving.state = "{}"
        moving.last_inbound_at = None
        moving.updated_at = now
    elif phone not in conversations:
        session.add(Conversation(clinic_id=clinic_id, phone=phone, updated_at=now))
    session.flush()
    return True


def move_phone(session: Session, clinic_id: int, old: str, new: str, now: datetime) -> int:
    """Move everybody on `old` to `new` (a number that was wrong); how many moved."""
    people = list(
        session.exec(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.phone == old)
            .order_by(col(Patient.id))
        )
    )
    for person in people:
        move_to_phone(session, person, new, now)
    return len(people)


def clear_unreachable(session: Session, clinic_id: int, phone: str) -> None:
    """Staff vouch for the number: business-initiated messages may try it again."""
    session.connection().execute(
        update(Patient)
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.phone) == phone)
        .values(unreachable=None)
    )


def on_phone(session: Session, clinic_id: int, phone: str) -> list[Patient]:
    """Everybody of the clinic on one phone, the first known first."""
    return list(
        session.exec(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.phone == phone)
            .order_by(col(Patient.id))
        )
    )


def patient_named(
    session: Session, clinic_id: int, phone: str, name: str, language: str | None, now: datetime
) -> Patient:
    """Who an appointment made by the desk is for: a patient of that name already on the
    phone (without regard to accents or case), else the phone's nameless first-contact
    row, named now, else a new patient."""
    people, wanted = on_phone(session, clinic_id, phone), fold(name)
    patient = next((p for p in people if fold(p.name or "") == wanted), None)
    patient = patient or _nameless_or_new(people, clinic_id, phone, now)
    patient.name = patient.name or name
    patient.language = patient.language or language
    session.add(patient)
    session.flush()
    return patient


def first_contact(session: Session, clinic_id: int, phone: str, now: datetime) -> Patient:
    """The phone's nameless first-contact row (one that wrote and never gave a name), or a
    new nameless patient on the phone, added to the session."""
    patient = _nameless_or_new(on_phone(session, clinic_id, phone), clinic_id, phone, now)
    session.add(patient)
    return patient


def _nameless_or_new(people: list[Patient], clinic_id: int, phone: str, now: datetime) -> Patient:
    nameless = next((p for p in people if p.name is None), None)
    return nameless or Patient(clinic_id=clinic_id, phone=phone, first_seen_at=now)
