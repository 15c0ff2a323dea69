"""Campaigns in the worker: on every run, the scheduled campaigns whose time has come
have their recipients fixed and their first messages queued (`usecases.campaigns.start`,
which two workers cannot both do for one campaign), and the sending ones get their next
messages written ahead of the sender (`usecases.campaigns.write_due`)."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.links import Links
from usecases.campaigns import start_due, write_due

log = logging.getLogger(__name__)


def campaigns_job(
    engine: Engine, clock: Callable[[], datetime], *, links: Links, interval_seconds: float
) -> int:
    """Start the due campaigns and write ahead for those sending (the job runs every
    `interval_seconds`), logging instead of raising; how many messages were queued."""
    queued = 0
    try:
        queued += start_due(engine, clock(), links)
    except Exception:
        log.exception("starting scheduled campaigns failed")
    try:
        queued += write_due(engine, clock(), links, interval_seconds)
    except Exception:
        log.exception("writing campaigns' messages failed")
    if queued:
        log.info("campaigns: %s messages queued", queued)
    return queued
