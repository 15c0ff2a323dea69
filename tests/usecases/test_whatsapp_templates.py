"""A clinic's WhatsApp templates made from its own texts, through the real twilio client
and the fake Twilio: numbered variables with samples, the approval request with its
category, the status kept and refreshed, and texts WhatsApp would reject refused before
anything reaches Twilio."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.whatsapp_template import numbered
from channel.twilio import TwilioChannel
from store import content_templates
from store.clinic_templates import set_text
from store.db import transaction
from store.message_kinds import WITH_TEMPLATES, MessageKind
from store.models import Clinic, Patient
from tests import support
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio
from usecases.whatsapp_templates import (
    NONE,
    Refused,
    create_at_twilio,
    kinds_turned_on,
    missing_approved,
    overview,
    refresh,
    served_languages,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REMINDER = MessageKind.reminder


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def channel(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def test_tags_become_numbered_variables_with_samples() -> None:
    made = numbered(
        "Hola {patient_name}, te esperamos el {date} a las {time}. {{ok}}",
        {"patient_name": "María  González", "date": "martes 15", "time": "10:30"},
    )
    assert made.body == "Hola {{1}}, te esperamos el {{2}} a las {{3}}. {ok}"
    assert made.variables == {"1": "patient_name", "2": "date", "3": "time"}
    assert made.samples == {"1": "María González", "2": "martes 15", "3": "10:30"}
    assert made.problems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{patient_name}, tu turno es mañana.", "starts_with_variable"),
        ("Tu turno es el {date}", "ends_with_variable"),
        ("Tu turno es el {date} {time} en la clínica.", "adjacent_variables"),
        ("Hola " + "a" * 1100, "too_long"),
    ],
)
def test_what_whatsapp_rejects_is_named(text: str, problem: str) -> None:
    assert problem in numbered(text, {}).problems


def test_categories_follow_whatsapps_rules() -> None:
    categories = {kind: kind.whatsapp_category for kind in WITH_TEMPLATES}
    assert categories[MessageKind.reminder] == "UTILITY"
    assert categories[MessageKind.survey] == "UTILITY"
    assert {categories[MessageKind(f"no_show_{n}")] for n in (1, 2, 3)} == {"MARKETING"}


def test_create_submits_the_clinics_text_and_keeps_it_pending(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    own = "Hola {patient_name}: te esperamos el {date} a las {time} con {professional}."
    with transaction(db) as session:
        set_text(session, clinic.id, "es", "notification.reminder", own, "test", NOW)

    row = create_at_twilio(db, channel, clinic.id, REMINDER, "es", NOW)

    [content] = fake.contents
    assert content["types"] == {
        "twilio/text": {"body": "Hola {{1}}: te esperamos el {{2}} a las {{3}} con {{4}}."}
    }
    assert content["language"] == "es"
    assert content["variables"]["1"] == "María González"  # the console's sample values
    assert all(content["variables"][n] for n in ("2", "3", "4"))
    approval = fake.approvals[content["sid"]]
    assert approval["category"] == "UTILITY"
    assert approval["name"] == f"turnero_{clinic.id}_reminder_es_20261201120000"
    assert (row.status, row.content_sid) == ("received", content["sid"])
    with Session(db) as session:
        kept = content_templates.find_template(session, clinic.id, "reminder", "es")
        assert kept is not None
        assert (kept.status, kept.category) == ("received", "UTILITY")
        assert content_templates.template_for(session, clinic.id, "reminder", "es") is None


def test_refresh_keeps_whatsapps_decision_and_its_reason(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    approved = create_at_twilio(db, channel, clinic.id, MessageKind.care, "es", NOW)
    rejected = create_at_twilio(db, channel, clinic.id, MessageKind.no_show_1, "es", NOW)
    assert fake.approvals[rejected.content_sid or ""]["category"] == "MARKETING"
    fake.decide(approved.content_sid or "", "approved")
    fake.decide(rejected.content_sid or "", "rejected", "PROMOTIONAL")

    report = refresh(db, channel, NOW, clinic.id)

    assert (report.asked, report.changed, report.failed) == (2, 2, 0)
    with Session(db) as session:
        found = content_templates.template_for(session, clinic.id, "care", "es")
        assert found is not None and found.content_sid == approved.content_sid
        no_show = content_templates.find_template(session, clinic.id, "no_show_1", "es")
        assert no_show is not None
        assert (no_show.status, no_show.rejection_reason) == ("rejected", "PROMOTIONAL")
        assert content_templates.template_for(session, clinic.id, "no_show_1", "es") is None
    assert refresh(db, channel, NOW, clinic.id).asked == 0  # both decided: nothing to ask


def test_a_text_whatsapp_would_reject_never_reaches_twilio(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    with transaction(db) as session:
        set_text(
            session, clinic.id, "es", "notification.reminder", "Tu turno: {date} {time}", "t", NOW
        )
    with pytest.raises(Refused) as refused:
        create_at_twilio(db, channel, clinic.id, REMINDER, "es", NOW)
    assert refused.value.reason == "adjacent_variables"
    assert fake.contents == []


def test_a_text_ending_with_its_link_is_refused_the_defaults_are_not(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    with Session(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        assert clinic_row is not None
        defaults = {(r.kind, r.language): r for r in overview(session, clinic_row)}
    assert {row.problem for row in defaults.values() if row.language != "gn"} == {None}
    with transaction(db) as session:
        own = "Hola {patient_name}, tu turno del {date}: {link}"
        set_text(session, clinic.id, "es", "notification.reminder", own, "test", NOW)
    with Session(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        assert clinic_row is not None
        rows = {(r.kind, r.language): r for r in overview(session, clinic_row)}
    assert rows[(REMINDER, "es")].problem == "ends_with_variable"
    with pytest.raises(Refused):
        create_at_twilio(db, channel, clinic.id, REMINDER, "es", NOW)
    assert fake.contents == []


def test_twilios_refusal_is_told_and_nothing_is_kept(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    fake.fail_next_content(1, http_status=400, code=20001)
    with pytest.raises(Refused) as refused:
        create_at_twilio(db, channel, clinic.id, MessageKind.care, "es", NOW)
    assert refused.value.reason == "twilio"
    with Session(db) as session:
        assert content_templates.list_templates(session, clinic.id) == []


def test_rows_cover_each_kind_in_each_served_language_and_what_is_missing(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    with transaction(db) as session:
        session.add(Patient(clinic_id=clinic.id, phone="+595981333444", language="gn"))
        found = session.get(Clinic, clinic.id)
        assert found is not None
        found.survey_enabled, found.care_delay_minutes = True, None
    with transaction(db) as session:  # a reminder that does not end with its link
        own = "Hola {patient_name}: tu turno es el {date} a las {time}. ¡Te esperamos!"
        set_text(session, clinic.id, "es", "notification.reminder", own, "test", NOW)
    created = create_at_twilio(db, channel, clinic.id, REMINDER, "es", NOW)
    fake.decide(created.content_sid or "", "approved")
    refresh(db, channel, NOW, clinic.id)

    with Session(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        assert clinic_row is not None
        assert served_languages(session, clinic_row) == ["es", "gn"]
        rows = overview(session, clinic_row)
        missing = missing_approved(session, clinic_row)
    assert len(rows) == len(WITH_TEMPLATES) * 2
    assert {(r.kind, r.language): r.status for r in rows}[(REMINDER, "es")] == "approved"
    assert {(r.kind, r.language): r.status for r in rows}[(REMINDER, "gn")] == NONE
    assert kinds_turned_on(clinic_row) == [
        REMINDER,
        MessageKind.no_show_1,
        MessageKind.no_show_2,
        MessageKind.no_show_3,
        MessageKind.survey,
    ]
    assert (REMINDER, "es") not in {(r.kind, r.language) for r in missing}
    assert (REMINDER, "gn") in {(r.kind, r.language) for r in missing}
    assert MessageKind.care not in {r.kind for r in missing}  # turned off
    assert MessageKind.confirmation not in {r.kind for r in missing}  # not an automation


def test_a_template_twilio_cannot_answer_for_stays_as_it_was(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio, channel: TwilioChannel, clock: Clock
) -> None:
    created = create_at_twilio(db, channel, clinic.id, MessageKind.care, "es", NOW)
    fake.reset()  # Twilio no longer knows the content: 404

    report = refresh(db, channel, NOW, clinic.id)

    assert (report.asked, report.changed, report.failed) == (1, 0, 1)
    with Session(db) as session:
        kept = content_templates.find_template(session, clinic.id, "care", "es")
        assert kept is not None and (kept.status, kept.content_sid) == (
            "received",
            created.content_sid,
        )
