"""The admin JSON API of one clinic's notification rules, professionals' reminder switch,
reminder times, clinic settings (who may book on WhatsApp among them), the booking page's
settings and approved WhatsApp templates, under `/admin/api/clinics/<clinic_id>/`.

Every request carries `Authorization: Bearer <ADMIN_API_TOKEN>`; `X-Turnero-User` names who
acts, for the history. Errors are JSON: `{"error": reason, "message": ..., "field": ...}`,
where `reason` is stable and `message` is for the developer reading it."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException

from bot.locale import LANGUAGES
from bot.numbers import LARGEST_ID, read_number
from bot.render import default_templates, template_tags
from store import clinic_settings, content_templates, rules
from store.db import transaction
from store.message_kinds import WITH_TEMPLATES, MessageKind
from store.models import NotificationRule
from store.settings_values import Invalid
from web.admin_token import holds_admin_token

PREFIX = "/admin/api"
MAX_USER_CHARS = 64
MAX_HISTORY = 500

admin_api = Blueprint("admin_api", __name__, url_prefix=PREFIX + "/clinics/<int:clinic_id>")


class _Body(BaseModel):
    """A request body: exact JSON types, and no field the API does not know."""

    model_config = ConfigDict(extra="forbid", strict=True)


class RuleBody(_Body):
    """A rule or the fields to change; a filter left out or null means "all"."""

    branch_id: int | None = None
    professional_id: int | None = None
    service_id: int | None = None
    insurance: str | None = None
    plan: str | None = None
    mode: str | None = None
    active: bool | None = None


class ProfessionalBody(_Body):
    reminders_enabled: bool


class ReminderBody(_Body):
    hours_before: int | None = None
    day_before_at: str | None = None


class ContentTemplateBody(_Body):
    """An approved template: its Content SID and {"1": tag, ...} for its variables."""

    content_sid: str
    variables: dict[str, str] = {}


def error(
    status: int, reason: str, message: str, field: str | None = None, **extra: Any
) -> Response:
    response = jsonify({"error": reason, "message": message, "field": field, **extra})
    response.status_code = status
    return response


def http_error(exc: HTTPException) -> Response:
    """An HTTP error (unknown route, wrong method, body too large) under the API as JSON."""
    reason = (exc.name or "error").lower().replace(" ", "_")
    return error(exc.code or 500, reason, exc.description or exc.name or "")


def is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/")


@admin_api.before_request
def _authorize() -> Response | None:
    if holds_admin_token():
        return None
    response = error(401, "unauthorized", "send Authorization: Bearer <ADMIN_API_TOKEN>")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@admin_api.errorhandler(rules.RuleError)
def _rule_error(exc: rules.RuleError) -> Response:
    status = 404 if isinstance(exc, rules.NotFound) else 422
    extra = {"problems": exc.problems} if isinstance(exc, Invalid) else {}
    return error(status, exc.reason, exc.message, exc.field, **extra)


@admin_api.errorhandler(ValidationError)
def _invalid_body(exc: ValidationError) -> Response:
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return error(422, "invalid_body", f"{field}: {first['msg']}" if field else first["msg"], field)


def _engine() -> Any:
    return current_app.extensions["turnero"]["engine"]


def _now() -> datetime:
    now: datetime = current_app.extensions["turnero"]["clock"]()
    return now


def _user() -> str:
    """Who acts, as the history records it: printable, short, "api" when not said."""
    raw = request.headers.get("X-Turnero-User", "")
    user = "".join(ch for ch in raw if ch.isprintable()).strip()[:MAX_USER_CHARS]
    return user or "api"


def _json_object() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise _BadJson
    return body


class _BadJson(Exception):
    """The body is not a JSON object."""


@admin_api.errorhandler(_BadJson)
def _bad_json(_: _BadJson) -> Response:
    return error(400, "bad_json", "the body must be a JSON object")


def _fields(model: type[_Body]) -> dict[str, Any]:
    """The fields the body gives (explicit nulls included), checked by `model`."""
    return model.model_validate(_json_object()).model_dump(exclude_unset=True)


def _rule_json(rule: NotificationRule) -> dict[str, Any]:
    return {
        **rules.rule_fields(rule),
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


@admin_api.get("/notification-rules")
def list_rules(clinic_id: int) -> Response:
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        return jsonify({"rules": [_rule_json(r) for r in rules.list_rules(session, clinic_id)]})


@admin_api.post("/notification-rules")
def create_rule(clinic_id: int) -> tuple[Response, int, Mapping[str, str]]:
    fields = _fields(RuleBody)
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        rule = rules.create_rule(session, clinic_id, fields, _user(), _now())
        body = _rule_json(rule)
    location = f"{PREFIX}/clinics/{clinic_id}/notification-rules/{rule.id}"
    return jsonify(body), 201, {"Location": location}


@admin_api.get("/notification-rules/<int:rule_id>")
def get_rule(clinic_id: int, rule_id: int) -> Response:
    with transaction(_engine()) as session:
        return jsonify(_rule_json(rules.get_rule(session, clinic_id, rule_id)))


@admin_api.patch("/notification-rules/<int:rule_id>")
def update_rule(clinic_id: int, rule_id: int) -> Response:
    fields = _fields(RuleBody)
    with transaction(_engine()) as session:
        rule = rules.update_rule(session, clinic_id, rule_id, fields, _user(), _now())
        return jsonify(_rule_json(rule))


@admin_api.delete("/notification-rules/<int:rule_id>")
def delete_rule(clinic_id: int, rule_id: int) -> Response:
    with transaction(_engine()) as session:
        rules.delete_rule(session, clinic_id, rule_id, _user(), _now())
    return Response(status=204)


@admin_api.get("/notification-rules/history")
def rule_history(clinic_id: int) -> Response:
    """Newest first; `?rule_id=` for one rule (0: the reminder settings), `?limit=` rows."""
    rule_id = _int_arg("rule_id", 0, LARGEST_ID)
    limit = _int_arg("limit", 1, MAX_HISTORY)
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        changes = rules.history(
            session, clinic_id, rule_id=rule_id, limit=limit or rules.DEFAULT_HISTORY
        )
        return jsonify({"changes": [rules.change_fields(c) for c in changes]})


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    number = read_number(raw, low, high)
    if number is None:
        raise rules.RuleError(f"bad_{name}", f"{name} must be a number from {low} to {high}", name)
    return number


@admin_api.patch("/professionals/<int:professional_id>")
def switch_professional(clinic_id: int, professional_id: int) -> Response:
    enabled = ProfessionalBody.model_validate(_json_object()).reminders_enabled
    with transaction(_engine()) as session:
        professional = rules.set_professional_reminders(
            session, clinic_id, professional_id, enabled, _user(), _now()
        )
        return jsonify(
            {
                "id": professional.id,
                "name": professional.name,
                "reminders_enabled": professional.reminders_enabled,
            }
        )


@admin_api.get("/reminder-settings")
def reminder_settings(clinic_id: int) -> Response:
    with transaction(_engine()) as session:
        return jsonify(rules.reminder_settings_of(rules.get_clinic(session, clinic_id)))


@admin_api.patch("/reminder-settings")
def change_reminder_settings(clinic_id: int) -> Response:
    fields = _fields(ReminderBody)
    with transaction(_engine()) as session:
        clinic = rules.set_reminder_settings(session, clinic_id, fields, _user(), _now())
        return jsonify(rules.reminder_settings_of(clinic))


@admin_api.get("/settings")
def clinic_settings_of(clinic_id: int) -> Response:
    """The clinic's profile, booking rules and automations (`store.clinic_settings`)."""
    with transaction(_engine()) as session:
        return jsonify(clinic_settings.settings_of(rules.get_clinic(session, clinic_id)))


