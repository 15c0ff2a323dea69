"""Alembic, driven from code: `turnero db upgrade` and the tests call `upgrade`."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from store.db import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@cache
def newest_revision() -> str:
    """The newest migration this code has (read once: the code does not change while it
    runs)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "store/migrations has no migration"
    return head


def database_revision(connection: Connection) -> str | None:
    """The migration the database was last brought to; None if never migrated."""
    return MigrationContext.configure(connection).get_current_revision()
