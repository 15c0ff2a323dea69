"""The booking page's settings in the console (admins): its address and switches, the
services it offers, and the QR codes, decoded back with a real decoder to the addresses
they must open."""

import io
from urllib.parse import unquote

import zxingcpp
from flask import Flask
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session

from store.models import Clinic, Service
from tests import support
from tests.console_support import Desk, add_staff
from tests.support import make_clinic

SETTINGS = "/console/settings/booking-page"
SHEET = f"{SETTINGS}/desk-sheet.pdf"
BASE = "http://localhost:5000"  # the console tests' PUBLIC_BASE_URL


def _decoded(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1
    return found[0].text


def _save(admin: Desk, **fields: str | list[str]) -> int:
    admin.open(SETTINGS)
    return admin.submit(SETTINGS, fields).status_code  # type: ignore[arg-type]


def test_an_admin_gives_the_page_an_address_and_its_qr_codes_open_it(
    db: Engine, admin: Desk, clinic: support.TestClinic
) -> None:
    assert "Elegí una dirección" in admin.open(SETTINGS).get_data(as_text=True)
    assert admin.open(f"{SETTINGS}/qr-page.png").status_code == 404  # no address yet
    status = _save(
        admin,
        booking_slug="Clinica-Test",
        web_booking="on",
        web_phone_proof="on",
        booking_embed_origin="https://clinica.example",
        web_service=[str(clinic.services["general"])],
    )
    assert status == 303
    with Session(db) as session:
        stored = session.get(Clinic, clinic.id)
        dentistry = session.get(Service, clinic.services["dentistry"])
    assert stored is not None and stored.booking_slug == "clinica-test" and stored.web_booking
    assert dentistry is not None and not dentistry.web_bookable
    page = admin.open(SETTINGS).get_data(as_text=True)
    assert f"{BASE}/r/clinica-test" in page and "&lt;iframe src=" in page

    assert _decoded(admin.open(f"{SETTINGS}/qr-page.png").data) == f"{BASE}/r/clinica-test"
    chat = _decoded(admin.open(f"{SETTINGS}/qr-whatsapp.png").data)
    assert unquote(chat) == "https://wa.me/595981000000?text=Hola"
    svg = admin.open(f"{SETTINGS}/qr-page.svg")
    assert svg.mimetype == "image/svg+xml" and "<path" in svg.get_data(as_text=True)


def test_the_desk_sheet_is_an_a4_pdf_whose_codes_open_the_page_and_the_chat(
    db: Engine, app: Flask, admin: Desk, clinic: support.TestClinic
) -> None:
    assert admin.open(SHEET).status_code == 404  # no address yet
    _save(admin, booking_slug="clinica-test", web_booking="on")
    add_staff(db, clinic.id, "reader@clinica.example", role="admin", language="en")
    reader = Desk(app.test_client())
    reader.sign_in("reader@clinica.example")
    answer = reader.open(SHEET)  # printed by an admin who reads the console in English
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    [page] = PdfReader(io.BytesIO(answer.data)).pages
    assert [round(float(side) / 72 * 25.4) for side in page.mediabox[2:]] == [210, 297]
    words = " ".join(page.extract_text().split())
    assert "Clínica Test" in words and "Reservá tu turno" in words  # the clinic's language
    assert f"{BASE}/r/clinica-test" in words
    assert "Scan the code with your phone's camera" in words
    decoded = sorted(unquote(_decoded(_png(image.image))) for image in page.images)
    assert decoded == [f"{BASE}/r/clinica-test", "https://wa.me/595981000000?text=Hola"]


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_hold_is_set_in_the_console_and_the_admin_api_from_3_to_60_minutes(
    db: Engine, app: Flask, admin: Desk, clinic: support.TestClinic
) -> None:
    assert "guardado 10 minutos" in admin.open(SETTINGS).get_data(as_text=True)
    assert _save(admin, booking_slug="clinica-test", web_hold_minutes="2") == 422
    assert _save(admin, booking_slug="clinica-test", web_hold_minutes="25") == 303
    assert "guardado 25 minutos" in admin.open(SETTINGS).get_data(as_text=True)

    api = app.test_client()
    token = app.extensions["turnero"]["settings"].admin_token
    url = f"/admin/api/clinics/{clinic.id}/booking-page"
    headers = {"Authorization": f"Bearer {token}", "X-Turnero-User": "integration"}
    assert api.get(url, headers=headers).get_json()["web_hold_minutes"] == 25
    for bad in (61, "30", True):
        refused = api.patch(url, json={"web_hold_minutes": bad}, headers=headers)
        assert refused.status_code == 422 and refused.get_json()["field"] == "web_hold_minutes"
    changed = api.patch(url, json={"web_hold_minutes": 3}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["web_hold_minutes"] == 3
    with Session(db) as session:
        stored = session.get(Clinic, clinic.id)
    assert stored is not None and stored.web_hold_minutes == 3


def test_bad_addresses_and_an_address_taken_are_refused(
    db: Engine, admin: Desk, clinic: support.TestClinic
) -> None:
    other = make_clinic(db, number="+595981000001")
    with Session(db) as session:
        found = session.get(Clinic, other.id)
        assert found is not None
        found.booking_slug = "ocupada"
        session.add(found)
        session.commit()
    for slug, problem in [
        ("ocupada", "ya la usa otra clínica"),
        ("no vale", "Solo letras minúsculas"),
        ("<script>", "Solo letras minúsculas"),
    ]:
        admin.open(SETTINGS)
        response = admin.submit(SETTINGS, {"booking_slug": slug, "web_booking": "on"})
        assert response.status_code == 422 and problem in response.get_data(as_text=True)
    admin.open(SETTINGS)
    response = admin.submit(SETTINGS, {"booking_slug": "x-y-z", "booking_embed_origin": "ftp://a"})
    assert response.status_code == 422
    with Session(db) as session:
        stored = session.get(Clinic, clinic.id)
    assert stored is not None and stored.booking_slug is None


def test_the_front_desk_cannot_open_the_page_settings(desk: Desk) -> None:
    assert desk.open(SETTINGS).status_code == 403
