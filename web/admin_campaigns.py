"""The admin API's campaigns, beside its other routes under
`/admin/api/clinics/<clinic_id>/` (same token, same JSON errors): preview a campaign, send
it (now, or at `send_at`; the body's `token` makes a request sent twice one campaign),
list them, read one with its results, and stop one."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify
from pydantic import Field
from sqlmodel import Session

from store import campaigns as stored
from store.models import Campaign, Clinic
from usecases import campaigns
from web.admin_api import _Body, _engine, _fields, _now, _user, admin_api, error
from web.campaign_input import Fields, Read, read


class FiltersBody(_Body):
    first: str = ""
    last: str = ""
    part: str | None = None
    pick: str | None = None
    professionals: list[int] = []
    services: list[int] = []
    branches: list[int] = []
    statuses: list[str] = []
    insurances: list[str] = []


class CampaignBody(_Body):
    """A campaign: its kind (`campaign_closure`…, or `campaign_text` with `text`), filters,
    whether paused patients get it, when (`send_at`, ISO; absent: now) and the client's
    `token` for this campaign (8–64 characters)."""

    kind: str
    text: str | None = None
    filters: FiltersBody
    include_paused: bool = False
    send_at: str | None = None
    token: str = Field(default="", max_length=64)


def _links() -> Callable[[int], str]:
    found: Callable[[int], str] = current_app.extensions["turnero"]["link_for"]
    return found


def _read(clinic: Clinic, body: CampaignBody, now: datetime) -> Read:
    f = body.filters
    fields = Fields(
        kind=body.kind,
        text=body.text or "",
        first=f.first,
        last=f.last,
        part=f.part or "",
        pick=f.pick or "",
        professionals=[str(i) for i in f.professionals],
        services=[str(i) for i in f.services],
        branches=[str(i) for i in f.branches],
        statuses=f.statuses,
        insurances=f.insurances,
        include_paused=body.include_paused,
        send_at=body.send_at or "",
    )
    return read(fields, ZoneInfo(clinic.timezone), now)


def _draft(clinic_id: int) -> tuple[Read, CampaignBody] | Response:
    body = CampaignBody.model_validate(_fields(CampaignBody))
    with Session(_engine()) as session:
        clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        return error(404, "clinic_not_found", "no such clinic")
    found = _read(clinic, body, _now())
    if found.draft is None:
        return error(422, "invalid", "see problems", problems=found.problems)
    problems = campaigns.draft_problems(found.draft)
    if problems:
        return error(422, "invalid", "see problems", problems=[p.kind for p in problems])
    return found, body


@admin_api.post("/campaigns/preview")
def preview_campaign(clinic_id: int) -> Response:
    made = _draft(clinic_id)
    if isinstance(made, Response):
        return made
    found, _ = made
    assert found.draft is not None
    seen = campaigns.preview(_engine(), clinic_id, found.draft, _now(), _links())
    return jsonify(
        {
            "recipients": seen.messages,
            "appointments": seen.appointments,
            "excluded": dict(seen.excluded),
            "not_sendable": seen.not_sendable,
            "samples": [sample.__dict__ for sample in seen.samples],
        }
    )


@admin_api.post("/campaigns")
def send_campaign(clinic_id: int) -> tuple[Response, int]:
    made = _draft(clinic_id)
    if isinstance(made, Response):
        return made, made.status_code
    found, body = made
    assert found.draft is not None
    if not 8 <= len(body.token) <= 64:
        return error(422, "invalid_body", "token: 8 to 64 characters", "token"), 422
    created = campaigns.create(
        _engine(),
        clinic_id,
        found.draft,
        token=f"api:{clinic_id}:{body.token}",
        send_at=found.send_at,
        by=_user(),
        now=_now(),
        links=_links(),
    )
    if created.refused is not None:
        return error(422, created.refused, "the campaign was not made"), 422
    return jsonify({"id": created.campaign_id, "queued": created.queued, "new": created.new}), (
        201 if created.new else 200
    )


def _campaign_json(session: Session, campaign: Campaign, with_results: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": campaign.id,
        "kind": campaign.kind,
        "text": campaign.text,
        "filters": stored.Filters.from_json(campaign.filters).__dict__,
        "include_paused": campaign.include_paused,
        "status": campaign.status,
        "send_at": campaign.send_at.isoformat(),
        "created_by": campaign.created_by,
        "created_at": campaign.created_at.isoformat(),
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "stopped_at": campaign.stopped_at.isoformat() if campaign.stopped_at else None,
        "recipients": campaign.recipients,
    }
    if with_results:
        shown["results"] = stored.results(session, campaign).counts()
    return shown


@admin_api.get("/campaigns")
def list_campaigns(clinic_id: int) -> Response:
    with Session(_engine()) as session:
        found = stored.listed(session, clinic_id)
        return jsonify([_campaign_json(session, c, False) for c in found])


def _own(session: Session, clinic_id: int, campaign_id: int) -> Campaign | None:
    campaign = session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.clinic_id == clinic_id else None


@admin_api.get("/campaigns/<int:campaign_id>")
def get_campaign(clinic_id: int, campaign_id: int) -> Response:
    with Session(_engine()) as session:
        campaign = _own(session, clinic_id, campaign_id)
        if campaign is None:
            return error(404, "campaign_not_found", "no such campaign")
        return jsonify(_campaign_json(session, campaign, True))


@admin_api.post("/campaigns/<int:campaign_id>/stop")
def stop_campaign(clinic_id: int, campaign_id: int) -> tuple[Response, int]:
    with Session(_engine()) as session:
        if _own(session, clinic_id, campaign_id) is None:
            return error(404, "campaign_not_found", "no such campaign"), 404
    withdrawn = campaigns.stop(_engine(), clinic_id, campaign_id, _user(), _now())
    if withdrawn is None:
        return error(409, "not_running", "the campaign is stopped already"), 409
    return jsonify({"withdrawn": withdrawn}), 200
