"""The worker's pass that sums up the clinics' closed days for the reports, and sums up
again the days a change marked stale since (`store.report_days`)."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from store.report_days import summarize_all

log = logging.getLogger(__name__)
REPORT_DAYS_SECONDS = 600  # a stale day is counted live meanwhile, so no report waits


def report_days_job(engine: Engine, clock: Callable[[], datetime]) -> int:
    """One pass over every clinic, logging instead of raising."""
    try:
        return summarize_all(engine, clock())
    except Exception:
        log.exception("the report days could not be summed up")
        return 0
