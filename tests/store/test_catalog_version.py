"""A clinic's catalog version moves with every change to what the bot caches of it — made
through the ORM or by `insert()`, `update()` and `delete()` statements — in the same
transaction, and only that clinic's; writes elsewhere, and to columns the cache does not
read, leave it alone."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, delete, insert, literal, update
from sqlmodel import Session, col, select

from store.booking import book
from store.catalog_version import changes_catalog
from store.clinic_templates import set_steps, set_text
from store.conversations import catalog_version
from store.db import transaction
from store.models import (
    Clinic,
    Patient,
    Professional,
    ProfessionalService,
    Service,
    WorkingHours,
)
from store.weekly_hours import Interval, set_week
from tests.support import add_patient, make_clinic

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def other(db: Engine, clinic):
    """A second clinic on the same database, whose version must not move."""
    return make_clinic(db, number="+595981000099")


def versions(db: Engine, *clinics) -> list[int | None]:
    with Session(db) as session:
        return [catalog_version(session, c.id) for c in clinics]


def test_a_new_clinic_starts_at_version_zero(db: Engine, clinic):
    with transaction(db) as session:
        session.add(Clinic(name="Nueva", whatsapp_number="+595981000042"))
    with Session(db) as session:
        new = session.exec(select(Clinic).where(Clinic.name == "Nueva")).one()
        assert new.catalog_version == 0


def test_a_service_renamed_bumps_its_clinic_only(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.get(Service, clinic.services["general"]).name = "Clínica médica"
    assert versions(db, clinic, other) == [before[0] + 1, before[1]]


def test_a_column_the_cache_does_not_read_bumps_nothing(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.get(Service, clinic.services["general"]).care_template = "automations.care"
        session.get(Professional, clinic.professionals["ana"]).reminders_enabled = False
        session.get(Service, clinic.services["dentistry"]).name = "Odontología"  # as it was
    assert versions(db, clinic, other) == before


def test_a_clinic_setting_bumps_it_once_per_flush(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None
        row.min_notice_minutes, row.name = 300, "Clínica Norte"
    assert versions(db, clinic, other) == [before[0] + 1, before[1]]


def test_a_new_professional_with_services_and_hours_bumps_it(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        new = Professional(clinic_id=clinic.id, name="Dra. Eva Ruiz")
        session.add(new)
        session.flush()
        session.add(
            ProfessionalService(
                clinic_id=clinic.id,
                professional_id=new.id or 0,
                service_id=clinic.services["general"],
            )
        )
        session.add(
            WorkingHours(
                clinic_id=clinic.id,
                professional_id=new.id or 0,
                weekday=0,
                start=time(8),
                end=time(12),
            )
        )
    [now, unchanged] = versions(db, clinic, other)
    assert now is not None and before[0] is not None and now > before[0]
    assert unchanged == before[1]


def test_working_hours_replaced_and_a_row_deleted_bump_it(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        week = [Interval(1, time(9), time(12))]
        assert set_week(session, clinic.id, clinic.professionals["luis"], week)
    middle = versions(db, clinic, other)
    assert middle[0] is not None and before[0] is not None and middle[0] > before[0]
    with transaction(db) as session:
        session.delete(
            session.exec(
                select(WorkingHours).where(
                    WorkingHours.professional_id == clinic.professionals["luis"]
                )
            ).one()
        )
    assert versions(db, clinic, other) == [middle[0] + 1, before[1]]


def test_own_texts_and_switched_off_steps_bump_it(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        set_text(session, clinic.id, "es", "booking.greeting", "Hola", "staff:boss", NOW)
    middle = versions(db, clinic, other)
    assert middle[0] is not None and before[0] is not None and middle[0] > before[0]
    with transaction(db) as session:
        set_steps(session, clinic.id, "booking", frozenset({"dni"}), "staff:boss", NOW)
    after = versions(db, clinic, other)
    assert after[0] is not None and after[0] > middle[0] and after[1] == before[1]


def test_bulk_updates_and_deletes_bump_the_clinics_of_the_rows_they_touch(
    db: Engine, clinic, other
):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.execute(
            update(Service).where(col(Service.clinic_id) == clinic.id).values(active=False)
        )
    assert versions(db, clinic, other) == [before[0] + 1, before[1]]
    with transaction(db) as session:
        session.execute(
            delete(WorkingHours).where(
                col(WorkingHours.professional_id) == other.professionals["ana"]
            )
        )
    assert versions(db, clinic, other) == [before[0] + 1, before[1] + 1]


def test_a_bulk_update_of_unread_columns_or_of_no_row_bumps_nothing(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.execute(
            update(Service)
            .where(col(Service.clinic_id) == clinic.id)
            .values(care_template="automations.care")
        )
        session.execute(update(Service).where(col(Service.id) == -1).values(active=False))
    assert versions(db, clinic, other) == before


def test_a_bulk_insert_bumps_the_clinics_it_names(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.execute(
            insert(WorkingHours),
            [
                {
                    "clinic_id": clinic.id,
                    "professional_id": clinic.professionals["luis"],
                    "weekday": 6,
                    "start": time(9),
                    "end": time(11),
                }
            ],
        )
    assert versions(db, clinic, other) == [before[0] + 1, before[1]]


def test_a_bulk_update_of_the_clinic_bumps_it_in_the_same_statement(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic.id).values(only_known_patients=True)
        )
    assert versions(db, clinic, other) == [before[0] + 1, before[1]]
    with transaction(db) as session:  # the version written itself is not bumped again
        session.execute(update(Clinic).where(col(Clinic.id) == clinic.id).values(catalog_version=7))
    assert versions(db, clinic, other) == [7, before[1]]


def test_a_bump_rolls_back_with_its_transaction(db: Engine, clinic):
    [before] = versions(db, clinic)
    with pytest.raises(RuntimeError), transaction(db) as session:
        session.get(Service, clinic.services["general"]).name = "Otra"
        session.flush()
        raise RuntimeError("the admin's save failed")
    assert versions(db, clinic) == [before]


def test_a_booking_and_a_new_patient_bump_nothing(db: Engine, clinic, other):
    before = versions(db, clinic, other)
    patient_id = add_patient(db, clinic.id, "+595991234567", "Rosa Giménez")
    with transaction(db) as session:
        patient = session.get(Patient, patient_id)
        service = session.get(Service, clinic.services["general"])
        assert patient is not None and service is not None
        book(
            session,
            clinic_id=clinic.id,
            patient=patient,
            service=service,
            professional_id=clinic.professionals["ana"],
            starts_at=NOW + timedelta(days=1),
            source_channel="whatsapp",
            now=NOW,
        )
    assert versions(db, clinic, other) == before


def test_which_changes_count():
    assert changes_catalog("service", ["name"])
    assert changes_catalog("service", ["price"])  # patients who ask are told it
    assert not changes_catalog("service", ["care_template"])
    assert changes_catalog("working_hours", None)
    assert changes_catalog("clinic", ["interactive_messages"])
    assert not changes_catalog("clinic", ["catalog_version"])
    assert not changes_catalog("appointment", ["status"])
    assert not changes_catalog("patient", None)


def test_an_insert_from_a_select_bumps_every_clinic(db: Engine, clinic, other):
    """Its rows' clinics are not in its values: every clinic's catalog is read again."""
    before = versions(db, clinic, other)
    copied = select(
        WorkingHours.clinic_id, WorkingHours.professional_id, WorkingHours.start, WorkingHours.end
    ).where(
        col(WorkingHours.professional_id) == clinic.professionals["luis"], WorkingHours.weekday == 0
    )
    with transaction(db) as session:
        session.execute(
            insert(WorkingHours).from_select(
                ["clinic_id", "professional_id", "start", "end", "weekday"],
                copied.add_columns(literal(6)),
            )
        )
    assert versions(db, clinic, other) == [before[0] + 1, before[1] + 1]
