"""The booking page's settings (admins): its address and switches, the services it
offers, and what the desk and the website need — the address, its QR code (SVG, PNG and
an A4 PDF to print), a QR code that opens a WhatsApp chat with the clinic, and the snippet
that frames the page on the clinic's own website."""

from typing import Any

from flask import Response, abort, request
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response as Answer

from bot.locale import text as locale_text
from store import clinic_settings
from store.catalog_admin import save_service
from store.db import transaction
from store.models import Clinic, Service
from store.rules import RuleError
from web.console.agenda import own_clinic
from web.console.common import (
    admin_required,
    console,
    ctx,
    engine,
    language,
    now,
    page,
    translator,
)
from web.console.settings import actor, notice, saved
from web.console.settings_forms import Form, form_values, number, problems, sent, switch, text
from web.desk_sheet import Sheet, desk_sheet
from web.qr_codes import chat_link, page_address, png, svg

FIELDS = tuple(clinic_settings.WEB_PAGE)
SWITCHES = ("web_booking", "web_phone_proof")
TARGETS = ("page", "whatsapp")


def _services(session: Session, clinic_id: int) -> list[Service]:
    """The services patients may book themselves: those the page may offer."""
    return list(
        session.exec(
            select(Service)
            .where(Service.clinic_id == clinic_id, Service.active, Service.self_bookable)
            .order_by(col(Service.name))
        )
    )


def _address(clinic: Clinic) -> str | None:
    if not clinic.booking_slug:
        return None
    return page_address(ctx("settings").public_base_url, clinic.booking_slug)


def _hello(clinic: Clinic) -> str:
    """A WhatsApp chat with the clinic, "hola" written in the clinic's language."""
    return chat_link(
        clinic.whatsapp_number, locale_text("booking_page.hello", clinic.default_language)
    )


def _page(form: Form, status: int = 200) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        services = _services(session, clinic.id or 0)
    address = _address(clinic)
    return page(
        "booking_page.html",
        status=status,
        form=form,
        notice=notice(),
        services=services,
        address=address,
        snippet=_snippet(address) if address else None,
        origin=clinic.booking_embed_origin,
        hold_minutes=clinic.web_hold_minutes,
    )


def _snippet(address: str) -> str:
    return (
        f'<iframe src="{address}" title="Turnos" loading="lazy" '
        'style="width:100%;max-width:36rem;height:46rem;border:0"></iframe>'
    )


@console.get("/settings/booking-page")
@admin_required
def booking_page_settings() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    return _page(Form(form_values(clinic_settings.settings_of(clinic, FIELDS))))


@console.post("/settings/booking-page")
@admin_required
def save_booking_page_settings() -> Answer:
    fields: dict[str, Any] = {
        "booking_slug": text("booking_slug"),
        "booking_embed_origin": text("booking_embed_origin"),
        **{name: switch(name) for name in SWITCHES},
    }
    if "web_hold_minutes" in request.form:  # a form without it leaves it as it is
        fields["web_hold_minutes"] = number("web_hold_minutes")
    offered = set(request.form.getlist("web_service"))
    try:
        with transaction(engine()) as session:
            clinic = own_clinic(session)
            clinic_settings.update_booking_page(session, clinic.id or 0, fields, actor(), now())
            for service in _services(session, clinic.id or 0):
                wanted = str(service.id) in offered
                if service.web_bookable != wanted:
                    changes = {"web_bookable": wanted}
                    save_service(session, clinic.id or 0, service.id, changes, actor(), now())
    except RuleError as exc:
        return _page(Form(sent(FIELDS, SWITCHES), problems(exc)), 422)
    return saved("console.booking_page_settings")


def _target(clinic: Clinic, target: str) -> str:
    """What a QR code opens: the page, or a chat with the clinic."""
    if target not in TARGETS:
        abort(404)
    if target == "whatsapp":
        return _hello(clinic)
    address = _address(clinic)
    if address is None:
        abort(404)
    return address


@console.get("/settings/booking-page/qr-page.svg", defaults={"target": "page"})
@console.get("/settings/booking-page/qr-whatsapp.svg", defaults={"target": "whatsapp"})
@admin_required
def booking_page_qr_svg(target: str) -> Response:
    with Session(engine()) as session:
        data = _target(own_clinic(session), target)
    return Response(svg(data), mimetype="image/svg+xml")


@console.get("/settings/booking-page/qr-page.png", defaults={"target": "page"})
@console.get("/settings/booking-page/qr-whatsapp.png", defaults={"target": "whatsapp"})
@admin_required
def booking_page_qr_png(target: str) -> Response:
    with Session(engine()) as session:
        data = _target(own_clinic(session), target)
    name = f"turnos-{target}.png"
    return Response(
        png(data),
        mimetype="image/png",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@console.get("/settings/booking-page/desk-sheet.pdf")
@admin_required
def booking_page_sheet() -> Response:
    """The sheet for the desk, an A4 PDF: the clinic's name, "Reservá tu turno" in the
    clinic's language, the page's QR code and address, how to use it in the language of
    whoever prints it, and the WhatsApp chat's code."""
    with Session(engine()) as session:
        clinic = own_clinic(session)
    address = _address(clinic)
    if address is None:
        abort(404)
    spoken = clinic.default_language
    sheet = Sheet(
        clinic_name=clinic.name,
        heading=locale_text("booking_page.desk_poster", spoken),
        address=address,
        instructions=translator(language())("bp_sheet_instructions"),
        chat_link=_hello(clinic),
        chat_line=locale_text("booking_page.desk_whatsapp", spoken),
    )
    return Response(
        desk_sheet(sheet),
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="turnos-recepcion.pdf"'},
    )
