"""Campaigns in the console (front desk and admins): the list with each one's status, a
new one built from filters and previewed — who gets it, who not and why, a few messages
as their patients will read them — before a confirmation that repeats the number, and
each one's results, refreshed while it sends, with its stop button."""

import secrets
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, redirect, request, url_for
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from bot.custom_texts import offered_tags
from bot.locale import text
from store import campaigns as stored
from store.campaigns import PARTS, REASONS, STATUSES
from store.message_kinds import CAMPAIGN_KINDS
from store.models import Branch, Campaign, Clinic, Professional, Service
from usecases import campaigns
from web.campaign_input import QUICK_PICKS, Fields, Read, read
from web.console.agenda import formatting, own_clinic
from web.console.common import console, ctx, engine, language, now, page, staff

NOTICES = ("stopped", "already_stopped", "scheduled")


def _words(lang: str) -> Any:
    def c(key: str, **tags: object) -> str:
        return text(f"campaigns.{key}", lang, **tags)

    return c


def _choices(session: Session, clinic_id: int) -> dict[str, Any]:
    def named(model: Any) -> list[Any]:
        return list(
            session.exec(
                select(model).where(model.clinic_id == clinic_id).order_by(col(model.name))
            )
        )

    return {
        "professionals": named(Professional),
        "services": named(Service),
        "branches": named(Branch),
    }


def _fields(values: Any) -> Fields:
    return Fields(
        kind=values.get("kind", ""),
        text=values.get("text", ""),
        first=values.get("first", ""),
        last=values.get("last", ""),
        part=values.get("part", ""),
        pick=values.get("pick", ""),
        professionals=values.getlist("professional"),
        services=values.getlist("service"),
        branches=values.getlist("branch"),
        statuses=values.getlist("status"),
        insurances=[i for i in values.get("insurances", "").split(",") if i.strip()],
        include_paused=values.get("exclude_paused") != "on" and "kind" in values,
        send_at=values.get("send_at", ""),
    )


def _form_page(clinic: Clinic, found: Read | None, status: int = 200) -> Response:
    """The form, and below it the preview when the form was read without problems."""
    lang = language()
    preview = problems = None
    if found is not None and found.draft is not None:
        problems = campaigns.draft_problems(found.draft) or None
        if problems is None:
            preview = campaigns.preview(
                engine(), clinic.id or 0, found.draft, now(), ctx("link_for")
            )
    with Session(engine()) as session:  # after the preview's: one session at a time
        choices = _choices(session, clinic.id or 0)
    return page(
        "campaign_new.html",
        status=status,
        c=_words(lang),
        found=found,
        values=request.values,
        preview=preview,
        problems=problems,
        kinds=CAMPAIGN_KINDS,
        picks=QUICK_PICKS,
        parts=PARTS,
        statuses=STATUSES,
        reasons=REASONS,
        token=secrets.token_urlsafe(16),
        tags=", ".join(f"{{{tag}}}" for tag in sorted(offered_tags(campaigns.FREE_TEXT_TAGS_OF))),
        today=now().astimezone(ZoneInfo(clinic.timezone)).date(),
        **choices,
        **formatting(clinic, lang),
    )


@console.get("/campaigns")
def campaign_list() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        found = stored.listed(session, clinic.id or 0)
        shown = [(c, stored.results(session, c)) for c in found]
    return page(
        "campaigns.html",
        c=_words(language()),
        campaigns=shown,
        **formatting(clinic, language()),
    )


@console.get("/campaigns/new")
def new_campaign() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    found = None
    if "kind" in request.args:
        found = read(_fields(request.args), ZoneInfo(clinic.timezone), now())
    return _form_page(clinic, found, 200 if not found or found.draft else 422)


@console.post("/campaigns")
def send_campaign() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    found = read(_fields(request.form), ZoneInfo(clinic.timezone), now())
    if found.draft is None or campaigns.draft_problems(found.draft):
        return _form_page(clinic, found, 422)
    token = request.form.get("token", "")[:64]
    created = campaigns.create(
        engine(),
        clinic.id or 0,
        found.draft,
        token=f"console:{clinic.id}:{token or secrets.token_urlsafe(16)}",
        send_at=found.send_at,
        by=f"staff:{staff().login}",
        now=now(),
        links=ctx("link_for"),
    )
    if created.refused is not None:
        found.problems.append(created.refused)
        return _form_page(clinic, found, 422)
    notice = "scheduled" if found.send_at is not None else None
    target = url_for("console.campaign_page", campaign_id=created.campaign_id, notice=notice)
    return redirect(target, code=303)


def _own(session: Session, campaign_id: int) -> tuple[Clinic, Campaign]:
    clinic = own_clinic(session)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.clinic_id != clinic.id:
        abort(404)
    return clinic, campaign


@console.get("/campaigns/<int:campaign_id>")
def campaign_page(campaign_id: int) -> Response:
    with Session(engine()) as session:
        clinic, campaign = _own(session, campaign_id)
        found = stored.results(session, campaign)
        filters = stored.Filters.from_json(campaign.filters)
        choices = _choices(session, clinic.id or 0)
    notice = request.args.get("notice")
    names = {kind: {item.id: item.name for item in items} for kind, items in choices.items()}
    return page(
        "campaign.html",
        c=_words(language()),
        campaign=campaign,
        results=found,
        filters=filters,
        names=names,
        running=campaigns.is_open(campaign) and not (campaign.started_at and found.finished),
        notice=notice if notice in NOTICES else None,
        **formatting(clinic, language()),
    )


@console.post("/campaigns/<int:campaign_id>/stop")
def stop_campaign(campaign_id: int) -> Response:
    with Session(engine()) as session:
        clinic, _ = _own(session, campaign_id)
    withdrawn = campaigns.stop(
        engine(), clinic.id or 0, campaign_id, f"staff:{staff().login}", now()
    )
    notice = "already_stopped" if withdrawn is None else "stopped"
    target = url_for("console.campaign_page", campaign_id=campaign_id, notice=notice)
    return redirect(target, code=303)
