"""The catalog cache on a clock the test moves: a kept catalog is used as it is for half a
second, then its clinic's version is read (one statement) and the catalog read again only
when the version moved; whatever the version says, a catalog is read again after ten
seconds."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, text
from sqlmodel import Session

from store.db import transaction
from store.models import Clinic, Service
from tests.support import CLINIC_NUMBER, Ticks, make_clinic
from usecases.clinic_view import CatalogCache


@contextmanager
def statements(db: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `db` inside the block."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", count)


def service_names(cache: CatalogCache, db: Engine, number: str = CLINIC_NUMBER) -> list[str]:
    with Session(db) as session:
        catalog = cache.get(session, number)
        return [s.name for s in catalog.services] if catalog else []


def test_a_kept_catalog_costs_nothing_for_half_a_second_then_one_read(db: Engine):
    make_clinic(db)
    ticks = Ticks()
    cache = CatalogCache(clock=ticks)
    assert service_names(cache, db) == ["Consulta general", "Odontología"]
    ticks.advance(0.49)
    with statements(db) as seen:
        assert service_names(cache, db) == ["Consulta general", "Odontología"]
    assert seen == []
    ticks.advance(0.01)
    with statements(db) as seen:
        assert service_names(cache, db) == ["Consulta general", "Odontología"]
    assert len(seen) == 1 and "catalog_version" in seen[0]
    with statements(db) as seen:  # found current: not read again for another half second
        service_names(cache, db)
    assert seen == []


def test_a_moved_version_reads_the_catalog_again(db: Engine):
    clinic = make_clinic(db)
    ticks = Ticks()
    cache = CatalogCache(clock=ticks)
    service_names(cache, db)
    with transaction(db) as session:
        dentistry = session.get(Service, clinic.services["dentistry"])
        assert dentistry is not None
        dentistry.name = "Odontología infantil"
    assert service_names(cache, db) == ["Consulta general", "Odontología"]  # not yet checked
    ticks.advance(0.5)
    assert service_names(cache, db) == ["Consulta general", "Odontología infantil"]


def test_a_change_the_version_misses_shows_after_ten_seconds(db: Engine):
    clinic = make_clinic(db)
    ticks = Ticks()
    cache = CatalogCache(clock=ticks)
    service_names(cache, db)
    with db.begin() as connection:  # plain SQL: no listener sees it, no version moves
        connection.execute(
            text("UPDATE service SET name = 'Odontología general' WHERE id = :id"),
            {"id": clinic.services["dentistry"]},
        )
    ticks.advance(9.99)
    assert service_names(cache, db) == ["Consulta general", "Odontología"]
    ticks.advance(0.01)
    assert service_names(cache, db) == ["Consulta general", "Odontología general"]


def test_a_number_given_to_another_clinic_is_seen_at_the_next_check(db: Engine):
    clinic = make_clinic(db)
    ticks = Ticks()
    cache = CatalogCache(clock=ticks)
    assert service_names(cache, db)
    with transaction(db) as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None
        row.whatsapp_number = "+595981000077"
    ticks.advance(0.5)
    assert service_names(cache, db) == []
    assert service_names(cache, db, "+595981000077") == ["Consulta general", "Odontología"]
