"""Statements run on the driver's cursor keep the tables' types: on SQLite a datetime goes
in as the UTC text SQLAlchemy writes (so rows written either way compare alike), a date as
ISO text, and a datetime without a time zone is refused rather than guessed."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from store.conversations import inbound_row, record_inbound
from store.db import make_engine
from store.driver import Sql, first, raw
from store.models import InboundMessage

_ECHO = Sql("SELECT :moment, :day")


def test_a_datetime_goes_into_sqlite_as_utc_text(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'types.db'}")
    asuncion = timezone(timedelta(hours=-3))
    try:
        with raw(engine) as db:
            moment, day = first(
                db,
                _ECHO,
                {"moment": datetime(2026, 12, 7, 9, 30, tzinfo=asuncion), "day": date(2026, 12, 7)},
            )
        assert (moment, day) == ("2026-12-07 12:30:00.000000", "2026-12-07")
        with engine.connect() as connection:  # as SQLAlchemy itself writes the same moment
            written = connection.execute(
                text("SELECT :moment").bindparams(moment=datetime(2026, 12, 7, 12, 30))
            ).scalar_one()
        assert written == moment
    finally:
        engine.dispose()


def test_a_datetime_without_a_time_zone_is_refused_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'naive.db'}")
    try:
        with raw(engine) as db, pytest.raises(ValueError, match="naive"):
            first(db, _ECHO, {"moment": datetime(2026, 12, 7, 9, 30), "day": None})
    finally:
        engine.dispose()


def test_what_the_driver_writes_the_orm_reads_back(db: Engine):
    received = datetime(2026, 12, 7, 12, 30, 15, 250, tzinfo=UTC)
    row = inbound_row(
        message_sid="SMdriver-types",
        clinic_id=None,
        from_phone="+595981000001",
        to_phone="+595981000002",
        body="hola",
        num_media=0,
        fields={},
        now=received,
    )
    with raw(db) as connection:
        record_inbound(connection, row)
    with Session(db) as session:
        kept = session.exec(
            select(InboundMessage).where(InboundMessage.message_sid == "SMdriver-types")
        ).one()
        assert kept.received_at.replace(tzinfo=UTC) == received
