"""The worker's pass that writes the day loads of every clinic's booking horizon: the
days that come into the horizon, and those whose records an hours change left unused,
get theirs (`store.day_loads`)."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from store.day_loads import fill_horizons

log = logging.getLogger(__name__)
DAY_LOADS_SECONDS = 3 * 3600  # a day comes into the horizon once a day; hours change rarely


def day_loads_job(engine: Engine, clock: Callable[[], datetime]) -> int:
    """One pass over every clinic, logging instead of raising."""
    try:
        return fill_horizons(engine, clock())
    except Exception:
        log.exception("the day loads could not be written")
        return 0
