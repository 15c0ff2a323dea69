"""The admin API of a clinic's approved WhatsApp templates: list, read, put and delete per
message kind and language, the variables checked against the tags the message uses."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from config.settings import Settings
from tests.support import Clock, make_clinic
from webhook import create_app

TOKEN = "admin-token-for-tests-0123456789"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
SID = "HX" + "0123456789abcdef" * 2
OTHER_SID = "HX" + "f" * 32
REMINDER = {"content_sid": SID, "variables": {"1": "patient_name", "2": "date", "3": "time"}}


class Admin:
    def __init__(self, client: FlaskClient, clinic_id: int) -> None:
        self.client, self.clinic_id = client, clinic_id

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {"Authorization": f"Bearer {TOKEN}"})
        if body is not None:
            kw["json"] = body
        url = f"/admin/api/clinics/{self.clinic_id}/content-templates{path}"
        return self.client.open(url, method=method, headers=headers, **kw)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def fails(self, method: str, path: str, body: Any, status: int, reason: str) -> Any:
        response = self.call(method, path, body)
        found = response.get_json()
        assert (response.status_code, found["error"]) == (status, reason), found
        assert found["message"]
        return found


@pytest.fixture
def admin(db: Engine) -> Admin:
    clinic = make_clinic(db)
    make_clinic(db, number="+595981000001")
    settings = Settings(database_url=str(db.url), secret_key="tpl-secret", admin_api_token=TOKEN)
    app = create_app(settings, clock=Clock(NOW), engine=db)
    return Admin(app.test_client(), clinic.id)


def test_put_get_list_replace_and_delete(admin: Admin) -> None:
    assert admin.ok("GET", "") == {"templates": []}

    created = admin.ok("PUT", "/reminder/es", REMINDER, status=201)
    assert created == {
        "kind": "reminder",
        "language": "es",
        "content_sid": SID,
        "variables": REMINDER["variables"],
        "status": "approved",  # registered by its SID: WhatsApp approved it already
        "category": None,
        "rejection_reason": None,
        "updated_at": NOW.isoformat(),
    }
    shown = admin.ok("GET", "/reminder/es")
    assert shown["content_sid"] == SID
    assert {"patient_name", "date", "time", "link", "clinic_name"} <= set(shown["tags"])
    assert "options" not in shown["tags"]

    replaced = admin.ok("PUT", "/reminder/es", {"content_sid": OTHER_SID, "variables": {}})
    assert (replaced["content_sid"], replaced["variables"]) == (OTHER_SID, {})
    admin.ok("PUT", "/confirmation/gn", {"content_sid": SID, "variables": {"1": "code"}}, 201)
    listed = admin.ok("GET", "")["templates"]
    assert [(t["kind"], t["language"], t["content_sid"]) for t in listed] == [
        ("confirmation", "gn", SID),
        ("reminder", "es", OTHER_SID),
    ]

    assert admin.call("DELETE", "/reminder/es").status_code == 204
    admin.fails("GET", "/reminder/es", None, 404, "content_template_not_found")
    admin.fails("DELETE", "/reminder/es", None, 404, "content_template_not_found")
    assert len(admin.ok("GET", "")["templates"]) == 1


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        ({"content_sid": "HX123", "variables": {}}, "bad_content_sid", "content_sid"),
        ({"content_sid": "SM" + "0" * 32, "variables": {}}, "bad_content_sid", "content_sid"),
        (
            {"content_sid": SID, "variables": {"1": "favourite_colour"}},
            "unknown_tag",
            "variables.1",
        ),
        ({"content_sid": SID, "variables": {"1": "options"}}, "unknown_tag", "variables.1"),
        (
            {"content_sid": SID, "variables": {"1": "date", "3": "time"}},
            "variables_not_consecutive",
            "variables",
        ),
        ({"content_sid": SID, "variables": {"01": "date"}}, "bad_variable_number", "variables.01"),
        ({"content_sid": SID, "variables": {"x": "date"}}, "bad_variable_number", "variables.x"),
        ({"content_sid": SID, "variables": {"1": 5}}, "invalid_body", "variables.1"),
        ({"variables": {}}, "invalid_body", "content_sid"),
        ({"content_sid": SID, "colour": "red"}, "invalid_body", "colour"),
    ],
)
def test_bad_templates_are_refused_with_the_field(
    admin: Admin, body: dict[str, Any], reason: str, field: str
) -> None:
    assert admin.fails("PUT", "/reminder/es", body, 422, reason)["field"] == field
    assert admin.ok("GET", "") == {"templates": []}


def test_the_tags_are_those_of_the_kinds_message(admin: Admin) -> None:
    # the booking confirmation carries the code; the reminder does not
    admin.ok("PUT", "/confirmation/es", {"content_sid": SID, "variables": {"1": "code"}}, 201)
    admin.fails(
        "PUT", "/reminder/es", {"content_sid": SID, "variables": {"1": "code"}}, 422, "unknown_tag"
    )


def test_unknown_kinds_and_languages_are_not_found(admin: Admin) -> None:
    admin.fails("PUT", "/campaign/es", REMINDER, 404, "unknown_kind")
    admin.fails("PUT", "/reply/es", REMINDER, 404, "unknown_kind")  # answers never need one
    admin.fails("GET", "/reminder/pt", None, 404, "unknown_language")
    admin.fails("DELETE", "/reminder/fr", None, 404, "unknown_language")


def test_bodies_that_are_not_json_objects(admin: Admin) -> None:
    for data in ("not json", "[1, 2]"):
        response = admin.call(
            "PUT",
            "/reminder/es",
            data=data,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert (response.status_code, response.get_json()["error"]) == (400, "bad_json")


def test_another_clinic_and_no_token(admin: Admin) -> None:
    admin.ok("PUT", "/reminder/es", REMINDER, status=201)
    other = Admin(admin.client, admin.clinic_id + 1)
    assert other.ok("GET", "") == {"templates": []}  # one clinic's templates are its own
    other.fails("GET", "/reminder/es", None, 404, "content_template_not_found")
    missing = Admin(admin.client, 999)
    missing.fails("GET", "", None, 404, "clinic_not_found")
    missing.fails("PUT", "/reminder/es", REMINDER, 404, "clinic_not_found")
    response = admin.call("GET", "", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    response = admin.call("PUT", "/reminder/es", REMINDER, headers={})
    assert response.status_code == 401


def test_two_admins_saving_at_once_end_with_one_template(on_postgres: Engine) -> None:
    import threading

    from store.content_templates import list_templates, put_template
    from store.db import transaction

    clinic = make_clinic(on_postgres)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            barrier.wait()
            with transaction(on_postgres) as session:
                put_template(
                    session,
                    clinic.id,
                    "reminder",
                    "es",
                    content_sid="HX" + f"{n:x}" * 32,
                    variables={"1": "date"},
                    allowed_tags={"date"},
                    now=NOW,
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with transaction(on_postgres) as session:
        [saved] = list_templates(session, clinic.id)
        assert saved.content_sid in {"HX" + f"{n:x}" * 32 for n in range(1, 5)}


def test_the_messages_after_a_visit_may_have_approved_templates(admin: Admin) -> None:
    second = {"content_sid": SID, "variables": {"1": "patient_name", "2": "booking_link"}}
    admin.ok("PUT", "/no_show_2/es", second, status=201)
    only_in_the_second = {"content_sid": SID, "variables": {"1": "booking_link"}}
    admin.fails("PUT", "/no_show_1/es", only_in_the_second, 422, "unknown_tag")
    for kind in ("no_show_1", "no_show_3", "care", "survey"):
        admin.ok(
            "PUT", f"/{kind}/gn", {"content_sid": SID, "variables": {"1": "patient_name"}}, 201
        )
    assert "booking_link" in admin.ok("GET", "/no_show_2/es")["tags"]


@pytest.mark.parametrize(
    ("kind", "tag"),
    [("staff_moved", "date"), ("request_accepted", "code"), ("request_declined", "reason")],
)
def test_the_desks_own_messages_take_approved_templates_too(
    admin: Admin, kind: str, tag: str
) -> None:
    """A moved appointment or an answered request may reach a patient whose 24-hour window
    has closed: those kinds have templates, with their own tags."""
    admin.ok("PUT", f"/{kind}/es", {"content_sid": SID, "variables": {"1": tag}}, status=201)
    assert tag in admin.ok("GET", f"/{kind}/es")["tags"]


def test_a_nul_character_in_a_body_is_a_400_not_a_500(admin: Admin) -> None:
    for body in ({"content_sid": "HX" + "0" * 31 + "\u0000", "variables": {}},):
        response = admin.client.put(
            f"/admin/api/clinics/{admin.clinic_id}/content-templates/reminder/es",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400
