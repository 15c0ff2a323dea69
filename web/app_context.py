"""What the app factory hands every blueprint (`app.extensions["turnero"]`), read during a
request: the database engine, the clock, the secret key."""

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Engine


def ctx(name: str) -> Any:
    return current_app.extensions["turnero"][name]


def now() -> datetime:
    moment: datetime = ctx("clock")()
    return moment


def engine() -> Engine:
    found: Engine = ctx("engine")
    return found


def secret() -> str:
    return str(ctx("settings").resolved_secret_key)
