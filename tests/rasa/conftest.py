"""The action server over the tests' database, clock and small clinic."""

from collections.abc import Iterator
from functools import partial

import pytest
from sqlalchemy import Engine

from bot.links import self_service_url
from rasa_actions.tracker import Context
from tests.rasa.support import ActionServer, running
from tests.support import Clock, TestClinic
from usecases.assistant import Agenda
from usecases.clinic_view import CatalogCache

BASE_URL = "https://turnos.example"
SECRET = "test-secret"


@pytest.fixture
def agenda(db: Engine, clock: Clock) -> Agenda:
    link_for = partial(self_service_url, BASE_URL, SECRET)
    return Agenda(db, clock, link_for, CatalogCache(seconds=0))


@pytest.fixture
def rasa(agenda: Agenda, clinic: TestClinic) -> Iterator[ActionServer]:
    """The action server of the clinic the configuration names."""
    with running(Context(agenda, clinic.id)) as server:
        yield server
