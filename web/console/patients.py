"""Patients at the desk: find one by name, phone or DNI, and edit their details; a new
phone is read as E.164 and keeps each phone's conversation whole (`store.patients`)."""

from dataclasses import dataclass

from flask import abort, redirect, request, url_for
from sqlmodel import Session, select
from werkzeug.wrappers import Response

from bot.locale import LANGUAGES
from channel.phones import e164
from channel.phones import region_of as region_of_number
from store.db import transaction
from store.models import Clinic, Patient
from store.patients import Details, move_to_phone, search, update_details
from store.surveys import LOW_SCORE, patient_answers
from web.console.agenda import formatting, own_clinic
from web.console.common import console, engine, language, now, page, staff, staff_required

FIELD_LIMIT = 200
QUERY_LIMIT = 100


def region_of(clinic: Clinic) -> str | None:
    """The country a number written without its code belongs to: the clinic's sender's."""
    return region_of_number(clinic.whatsapp_number)


def own_patient(session: Session, patient_id: int, lock: bool = False) -> Patient:
    statement = select(Patient).where(
        Patient.id == patient_id, Patient.clinic_id == staff().clinic_id
    )
    if lock:
        statement = statement.with_for_update()
    found = session.exec(statement).first()
    if found is None:
        abort(404)
    return found


def phone_arg(raw: str, clinic: Clinic) -> str | None:
    """A phone as staff type it ("0981 222 333", "+595 981 …") in E.164, or None."""
    return e164(raw.strip()[:40], region_of(clinic)) if raw.strip() else None


@dataclass(frozen=True)
class Form:
    """The edit form as sent, and what is wrong with it (label keys)."""

    values: dict[str, str]
    errors: dict[str, str]


def _read_form(clinic: Clinic) -> tuple[Form, Details | None, str | None]:
    values = {
        name: request.form.get(name, "").strip()
        for name in ("name", "dni", "insurance", "plan", "language", "phone")
    }
    errors: dict[str, str] = {}
    for name, value in values.items():
        if len(value) > FIELD_LIMIT:
            errors[name] = "invalid_too_long"
    if values["language"] and values["language"] not in LANGUAGES:
        errors["language"] = "invalid_language"
    phone = phone_arg(values["phone"], clinic)
    if phone is None:
        errors["phone"] = "invalid_phone"
    if errors:
        return Form(values, errors), None, None
    details = Details(
        name=values["name"] or None,
        dni=values["dni"] or None,
        insurance=values["insurance"] or None,
        plan=values["plan"] or None,
        language=values["language"] or None,
    )
    return Form(values, errors), details, phone


@console.get("/patients")
@staff_required
def patients() -> Response:
    query = request.args.get("q", "")[:QUERY_LIMIT]
    with Session(engine()) as session:
        found = search(session, staff().clinic_id, query) if query.strip() else []
    return page("patients.html", query=query, found=found)


@console.get("/patients/<int:patient_id>")
@staff_required
def patient(patient_id: int) -> Response:
    with Session(engine()) as session:
        found = own_patient(session, patient_id)
        clinic = own_clinic(session)
        answers = patient_answers(session, clinic.id or 0, patient_id)
    notice = request.args.get("notice")
    return page(
        "patient.html",
        patient=found,
        answers=answers,
        low=LOW_SCORE,
        **formatting(clinic, language()),
        form=Form(_values(found), {}),
        languages=LANGUAGES,
        notice=notice if notice in ("saved", "unchanged") else None,
    )


def _values(patient: Patient) -> dict[str, str]:
    return {
        "name": patient.name or "",
        "dni": patient.dni or "",
        "insurance": patient.insurance or "",
        "plan": patient.plan or "",
        "language": patient.language or "",
        "phone": patient.phone,
    }


@console.post("/patients/<int:patient_id>")
@staff_required
def save_patient(patient_id: int) -> Response:
    with Session(engine()) as reader:
        found = own_patient(reader, patient_id)
        clinic = reader.get(Clinic, found.clinic_id)
    assert clinic is not None
    form, details, phone = _read_form(clinic)
    if details is None or phone is None:
        return page(
            "patient.html", status=422, patient=found, form=form, languages=LANGUAGES, notice=None
        )
    with transaction(engine()) as session:
        found = own_patient(session, patient_id, lock=True)
        changed = update_details(found, details)
        changed = move_to_phone(session, found, phone, now()) or changed
    return redirect(
        url_for(
            "console.patient", patient_id=patient_id, notice="saved" if changed else "unchanged"
        ),
        code=303,
    )
