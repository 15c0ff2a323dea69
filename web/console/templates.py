"""Message templates and flow steps (admins): every text the bot sends, per language,
with the tags it offers, a live preview with sample data, saving (refused with the reason
when a tag is unknown or a brace broken), back to default, and the change history with a
revert per change; and the optional steps of the booking flow, switched on and off. What
is saved bumps the clinic's catalog version, and every process's bot reads it within a
second (`usecases.clinic_view`)."""

from dataclasses import dataclass

from flask import abort, jsonify, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.custom_texts import (
    BODY_LIMIT,
    Problem,
    body_problems,
    editable_keys,
    is_editable,
    offered_tags,
    preview,
)
from bot.flow import load_flow
from bot.locale import LANGUAGES
from bot.render import TemplateError
from store.clinic_templates import FLOW, TEMPLATE, change, flow_steps, history, overrides
from store.db import transaction
from store.models import Clinic
from usecases.clinic_texts import (
    StepsRefused,
    TextRefused,
    clean,
    default_text,
    reset_text,
    revert,
    save_steps,
    save_text,
)
from web.console.agenda import formatting, own_clinic
from web.console.common import (
    admin_required,
    console,
    engine,
    language,
    now,
    page,
    staff,
    translator,
)
from web.console.template_groups import GROUPS, group_of, matches, name_label

FLOW_NAME = "booking"  # the flow whose steps clinics choose
TEMPLATE_NOTICES = ("saved", "unchanged", "reset", "reverted")
FLOW_NOTICES = ("saved", "unchanged", "reverted")
EXCERPT = 90


def _by() -> str:
    return f"staff:{staff().login}"


def _language_arg(raw: str | None) -> str:
    return raw if raw in LANGUAGES else language()


def _editable(lang: str, key: str) -> None:
    if lang not in LANGUAGES or not is_editable(key):
        abort(404)


def _clinic_tags(clinic: Clinic) -> dict[str, str]:
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone or "",
        "clinic_address": clinic.address or "",
    }


def _problem_texts(problems: list[Problem]) -> list[str]:
    t = translator(language())
    return [
        t(f"text_problem_{p.kind}", tags=", ".join(f"{{{tag}}}" for tag in p.tags))
        for p in problems
    ]


# -- the list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    key: str
    name: str
    text: str
    changed: bool


QUERY_LIMIT = 100


@console.get("/templates")
@admin_required
def templates() -> Response:
    """Every text in its group, by plain name; `q` keeps those whose name, text or key
    has every word of it."""
    lang = _language_arg(request.args.get("language"))
    query = " ".join(request.args.get("q", "").split())
    if len(query) > QUERY_LIMIT or not query.isprintable():
        abort(400)
    t = translator(language())
    with Session(engine()) as session:
        own = overrides(session, staff().clinic_id, lang)
    groups: dict[str, list[Listed]] = {group: [] for group in GROUPS}
    for key in editable_keys():
        body = own.get(key) or default_text(lang, key)
        name = t(name_label(key))
        if query and not matches(query, (name, body, key)):
            continue
        excerpt = " ".join(body.split())
        if len(excerpt) > EXCERPT:
            excerpt = excerpt[: EXCERPT - 1].rstrip() + "…"
        groups[group_of(key)].append(Listed(key, name, excerpt, key in own))
    return page(
        "templates.html",
        shown=lang,
        languages=LANGUAGES,
        groups={group: items for group, items in groups.items() if items},
        query=query,
        found=sum(len(items) for items in groups.values()),
    )


# -- one template -----------------------------------------------------------------------------


