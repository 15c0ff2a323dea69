"""Clinics coming in: a new one starts with the defaults every setting has and the default
notification rule, so it can be configured from the console at once."""

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Clinic
from store.rules import add_default_rule


class NumberTaken(Exception):
    """Another clinic already sends from this WhatsApp number."""


def create_clinic(
    session: Session,
    *,
    name: str,
    whatsapp_number: str,
    timezone: str,
    language: str,
    now: datetime,
) -> Clinic:
    """Add a clinic (its number already E.164, its time zone already checked)."""
    taken = select(Clinic.id).where(Clinic.whatsapp_number == whatsapp_number)
    if session.exec(taken).first() is not None:
        raise NumberTaken(whatsapp_number)
    clinic = Clinic(
        name=name, whatsapp_number=whatsapp_number, timezone=timezone, default_language=language
    )
    session.add(clinic)
    session.flush()
    add_default_rule(session, clinic.id or 0, now)
    return clinic


def all_clinics(session: Session) -> list[Clinic]:
    return list(session.exec(select(Clinic).order_by(col(Clinic.id))))
