"""Notification rules: which appointments they want messages for (the matching matrix), and
the admin API that changes them, with its history, on the real database."""

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from store.db import transaction
from store.models import Branch, Clinic, NotificationRule, NotificationRuleChange, Professional
from store.notification_plan import CONFIRMATION, REMINDER, AppointmentFacts, RuleFilter, wanted
from store.rules import rules_for
from tests.support import Clock, make_clinic
from webhook import create_app

# --- the matching matrix -------------------------------------------------------------------

FACTS = AppointmentFacts(
    branch_id=1, professional_id=10, service_id=100, insurance="IPS", plan="Plan Oro"
)
SAME: dict[str, Any] = {
    "branch_id": 1,
    "professional_id": 10,
    "service_id": 100,
    "insurance": "IPS",
    "plan": "Plan Oro",
}
OTHER: dict[str, Any] = {
    "branch_id": 2,
    "professional_id": 11,
    "service_id": 101,
    "insurance": "OSDE",
    "plan": "Plan Plata",
}
DIMENSIONS = sorted(SAME)


@pytest.mark.parametrize("kind", [REMINDER, CONFIRMATION])
@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize(("value", "expected"), [("same", True), ("other", False), ("all", True)])
def test_each_filter_alone(dimension: str, value: str, expected: bool, kind: str):
    chosen = {"same": SAME[dimension], "other": OTHER[dimension], "all": None}[value]
    rule = RuleFilter(mode="both", **{dimension: chosen})
    assert wanted([rule], FACTS, kind) is expected


@pytest.mark.parametrize("kind", [REMINDER, CONFIRMATION])
@pytest.mark.parametrize("wrong", [None, *DIMENSIONS])
def test_a_rule_with_every_filter_needs_every_one_to_match(wrong: str | None, kind: str):
    fields = {**SAME, **({wrong: OTHER[wrong]} if wrong else {})}
    assert wanted([RuleFilter(mode="both", **fields)], FACTS, kind) is (wrong is None)


@pytest.mark.parametrize(
    ("first", "second"),
    [(a, b) for i, a in enumerate(DIMENSIONS) for b in DIMENSIONS[i + 1 :]],
)
def test_pairs_of_filters(first: str, second: str):
    both = RuleFilter(mode="both", **{first: SAME[first], second: SAME[second]})
    one_off = RuleFilter(mode="both", **{first: SAME[first], second: OTHER[second]})
    assert wanted([both], FACTS, REMINDER)
    assert not wanted([one_off], FACTS, REMINDER)
    assert wanted([one_off, both], FACTS, REMINDER)


@pytest.mark.parametrize(
    ("mode", "reminder", "confirmation"),
    [("both", True, True), ("reminders", True, False), ("confirmations", False, True)],
)
def test_the_mode_says_which_kinds(mode: str, reminder: bool, confirmation: bool):
    rule = RuleFilter(mode=mode, professional_id=10)
    assert wanted([rule], FACTS, REMINDER) is reminder
    assert wanted([rule], FACTS, CONFIRMATION) is confirmation


def test_several_matching_rules_are_still_one_yes():
    rules = [RuleFilter(mode="both"), RuleFilter(mode="both", service_id=100)] * 3
    assert wanted(rules, FACTS, REMINDER) is True
    assert wanted(rules, FACTS, CONFIRMATION) is True


def test_a_reminders_rule_and_a_confirmations_rule_together_want_both():
    rules = [
        RuleFilter(mode="reminders", professional_id=10),
        RuleFilter(mode="confirmations", service_id=100),
    ]
    assert wanted(rules, FACTS, REMINDER) and wanted(rules, FACTS, CONFIRMATION)
    other_service = replace(FACTS, service_id=101)
    assert wanted(rules, other_service, REMINDER)
    assert not wanted(rules, other_service, CONFIRMATION)


def test_a_rule_that_does_not_match_does_not_lend_its_mode():
    rules = [RuleFilter(mode="reminders"), RuleFilter(mode="confirmations", professional_id=11)]
    assert wanted(rules, FACTS, REMINDER)
    assert not wanted(rules, FACTS, CONFIRMATION)


