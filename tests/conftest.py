"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
`DATABASE_URL` names one), emptied before each test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from bot import locale
from config.tzcheck import use_packaged_tzdata
from store.db import make_engine
from store.migrate import upgrade

use_packaged_tzdata()  # before any test builds a ZoneInfo


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
