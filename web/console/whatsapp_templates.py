"""The clinic's WhatsApp templates (admins): each automatic message in each language the
clinic serves with WhatsApp's word on its template, a button that creates one at Twilio
from the clinic's own text and submits it for approval, and one that asks again about
those waiting. In the sandbox nothing reaches WhatsApp, so nothing is created."""

from flask import abort, current_app, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from channel.base import TemplateApprover
from channel.twilio import TwilioChannel
from store.content_templates import WAITING
from store.message_kinds import MessageKind
from usecases.whatsapp_templates import KINDS, Refused, create_at_twilio, overview, refresh
from web.console.agenda import own_clinic
from web.console.common import admin_required, console, ctx, engine, now, page, staff

NOTICES = ("created", "refreshed")
# the states with words of their own (`wa_status_*`); another is shown as Twilio says it
KNOWN_STATES = frozenset(
    {"none", "unsubmitted", "received", "pending", "approved", "rejected", "paused", "disabled"}
)


def approver() -> TemplateApprover | None:
    """The Twilio channel the console creates templates through, made once per app (a
    test may put its own under "approver"); None in the sandbox."""
    settings = ctx("settings")
    if settings.sandbox:
        return None
    kept = current_app.extensions["turnero"]
    if "approver" not in kept:
        kept["approver"] = TwilioChannel(
            settings.twilio_account_sid, settings.twilio_auth_token, api_url=settings.twilio_api_url
        )
    found: TemplateApprover = kept["approver"]
    return found


def _page(status: int = 200, problem: str | None = None, detail: str = "") -> Response:
    with Session(engine()) as session:
        rows = overview(session, own_clinic(session))
    notice = request.args.get("notice")
    return page(
        "whatsapp_templates.html",
        status=status,
        rows=rows,
        sandbox=approver() is None,
        waiting=WAITING,
        known_states=KNOWN_STATES,
        notice=notice if notice in NOTICES else None,
        problem=problem,
        detail=detail,
    )


@console.get("/whatsapp-templates")
@admin_required
def whatsapp_templates() -> Response:
    return _page()


@console.post("/whatsapp-templates/<kind>/<lang>")
@admin_required
def create_whatsapp_template(kind: str, lang: str) -> Response:
    if kind not in {k.value for k in KINDS}:
        abort(404)
    channel = approver()
    if channel is None:
        abort(409)  # the sandbox needs no template
    try:
        create_at_twilio(engine(), channel, staff().clinic_id, MessageKind(kind), lang, now())
    except Refused as refused:
        status = 404 if refused.reason == "unknown" else 422
        return _page(status, refused.reason, refused.detail)
    return redirect(url_for("console.whatsapp_templates", notice="created"), code=303)


@console.post("/whatsapp-templates/refresh")
@admin_required
def refresh_whatsapp_templates() -> Response:
    channel = approver()
    if channel is None:
        abort(409)
    refresh(engine(), channel, now(), staff().clinic_id)
    return redirect(url_for("console.whatsapp_templates", notice="refreshed"), code=303)