def _edit_page(
    lang: str,
    key: str,
    *,
    body: str | None = None,
    problems: list[Problem] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        own = overrides(session, clinic.id or 0, lang).get(key)
        changes = history(session, clinic.id or 0, TEMPLATE, lang, key)
    text = body if body is not None else (own or default_text(lang, key))
    problems = problems if problems is not None else body_problems(key, text)
    shown = None if problems else _preview(key, text, lang, clinic)
    return page(
        "template.html",
        status=status,
        key=key,
        name=name_label(key),
        group=group_of(key),
        shown=lang,
        default=default_text(lang, key),
        text=text,
        changed=own is not None,
        tags=sorted(offered_tags(key)),
        preview_text=shown,
        problems=_problem_texts(problems),
        changes=changes,
        notice=notice,
        limit=BODY_LIMIT,
        **formatting(clinic, language()),
    )


def _preview(key: str, body: str, lang: str, clinic: Clinic) -> str | None:
    try:
        return preview(key, body, lang, _clinic_tags(clinic))
    except TemplateError:
        return None


@console.get("/templates/<lang>/<key>")
@admin_required
def template(lang: str, key: str) -> Response:
    _editable(lang, key)
    notice = request.args.get("notice")
    return _edit_page(lang, key, notice=notice if notice in TEMPLATE_NOTICES else None)


def _body() -> str:
    return clean(request.form.get("body", "")[: BODY_LIMIT * 2])


@console.post("/templates/<lang>/<key>")
@admin_required
def save_template(lang: str, key: str) -> Response:
    """Save the text ("save"), or, without JavaScript, show its preview ("preview")."""
    _editable(lang, key)
    body = _body()
    if request.form.get("action") == "preview":
        problems = body_problems(key, body)
        return _edit_page(lang, key, body=body, problems=problems, status=422 if problems else 200)
    try:
        with transaction(engine()) as session:
            changed = save_text(session, staff().clinic_id, lang, key, body, _by(), now())
    except TextRefused as refused:
        return _edit_page(lang, key, body=body, problems=refused.problems, status=422)
    return _back_to(lang, key, "saved" if changed else "unchanged")


@console.post("/templates/<lang>/<key>/preview")
@admin_required
def preview_template(lang: str, key: str) -> Response:
    """The preview as JSON for the page's script: the text as a patient would read it,
    or why it cannot be saved."""
    _editable(lang, key)
    body = _body()
    problems = body_problems(key, body)
    if problems:
        return jsonify(ok=False, problems=_problem_texts(problems))
    with Session(engine()) as session:
        clinic = own_clinic(session)
    shown = _preview(key, body, lang, clinic)
    if shown is None:
        return jsonify(ok=False, problems=_problem_texts([Problem("broken_braces")]))
    return jsonify(ok=True, text=shown)


@console.post("/templates/<lang>/<key>/reset")
@admin_required
def reset_template(lang: str, key: str) -> Response:
    _editable(lang, key)
    with transaction(engine()) as session:
        changed = reset_text(session, staff().clinic_id, lang, key, _by(), now())
    return _back_to(lang, key, "reset" if changed else "unchanged")


def _back_to(lang: str, key: str, notice: str) -> Response:
    return redirect(url_for("console.template", lang=lang, key=key, notice=notice), code=303)


@console.post("/changes/<int:change_id>/revert")
@admin_required
def revert_change(change_id: int) -> Response:
    """Undo one change of a text or of the steps; the revert is recorded as a change."""
    with Session(engine()) as session:
        found = change(session, staff().clinic_id, change_id)
    if found is None:
        abort(404)
    try:
        with transaction(engine()) as session:
            revert(session, staff().clinic_id, change_id, _by(), now())
    except TextRefused as refused:  # a text saved under older rules
        return _edit_page(
            found.language, found.key, body=found.before, problems=refused.problems, status=422
        )
    except StepsRefused as refused:
        return _flows_page(status=422, refused=refused.problems)
    except LookupError:  # a template nobody may change any more
        abort(404)
    if found.subject == FLOW:
        return redirect(url_for("console.flows", notice="reverted"), code=303)
    return _back_to(found.language, found.key, "reverted")


# -- the flow's steps ----------------------------------------------------------------------------


def _flows_page(
    status: int = 200,
    notice: str | None = None,
    refused: list[str] | None = None,
    wanted_off: frozenset[str] | None = None,
) -> Response:
    flow = load_flow(FLOW_NAME)
    with Session(engine()) as session:
        clinic = own_clinic(session)
        off = flow_steps(session, clinic.id or 0, FLOW_NAME)
        changes = history(session, clinic.id or 0, FLOW, "", FLOW_NAME)
    steps = [(sid, flow.states[sid].ask) for sid in flow.optional_steps()]
    return page(
        "flows.html",
        status=status,
        steps=steps,
        off=off if wanted_off is None else wanted_off,
        changes=changes,
        notice=notice,
        refused=refused or [],
        staff_language=language(),
        describe=_steps_words,
        **formatting(clinic, language()),
    )


def _steps_words(raw: str | None) -> str:
    """A change's steps switched off, in the staff member's words."""
    t = translator(language())
    steps = [s for s in (raw or "").split(",") if s]
    if not steps:
        return t("all_steps_on")
    return t("steps_off", steps=", ".join(t(f"step_{s}") for s in steps))


@console.get("/flows")
@admin_required
def flows() -> Response:
    notice = request.args.get("notice")
    return _flows_page(notice=notice if notice in FLOW_NOTICES else None)


@console.post("/flows")
@admin_required
def save_flows() -> Response:
    """Every optional step not ticked "on" is switched off, if the flow stays whole."""
    optional = load_flow(FLOW_NAME).optional_steps()
    on = set(request.form.getlist("on"))
    if on - set(optional):
        abort(400)
    off = frozenset(optional) - on
    try:
        with transaction(engine()) as session:
            changed = save_steps(session, staff().clinic_id, FLOW_NAME, off, _by(), now())
    except StepsRefused as refused:
        return _flows_page(status=422, refused=refused.problems, wanted_off=off)
    return redirect(url_for("console.flows", notice="saved" if changed else "unchanged"), code=303)