@pytest.mark.parametrize(
    ("rule_text", "patient_text", "expected"),
    [
        ("IPS", "ips", True),
        ("  ips ", "IPS", True),
        ("Plan Oro", "plan  oro", True),
        ("PLAN ORO", "\tPlan Oro\n", True),
        ("Plan Oro", "Plan Orolindo", False),
        ("Plan Oro", "PlanOro", False),
        ("IPS", None, False),
        ("IPS", "", False),
    ],
)
@pytest.mark.parametrize("dimension", ["insurance", "plan"])
def test_insurance_and_plan_ignore_case_and_spaces(
    dimension: str, rule_text: str, patient_text: str | None, expected: bool
):
    facts = replace(FACTS, **{dimension: patient_text})
    rule = RuleFilter(mode="both", **{dimension: rule_text})
    assert wanted([rule], facts, REMINDER) is expected


@pytest.mark.parametrize("kind", [REMINDER, CONFIRMATION])
def test_no_rules_send_nothing(kind: str):
    assert wanted([], FACTS, kind) is False


def test_inactive_rules_are_ignored(db: Engine):
    clinic = make_clinic(db)
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with transaction(db) as s:
        default = s.exec(select(NotificationRule)).one()
        default.active = False
        s.add(NotificationRule(clinic_id=clinic.id, mode="reminders", created_at=now))
        s.add(NotificationRule(clinic_id=clinic.id, mode="both", active=False, created_at=now))
    with Session(db) as s:
        rules = rules_for(s, clinic.id)
    assert rules == [RuleFilter(mode="reminders")]
    assert wanted(rules, FACTS, REMINDER)
    assert not wanted(rules, FACTS, CONFIRMATION)


# --- the admin API -------------------------------------------------------------------------

TOKEN = "admin-token-for-tests-0123456789"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


class Admin:
    """An admin calling the API of one clinic with the right token."""

    def __init__(self, client: FlaskClient, clinic_id: int, user: str | None = "marta") -> None:
        self.client, self.clinic_id, self.user = client, clinic_id, user

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if self.user is not None:
            headers["X-Turnero-User"] = self.user
        return headers

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        url = f"/admin/api/clinics/{self.clinic_id}/{path}"
        if body is not None:
            kw["json"] = body
        return self.client.open(url, method=method, headers=self.headers(), **kw)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def fails(self, method: str, path: str, body: Any, status: int, reason: str, **kw: Any):
        response = self.call(method, path, body, **kw)
        assert (response.status_code, response.get_json()["error"]) == (status, reason), (
            response.get_data(as_text=True)
        )
        assert response.get_json()["message"]
        return response.get_json()

    def history(self, query: str = "") -> list[dict[str, Any]]:
        return self.ok("GET", "notification-rules/history" + query)["changes"]


@pytest.fixture
def app(db: Engine) -> Any:
    settings = Settings(database_url=str(db.url), secret_key="rules-secret", admin_api_token=TOKEN)
    return create_app(settings, clock=Clock(NOW), engine=db)


@pytest.fixture
def clinics(db: Engine) -> tuple[Any, Any]:
    first = make_clinic(db)
    second = make_clinic(db, number="+595981000001")
    with transaction(db) as s:
        for clinic in (first, second):
            branch = Branch(clinic_id=clinic.id, name="Sede Centro")
            s.add(branch)
            s.flush()
            clinic.services["branch"] = branch.id or 0
    return first, second


@pytest.fixture
def admin(app: Any, clinics: tuple[Any, Any]) -> Admin:
    return Admin(app.test_client(), clinics[0].id)


def _rules(db: Engine, clinic_id: int) -> list[NotificationRule]:
    with Session(db) as s:
        query = select(NotificationRule).where(NotificationRule.clinic_id == clinic_id)
        return list(s.exec(query.order_by(col(NotificationRule.id))))


