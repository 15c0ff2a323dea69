"""The console's tests run the app as the demo does, without Twilio's credentials (the
sandbox channel); a module that needs Twilio's signature overrides `app`."""

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from tests.console_support import console_app
from tests.support import Clock, TestClinic


@pytest.fixture
def app(db: Engine, tmp_path: Path, clock: Clock, clinic: TestClinic) -> Flask:
    return console_app(db, tmp_path, clock)