@admin_api.patch("/settings")
def change_clinic_settings(clinic_id: int) -> Response:
    """Change any of them, checked as the console's settings pages check them; 422 names
    the first bad field (`problems` lists them all)."""
    body = _json_object()
    with transaction(_engine()) as session:
        clinic = clinic_settings.update_clinic(session, clinic_id, body, _user(), _now())
        return jsonify(clinic_settings.settings_of(clinic))


@admin_api.get("/booking-page")
def booking_page_settings_of(clinic_id: int) -> Response:
    """The booking page's settings (`store.clinic_settings.WEB_PAGE`)."""
    with transaction(_engine()) as session:
        clinic = rules.get_clinic(session, clinic_id)
        return jsonify(clinic_settings.settings_of(clinic, clinic_settings.WEB_PAGE))


@admin_api.patch("/booking-page")
def change_booking_page_settings(clinic_id: int) -> Response:
    """Change any of them, checked as the console's Booking page checks them (422)."""
    body = _json_object()
    with transaction(_engine()) as session:
        clinic = clinic_settings.update_booking_page(session, clinic_id, body, _user(), _now())
        return jsonify(clinic_settings.settings_of(clinic, clinic_settings.WEB_PAGE))


# -- approved WhatsApp templates -------------------------------------------------------------


def _template_tags(kind: str, language: str) -> set[str]:
    """The tags the message of `kind` uses in `language`: what its template may be filled
    with. Unknown kinds and languages are a 404, like any other missing resource."""
    if kind not in WITH_TEMPLATES:
        raise rules.NotFound(
            "unknown_kind", f"no message kind {kind!r}; one of {', '.join(WITH_TEMPLATES)}"
        )
    if language not in LANGUAGES:
        raise rules.NotFound(
            "unknown_language", f"no language {language!r}; one of {', '.join(LANGUAGES)}"
        )
    template = MessageKind(kind).template_key()
    return template_tags(default_templates(language)[template]) - {"options"}


@admin_api.get("/content-templates")
def list_content_templates(clinic_id: int) -> Response:
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        found = content_templates.list_templates(session, clinic_id)
        return jsonify({"templates": [content_templates.template_fields(t) for t in found]})


@admin_api.get("/content-templates/<kind>/<language>")
def get_content_template(clinic_id: int, kind: str, language: str) -> Response:
    tags = _template_tags(kind, language)
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        template = content_templates.find_template(session, clinic_id, kind, language)
        if template is None:
            raise rules.NotFound(
                "content_template_not_found", f"no template for {kind} in {language}"
            )
        return jsonify({**content_templates.template_fields(template), "tags": sorted(tags)})


@admin_api.put("/content-templates/<kind>/<language>")
def put_content_template(clinic_id: int, kind: str, language: str) -> tuple[Response, int]:
    """Create or replace; the variables are checked against the tags the message uses."""
    tags = _template_tags(kind, language)
    body = ContentTemplateBody.model_validate(_json_object())
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        template, created = content_templates.put_template(
            session,
            clinic_id,
            kind,
            language,
            content_sid=body.content_sid,
            variables=body.variables,
            allowed_tags=tags,
            now=_now(),
        )
        return jsonify(content_templates.template_fields(template)), 201 if created else 200


@admin_api.delete("/content-templates/<kind>/<language>")
def delete_content_template(clinic_id: int, kind: str, language: str) -> Response:
    _template_tags(kind, language)
    with transaction(_engine()) as session:
        rules.get_clinic(session, clinic_id)
        content_templates.delete_template(session, clinic_id, kind, language)
    return Response(status=204)