def _changes(db: Engine) -> list[NotificationRuleChange]:
    with Session(db) as s:
        return list(s.exec(select(NotificationRuleChange)))


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ñ"],
)
def test_without_the_token_nothing_is_read_or_changed(
    app: Any, clinics: tuple[Any, Any], db: Engine, authorization: str | None
):
    client, cid = app.test_client(), clinics[0].id
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in [
        ("GET", "notification-rules"),
        ("POST", "notification-rules"),
        ("DELETE", "notification-rules/1"),
        ("GET", "notification-rules/history"),
        ("PATCH", f"professionals/{clinics[0].professionals['ana']}"),
        ("PATCH", "reminder-settings"),
    ]:
        response = client.open(
            f"/admin/api/clinics/{cid}/{path}",
            method=method,
            headers=headers,
            json={"mode": "reminders", "reminders_enabled": False, "hours_before": 2},
        )
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert len(_rules(db, cid)) == 1 and _changes(db) == []


def test_the_token_is_derived_from_the_secret_key_outside_production(db: Engine):
    settings = Settings(database_url=str(db.url), secret_key="one-secret")
    other = Settings(database_url=str(db.url), secret_key="another-secret")
    assert len(settings.admin_token) == 64 and settings.admin_token != other.admin_token
    assert settings.admin_token != settings.webhook_auth_token
    clinic = make_clinic(db)
    client = create_app(settings, engine=db).test_client()
    url = f"/admin/api/clinics/{clinic.id}/notification-rules"
    assert client.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    good = {"Authorization": f"Bearer {settings.admin_token}"}
    assert client.get(url, headers=good).status_code == 200


@pytest.mark.parametrize("token", [None, "", "changeme", "short-token"])
def test_production_needs_a_real_admin_token(token: str | None):
    real = {
        "turnero_env": "production",
        "secret_key": "a-real-long-secret",
        "twilio_account_sid": "AC1",
        "twilio_auth_token": "t",
    }
    with pytest.raises(ValidationError, match="ADMIN_API_TOKEN"):
        Settings(**real, admin_api_token=token)
    assert Settings(**real, admin_api_token=TOKEN).admin_token == TOKEN


def test_create_read_update_delete_with_history(admin: Admin, clinics: tuple[Any, Any]):
    clinic = clinics[0]
    ana, general = clinic.professionals["ana"], clinic.services["general"]
    [default] = admin.ok("GET", "notification-rules")["rules"]
    assert default["mode"] == "both" and default["professional_id"] is None

    response = admin.call(
        "POST",
        "notification-rules",
        {"professional_id": ana, "service_id": general, "insurance": " IPS ", "mode": "reminders"},
    )
    assert response.status_code == 201
    created = response.get_json()
    rule_id = created["id"]
    assert response.headers["Location"].endswith(f"/notification-rules/{rule_id}")
    assert created | {"created_at": None, "updated_at": None} == {
        "id": rule_id,
        "branch_id": None,
        "professional_id": ana,
        "service_id": general,
        "insurance": "IPS",
        "plan": None,
        "mode": "reminders",
        "active": True,
        "created_at": None,
        "updated_at": None,
    }
    assert created["created_at"] == NOW.isoformat()
    assert admin.ok("GET", f"notification-rules/{rule_id}") == created
    assert [r["id"] for r in admin.ok("GET", "notification-rules")["rules"]] == [
        default["id"],
        rule_id,
    ]

    admin.user = "juan"
    updated = admin.ok(
        "PATCH", f"notification-rules/{rule_id}", {"professional_id": None, "active": False}
    )
    assert (updated["professional_id"], updated["active"], updated["service_id"]) == (
        None,
        False,
        general,
    )

    admin.user = None
    assert admin.call("DELETE", f"notification-rules/{rule_id}").status_code == 204
    admin.fails("GET", f"notification-rules/{rule_id}", None, 404, "rule_not_found")

    deleted, changed, born = admin.history()
    fields = {k: v for k, v in created.items() if k not in ("created_at", "updated_at")}
    assert born == {
        "id": born["id"],
        "rule_id": rule_id,
        "action": "created",
        "changed_by": "marta",
        "changed_at": NOW.isoformat(),
        "before": None,
        "after": fields,
    }
    assert (changed["action"], changed["changed_by"]) == ("updated", "juan")
    assert changed["before"] == fields
    assert changed["after"] == fields | {"professional_id": None, "active": False}
    assert (deleted["action"], deleted["changed_by"]) == ("deleted", "api")
    assert (deleted["before"], deleted["after"]) == (changed["after"], None)
    assert admin.history(f"?rule_id={rule_id}&limit=1") == [deleted]
    assert admin.history(f"?rule_id={default['id']}") == []


