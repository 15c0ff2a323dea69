"""Alembic environment: runs migrations with the engine Turnero itself uses."""

from alembic import context
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables)
from store.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # SQLite changes a table by copying it; with foreign keys enforced, dropping the
            # old copy of a table others point at (the clinic) fails. Off for the migration
            # only (the pragma works outside a transaction, so on the driver's connection
            # before SQLAlchemy begins one); this engine is thrown away after.
            driver = connection.connection.driver_connection
            assert driver is not None  # a live connection, just opened
            driver.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
