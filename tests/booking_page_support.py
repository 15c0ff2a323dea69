"""The booking page's tests' shared parts: a clinic with its page switched on, and a
visitor that walks the page's plain forms with Flask's test client, as a browser without
JavaScript would."""

import html
import re
from dataclasses import dataclass, field

from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from werkzeug.test import TestResponse

from store.db import transaction
from store.models import Clinic, WebBooking

SLUG = "clinica-test"
PAGE = f"/r/{SLUG}"


def open_page(engine: Engine, clinic_id: int, **settings: object) -> None:
    """Give the clinic its booking page at /r/clinica-test, switched on."""
    with transaction(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None
        clinic.booking_slug, clinic.web_booking = SLUG, True
        for name, value in settings.items():
            setattr(clinic, name, value)
        session.add(clinic)


def hidden_fields(page: str) -> dict[str, str]:
    """The first form's hidden inputs of a page."""
    form = page.split("<form", 1)[1].split("</form>", 1)[0]
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in found}


def links(page: str, part: str) -> list[str]:
    """The page's links whose address holds `part`, unescaped."""
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page) if part in h]


@dataclass
class Visitor:
    """Somebody on the booking page, without JavaScript."""

    client: FlaskClient
    headers: dict[str, str] = field(default_factory=dict)
    last: TestResponse | None = None

    def get(self, url: str) -> str:
        self.last = self.client.get(url, headers=self.headers)
        assert self.last.status_code == 200, self.last.get_data(as_text=True)[:500]
        return self.last.get_data(as_text=True)

    def post(self, url: str, form: dict[str, str]) -> TestResponse:
        self.last = self.client.post(url, data=form, headers=self.headers)
        return self.last

    def to_review(self, service_name: str, name: str, phone: str, pro: str = "any") -> str:
        """Service → professional → the first day with space → its first time → details;
        the review page."""
        start = self.get(PAGE)
        service = next(u for u in links(start, "/pro?") if service_name in _label(start, u))
        self.get(service)
        days = self.get(f"{service.replace('/pro?', '/days?')}&pro={pro}")
        day = links(days, "day=")[0]
        times = self.get(day)
        slot = links(times, "/details?")[0]
        self.get(slot)
        return self.details(slot, name, phone)

    def details(self, slot_url: str, name: str, phone: str) -> str:
        """Fill the details form of `slot_url`'s page; the review page."""
        page = self.get(slot_url)
        response = self.post(
            f"{PAGE}/details", {**hidden_fields(page), "name": name, "phone": phone}
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:800]
        return response.get_data(as_text=True)

    def confirm(self, review: str, **extra: str) -> TestResponse:
        return self.post(f"{PAGE}/confirm", {**hidden_fields(review), **extra})


def _label(page: str, url: str) -> str:
    escaped = html.escape(url, quote=True).replace("&#x27;", "'")
    after = page.split(f'href="{escaped}"', 1)[1]
    return after.split("</a>", 1)[0]


def proof_of(engine: Engine, phone: str) -> str:
    """The code the page asked the phone to send, last attempt first."""
    with Session(engine) as session:
        row = session.exec(
            select(WebBooking).where(WebBooking.phone == phone).order_by(col(WebBooking.id).desc())
        ).first()
        assert row is not None
        return row.proof