def test_a_change_that_changes_nothing_leaves_no_history(admin: Admin):
    [rule] = admin.ok("GET", "notification-rules")["rules"]
    assert admin.ok("PATCH", f"notification-rules/{rule['id']}", {"mode": "both"}) == rule
    assert admin.ok("PATCH", f"notification-rules/{rule['id']}", {}) == rule
    assert admin.history() == []


def test_the_acting_user_is_printable_and_short(admin: Admin):
    admin.user = "x" * 300 + "\x07"
    admin.ok("POST", "notification-rules", {"mode": "confirmations"}, status=201)
    admin.user = "  \x1b  "
    admin.ok("POST", "notification-rules", {"plan": "Oro"}, status=201)
    second, first = admin.history()
    assert first["changed_by"] == "x" * 64
    assert second["changed_by"] == "api"


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        ({"mode": "sometimes"}, "bad_mode", "mode"),
        ({"mode": None}, "bad_mode", "mode"),
        ({"active": None}, "bad_active", "active"),
        ({"professional_id": "ana"}, "invalid_body", "professional_id"),
        ({"professional_id": "1"}, "invalid_body", "professional_id"),
        ({"professional_id": 1.5}, "invalid_body", "professional_id"),
        ({"active": "yes"}, "invalid_body", "active"),
        ({"mode": ["both"]}, "invalid_body", "mode"),
        ({"profesional_id": 1}, "invalid_body", "profesional_id"),
        ({"professional_id": 2**40}, "unknown_professional", "professional_id"),
        ({"professional_id": 0}, "unknown_professional", "professional_id"),
        ({"professional_id": 999}, "unknown_professional", "professional_id"),
        ({"service_id": 999}, "unknown_service", "service_id"),
        ({"branch_id": 999}, "unknown_branch", "branch_id"),
        ({"insurance": "  "}, "bad_insurance", "insurance"),
        ({"plan": "x" * 101}, "bad_plan", "plan"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_bad_values_are_refused_and_change_nothing(
    admin: Admin, db: Engine, method: str, body: dict[str, Any], reason: str, field: str
):
    [rule] = admin.ok("GET", "notification-rules")["rules"]
    path = "notification-rules" + (f"/{rule['id']}" if method == "PATCH" else "")
    assert admin.fails(method, path, body, 422, reason)["field"] == field
    assert admin.ok("GET", "notification-rules")["rules"] == [rule]
    assert _changes(db) == []


@pytest.mark.parametrize("dimension", ["professional_id", "service_id", "branch_id"])
def test_ids_of_another_clinic_are_refused(
    admin: Admin, clinics: tuple[Any, Any], db: Engine, dimension: str
):
    other = clinics[1]
    theirs = {
        "professional_id": other.professionals["ana"],
        "service_id": other.services["general"],
        "branch_id": other.services["branch"],
    }[dimension]
    reason = "unknown_" + dimension.removesuffix("_id")
    admin.fails("POST", "notification-rules", {dimension: theirs}, 422, reason)
    mine = {
        "professional_id": clinics[0].professionals["ana"],
        "service_id": clinics[0].services["general"],
        "branch_id": clinics[0].services["branch"],
    }[dimension]
    admin.ok("POST", "notification-rules", {dimension: mine}, status=201)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"both"', "application/json"),
        ("", "application/json"),
        ("mode=both", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(admin: Admin, data: Any, content_type: str):
    [rule] = admin.ok("GET", "notification-rules")["rules"]
    for method, path in [
        ("POST", "notification-rules"),
        ("PATCH", f"notification-rules/{rule['id']}"),
        ("PATCH", "reminder-settings"),
    ]:
        admin.fails(method, path, None, 400, "bad_json", data=data, content_type=content_type)


def test_another_clinics_rules_are_out_of_reach(
    app: Any, admin: Admin, clinics: tuple[Any, Any], db: Engine
):
    theirs = Admin(app.test_client(), clinics[1].id)
    [their_rule] = theirs.ok("GET", "notification-rules")["rules"]
    theirs.ok("PATCH", f"notification-rules/{their_rule['id']}", {"mode": "reminders"})
    path = f"notification-rules/{their_rule['id']}"
    admin.fails("GET", path, None, 404, "rule_not_found")
    admin.fails("PATCH", path, {"mode": "confirmations"}, 404, "rule_not_found")
    admin.fails("DELETE", path, None, 404, "rule_not_found")
    assert their_rule["id"] not in [r["id"] for r in admin.ok("GET", "notification-rules")["rules"]]
    assert admin.history() == []
    assert [c["action"] for c in theirs.history()] == ["updated"]
    assert _rules(db, clinics[1].id)[0].mode == "reminders"


@pytest.mark.parametrize(
    ("method", "url", "status", "reason"),
    [
        ("GET", "/admin/api/clinics/999/notification-rules", 404, "clinic_not_found"),
        ("GET", "/admin/api/clinics/999/reminder-settings", 404, "clinic_not_found"),
        ("GET", "/admin/api/clinics/{cid}/notification-rules/99999999999999999999", 404, None),
        ("GET", "/admin/api/clinics/99999999999999999999/notification-rules", 404, None),
        ("GET", "/admin/api/clinics/{cid}/notification-rules/abc", 404, "not_found"),
        ("GET", "/admin/api/clinics/{cid}/nothing-here", 404, "not_found"),
        ("PUT", "/admin/api/clinics/{cid}/notification-rules", 405, "method_not_allowed"),
        ("GET", "/admin/api/clinics/{cid}/notification-rules/history?limit=0", 422, "bad_limit"),
        ("GET", "/admin/api/clinics/{cid}/notification-rules/history?rule_id=x", 422, None),
        ("GET", "/admin/api/clinics/{cid}/notification-rules/history?limit=%C2%B2", 422, None),
    ],
)
def test_unknown_things_are_json_errors(
    admin: Admin, clinics: tuple[Any, Any], method: str, url: str, status: int, reason: str
):
    response = admin.client.open(
        url.format(cid=clinics[0].id), method=method, headers=admin.headers()
    )
    assert response.status_code == status
    assert response.is_json and response.get_json()["message"]
    if reason:
        assert response.get_json()["error"] == reason


def test_a_professionals_reminders_can_be_switched_off_and_on(
    admin: Admin, clinics: tuple[Any, Any], db: Engine
):
    ana = clinics[0].professionals["ana"]
    switched = admin.ok("PATCH", f"professionals/{ana}", {"reminders_enabled": False})
    assert switched == {"id": ana, "name": "Dra. Ana Benítez", "reminders_enabled": False}
    admin.ok("PATCH", f"professionals/{ana}", {"reminders_enabled": False})  # no change
    with Session(db) as s:
        assert s.get(Professional, ana).reminders_enabled is False  # type: ignore[union-attr]
    admin.ok("PATCH", f"professionals/{ana}", {"reminders_enabled": True})
    on, off = admin.history("?rule_id=0")
    assert (off["action"], off["rule_id"], off["changed_by"]) == ("settings", 0, "marta")
    assert off["before"] == {"professional_id": ana, "reminders_enabled": True}
    assert off["after"] == {"professional_id": ana, "reminders_enabled": False}
    assert on["after"] == {"professional_id": ana, "reminders_enabled": True}


def test_the_switch_refuses_bad_bodies_and_other_clinics(
    admin: Admin, clinics: tuple[Any, Any], db: Engine
):
    ana = clinics[0].professionals["ana"]
    theirs = clinics[1].professionals["ana"]
    admin.fails(
        "PATCH",
        f"professionals/{theirs}",
        {"reminders_enabled": False},
        404,
        "professional_not_found",
    )
    admin.fails(
        "PATCH", "professionals/999", {"reminders_enabled": False}, 404, "professional_not_found"
    )
    admin.fails("PATCH", f"professionals/{ana}", {}, 422, "invalid_body")
    admin.fails(
        "PATCH", f"professionals/{ana}", {"reminders_enabled": "false"}, 422, "invalid_body"
    )
    admin.fails("PATCH", f"professionals/{ana}", {"reminders_enabled": None}, 422, "invalid_body")
    admin.fails("PATCH", f"professionals/{ana}", {"name": "X"}, 422, "invalid_body")
    with Session(db) as s:
        assert all(p.reminders_enabled for p in s.exec(select(Professional)))
    assert _changes(db) == []


def test_reminder_settings_are_read_and_changed(admin: Admin, clinics: tuple[Any, Any], db: Engine):
    assert admin.ok("GET", "reminder-settings") == {"hours_before": 24, "day_before_at": None}
    changed = admin.ok("PATCH", "reminder-settings", {"hours_before": 48, "day_before_at": "18:30"})
    assert changed == {"hours_before": 48, "day_before_at": "18:30"}
    assert admin.ok("PATCH", "reminder-settings", {"hours_before": None}) == {
        "hours_before": None,
        "day_before_at": "18:30",
    }
    with Session(db) as s:
        clinic = s.get(Clinic, clinics[0].id)
        other = s.get(Clinic, clinics[1].id)
    assert clinic is not None and other is not None
    assert (clinic.reminder_hours_before, clinic.reminder_day_before_at) == (None, time(18, 30))
    assert (other.reminder_hours_before, other.reminder_day_before_at) == (24, None)
    second, first = admin.history("?rule_id=0")
    assert first["before"] == {"hours_before": 24, "day_before_at": None}
    assert first["after"] == second["before"] == {"hours_before": 48, "day_before_at": "18:30"}
    assert second["after"] == {"hours_before": None, "day_before_at": "18:30"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"hours_before": 0}, "bad_hours_before"),
        ({"hours_before": 169}, "bad_hours_before"),
        ({"hours_before": -3}, "bad_hours_before"),
        ({"hours_before": "24"}, "invalid_body"),
        ({"hours_before": 24.0}, "invalid_body"),
        ({"hours_before": True}, "invalid_body"),
        ({"day_before_at": "24:00"}, "bad_day_before_at"),
        ({"day_before_at": "6:00"}, "bad_day_before_at"),
        ({"day_before_at": "18:00:00"}, "bad_day_before_at"),
        ({"day_before_at": "18h"}, "bad_day_before_at"),
        ({"day_before_at": "１８:００"}, "bad_day_before_at"),
        ({"day_before_at": 18}, "invalid_body"),
        ({"hours": 2}, "invalid_body"),
    ],
)
def test_bad_reminder_settings_are_refused(
    admin: Admin, db: Engine, body: dict[str, Any], reason: str
):
    admin.fails("PATCH", "reminder-settings", body, 422, reason)
    assert admin.ok("GET", "reminder-settings") == {"hours_before": 24, "day_before_at": None}
    assert _changes(db) == []


def test_rules_made_through_the_api_decide_what_is_sent(
    admin: Admin, clinics: tuple[Any, Any], db: Engine
):
    clinic = clinics[0]
    ana, luis = clinic.professionals["ana"], clinic.professionals["luis"]
    [default] = admin.ok("GET", "notification-rules")["rules"]
    admin.ok("PATCH", f"notification-rules/{default['id']}", {"active": False})
    admin.ok("POST", "notification-rules", {"professional_id": ana, "mode": "reminders"}, 201)
    admin.ok("POST", "notification-rules", {"insurance": "ips", "mode": "confirmations"}, 201)
    with Session(db) as s:
        rules = rules_for(s, clinic.id)
    general = clinic.services["general"]
    anas = AppointmentFacts(None, ana, general, "IPS ", None)
    luiss = AppointmentFacts(None, luis, general, None, None)
    assert wanted(rules, anas, REMINDER) and wanted(rules, anas, CONFIRMATION)
    assert not wanted(rules, luiss, REMINDER) and not wanted(rules, luiss, CONFIRMATION)
