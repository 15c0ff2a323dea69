"""The migrations build exactly the schema the models describe, and the newest one can be
taken back and applied again."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel

import store.models  # noqa: F401  (the tables, into SQLModel.metadata)
from store.db import make_engine
from store.migrate import alembic_config, upgrade


def _differences(engine: Engine) -> list:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


def test_the_migrated_schema_is_the_models_schema(db: Engine):
    assert _differences(db) == []


def test_the_newest_migration_goes_back_and_forth(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    config = alembic_config(url)
    newest = ScriptDirectory.from_config(config).get_current_head()
    upgrade(url)
    command.downgrade(config, "-1")
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == newest
        assert _differences(engine) == []
    finally:
        engine.dispose()
