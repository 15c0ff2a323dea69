"""Helpers for the staff console tests: accounts, appointments, and a desk that signs in
and submits the console's forms the way a browser does (token taken from the page)."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from config.settings import Settings
from store.booking import book
from store.db import transaction
from store.models import Patient, Service
from store.staff import create_staff
from tests.support import Clock, TestClinic
from webhook import create_app

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Tuesday 09:00 in Asunción (UTC-3)
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(
    engine: Engine,
    tmp_path: Path,
    clock: Clock,
    base_url: str = "http://localhost:5000",
    trusted_proxies: int = 0,
    sandbox_code: str | None = None,
) -> Flask:
    settings = Settings(
        secret_key="console-test-secret",
        instance_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        public_base_url=base_url,
        trusted_proxies=trusted_proxies,
        twilio_sandbox_code=sandbox_code,
    )
    return create_app(settings, clock=clock, engine=engine)


def add_staff(
    engine: Engine,
    clinic_id: int,
    login: str,
    role: str = "staff",
    language: str = "es",
    password: str = PASSWORD,
) -> int:
    with transaction(engine) as session:
        user = create_staff(
            session,
            clinic_id=clinic_id,
            login=login,
            display_name=login.split("@")[0].title(),
            password=password,
            role=role,
            language=language,
            now=NOW - timedelta(days=30),
        )
        return user.id or 0


def book_at(
    engine: Engine,
    clinic: TestClinic,
    patient_id: int,
    start: datetime,
    who: str = "ana",
    service: str = "general",
    channel: str = "whatsapp",
) -> int:
    with transaction(engine) as session:
        appointment = book(
            session,
            clinic_id=clinic.id,
            patient=session.get(Patient, patient_id),
            service=session.get(Service, clinic.services[service]),
            professional_id=clinic.professionals[who],
            starts_at=start,
            source_channel=channel,
            now=NOW - timedelta(days=2),
        )
        return appointment.id or 0


@dataclass
class Desk:
    """A staff member at a browser: signs in, opens pages and submits their forms."""

    client: FlaskClient
    login: str = ""
    page: TestResponse | None = field(default=None, repr=False)

    def open(self, path: str, **kwargs: object) -> TestResponse:
        self.page = self.client.get(path, **kwargs)  # type: ignore[arg-type]
        return self.page

    def token(self) -> str:
        assert self.page is not None, "open a page first"
        found = CSRF.search(self.page.get_data(as_text=True))
        assert found, "the page has no form"
        return found.group(1)

    def submit(
        self, path: str, data: dict[str, str] | None = None, **kwargs: object
    ) -> TestResponse:
        """Post a form of the page last opened, with its CSRF token."""
        form = {"csrf_token": self.token(), **(data or {})}
        return self.client.post(path, data=form, **kwargs)  # type: ignore[arg-type]

    def sign_in(self, login: str, password: str = PASSWORD, **kwargs: object) -> TestResponse:
        self.login = login
        self.open("/console/login", **kwargs)
        return self.submit("/console/login", {"login": login, "password": password}, **kwargs)
