"""The QR on the patient's self-service page, read back with a real decoder and typed into
the kiosk's code field as a handheld scanner does: the patient is checked in as by the
code; a tampered link, another clinic's, another address or a flood of text is answered
"not found", checks nothing in and is never a 500."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import zxingcpp
from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.links import self_service_url
from store.db import transaction
from store.models import Appointment, AppointmentStatus, Branch, Professional, QueueTicket
from tests.console_support import NOW, Desk, book_at
from tests.support import TestClinic, add_patient, make_clinic

BASE = "http://localhost:5000"  # the console tests' PUBLIC_BASE_URL
SECRET = "console-test-secret"  # and their secret key
NOT_FOUND = "No encontramos un turno"
SVG = re.compile(r'<figure class="card qr" id="check-in-qr">\s*(<svg.*?</svg>)', re.S)
SEGMENT = re.compile(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?")


def booked(db: Engine, clinic: TestClinic, minutes: int, who: str = "ana") -> int:
    patient = add_patient(db, clinic.id, f"+5959812{minutes % 100000:05d}", "María Pérez")
    return book_at(db, clinic, patient, NOW + timedelta(minutes=minutes), who=who)


def link(appointment_id: int, secret: str = SECRET) -> str:
    return self_service_url(BASE, secret, appointment_id)


def tickets(db: Engine) -> list[QueueTicket]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket).order_by(col(QueueTicket.id))))


def drawn(svg: str) -> Image.Image:
    """segno's SVG drawn as pixels: its one path is rows of horizontal strokes (M, m, h),
    each half a module below the row's top."""
    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = int(re.search(r"scale\((\d+)\)", svg).group(1))  # type: ignore[union-attr]
    path = re.search(r' d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    modules = width // scale
    image = Image.new("L", (modules, modules), 255)
    pen, x, y = ImageDraw.Draw(image), 0.0, 0.0
    for command, first, second in SEGMENT.findall(path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            pen.line([(x, y - 0.5), (x + float(first) - 1, y - 0.5)], fill=0)
            x += float(first)
    return image.resize((modules * 8, modules * 8), Image.Resampling.NEAREST)


def qr_on_page(app: Flask, appointment_id: int) -> str | None:
    """What the QR on the appointment's page says, read as a phone's screen is; None
    when the page shows none."""
    page = app.test_client().get(urlsplit(link(appointment_id)).path).get_data(as_text=True)
    found = SVG.search(page)
    if found is None:
        return None
    assert "tótem de recepción" in page
    [code] = zxingcpp.read_barcodes(drawn(found.group(1)))
    return code.text


def test_the_qr_of_the_page_checks_the_patient_in_at_the_kiosk(
    db: Engine, app: Flask, clinic: TestClinic, desk: Desk
) -> None:
    appointment_id = booked(db, clinic, 30)
    scanned = qr_on_page(app, appointment_id)
    assert scanned == link(appointment_id)
    start = desk.open("/console/kiosk?lang=en").get_data(as_text=True)
    assert 'maxlength="300"' in start and "autofocus" in start
    assert 'id="scan" class="secondary" hidden>Scan my appointment' in start  # shown by JS
    assert desk.client.get("/console/static/kiosk_scan.js").status_code == 200
    page = desk.submit("/console/kiosk/code?lang=en", {"code": f"{scanned}\n"}).get_data(
        as_text=True
    )
    assert ">A-001<" in page and "0 people ahead of you" in page
    [ticket] = tickets(db)
    assert (ticket.appointment_id, ticket.channel) == (appointment_id, "kiosk")
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment and appointment.status == AppointmentStatus.arrived
    again = desk.submit("/console/kiosk/code?lang=en", {"code": scanned or ""})
    assert "You were already checked in." in again.get_data(as_text=True)
    assert len(tickets(db)) == 1


def test_only_a_standing_appointment_of_today_or_later_shows_a_qr(
    db: Engine, app: Flask, clinic: TestClinic
) -> None:
    tomorrow = booked(db, clinic, 24 * 60 + 30)
    assert qr_on_page(app, tomorrow) == link(tomorrow)
    cancelled = booked(db, clinic, 60)
    with transaction(db) as session:
        appointment = session.get(Appointment, cancelled)
        assert appointment
        appointment.status = AppointmentStatus.cancelled
    assert qr_on_page(app, cancelled) is None


def test_a_link_follows_the_codes_rules_for_the_day_and_the_branch(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    tomorrow = booked(db, clinic, 24 * 60 + 30)
    desk.open("/console/kiosk")
    other_day = desk.submit("/console/kiosk/code", {"code": link(tomorrow)})
    assert "no hoy" in other_day.get_data(as_text=True)
    with transaction(db) as session:
        norte = Branch(clinic_id=clinic.id, name="Norte", address="Calle 2")
        centro = Branch(clinic_id=clinic.id, name="Centro", address="Calle 1")
        session.add_all([centro, norte])
        session.flush()
        for who, branch in (("ana", centro), ("luis", norte)):
            professional = session.get(Professional, clinic.professionals[who])
            assert professional
            professional.branch_id = branch.id
        at_norte = norte.id
    todays = booked(db, clinic, 30)  # with Ana, at Centro
    desk.open(f"/console/kiosk?branch={at_norte}")
    page = desk.submit(f"/console/kiosk/code?branch={at_norte}", {"code": link(todays)})
    assert "Centro — Calle 1" in page.get_data(as_text=True)
    assert tickets(db) == []


def test_a_link_that_is_not_one_of_ours_is_not_found_and_checks_nothing_in(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    ours = link(booked(db, clinic, 30))
    token = ours.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]  # all six bits are data
    tampered = f"{BASE}/a/{payload}.{flipped}"
    other_clinic = make_clinic(db, number="+595981999999")
    theirs = link(booked(db, other_clinic, 30))
    refused = [
        tampered,
        theirs,  # signed by this very server, but another clinic's appointment
        link(1, secret="another-deployment"),
        f"https://example.com/a/{token}",  # a good token under another address
        f"{BASE}/r/clinica",  # the booking page
        f"{BASE}/a/",
        f"{BASE}/a/{token}/cancel",
        "https://example.com/anything?x=1",
        ours + "x" * (3000 - len(ours)),
        "A" * 3000,
        "/" * 3000,
    ]
    desk.open("/console/kiosk")
    for typed in refused:
        answer = desk.submit("/console/kiosk/code", {"code": typed})
        assert answer.status_code == 200, typed
        assert NOT_FOUND in answer.get_data(as_text=True), typed
    assert tickets(db) == []
    assert ">A-001<" in desk.submit("/console/kiosk/code", {"code": ours}).get_data(as_text=True)
