"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
`DATABASE_URL` names one), emptied before each test; a fake clock at the test module's
`NOW`; the small clinic of `tests.support`; the real app; a front desk and an admin
signed in to its console. A folder or a module overrides the ones it needs otherwise."""

import os
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from bot import locale
from config.tzcheck import use_packaged_tzdata
from store.db import make_engine
from store.migrate import upgrade

use_packaged_tzdata()  # before any test builds a ZoneInfo

from tests.console_support import NOW as CONSOLE_NOW  # noqa: E402  (they build ZoneInfos)
from tests.console_support import Desk, add_staff  # noqa: E402
from tests.support import Chat, Clock, TestClinic, make_app, make_clinic  # noqa: E402


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    return f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'turnero.db'}"


@pytest.fixture(scope="session", autouse=True)
def _texts() -> None:
    """python-i18n pointed at `locales/`, as every process that shows texts does first."""
    locale.configure()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _database_url(tmp_path_factory)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(_engine: Engine) -> Engine:
    """The test database, with every table empty."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with _engine.begin() as connection:
        if _engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    return _engine


@pytest.fixture
def on_postgres(db: Engine) -> Engine:
    if db.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    return db


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Clock:
    """A fake clock at the test module's `NOW` (the console's, where it names none), in UTC."""
    return Clock(getattr(request.module, "NOW", CONSOLE_NOW).astimezone(UTC))


@pytest.fixture
def clinic(db: Engine) -> TestClinic:
    return make_clinic(db)


@pytest.fixture
def app(db: Engine, clock: Clock, clinic: TestClinic) -> Flask:
    """The real app, with Twilio's credentials: the webhook checks Twilio's signature."""
    return make_app(db, clock)


@pytest.fixture
def desk(db: Engine, app: Flask, clinic: TestClinic) -> Desk:
    """The front desk (not an admin), signed in to the console."""
    add_staff(db, clinic.id, "ana@clinica.example")
    desk = Desk(app.test_client())
    desk.sign_in("ana@clinica.example")
    return desk


@pytest.fixture
def admin(db: Engine, app: Flask, clinic: TestClinic) -> Desk:
    """An admin, signed in to the console."""
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    desk = Desk(app.test_client())
    desk.sign_in("boss@clinica.example")
    return desk


@pytest.fixture
def chat(db: Engine, app: Flask) -> Chat:
    """A patient's chat with the clinic, through the app's signed webhook."""
    return Chat(app.test_client(), db)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Browser tests skipped for want of a browser are counted out loud at the end, so a
    run without chromium never looks complete."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "no browser: " in str(report.longrepr)
    ]
    if skipped:
        reason = str(skipped[0].longrepr[-1]).split("no browser: ", 1)[-1]  # type: ignore[index]
        terminalreporter.write_sep(
            "!", f"{len(skipped)} browser tests skipped: {reason}", red=True, bold=True
        )
