"""The end-of-day pass: at each clinic's `auto_no_show_at`, the day's appointments nobody
marked arrived or completed become no-shows (and their recovery messages are planned).
Idempotent: a second run, or a second worker, finds nothing left to mark."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from store.db import transaction
from store.outcomes import auto_no_shows

log = logging.getLogger(__name__)


def auto_no_show_job(engine: Engine, clock: Callable[[], datetime]) -> int:
    """One scheduled run, logging instead of raising; returns how many it marked."""
    try:
        with transaction(engine) as session:
            marked = auto_no_shows(session, clock())
    except Exception:
        log.exception("end-of-day no-show pass failed")
        return 0
    if marked:
        log.info("no-shows marked at the end of the day: %s", marked)
    return marked
