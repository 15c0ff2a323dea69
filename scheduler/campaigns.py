"""The scheduled campaigns' start: every minute, the campaigns whose time has come have
their recipients fixed and their messages queued (`usecases.campaigns.start`, which two
workers cannot both do for one campaign)."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.links import Links
from usecases.campaigns import start_due

log = logging.getLogger(__name__)


def campaigns_job(engine: Engine, clock: Callable[[], datetime], *, links: Links) -> int:
    """Start the due campaigns, logging instead of raising; how many messages they queued."""
    try:
        queued = start_due(engine, clock(), links)
    except Exception:
        log.exception("starting scheduled campaigns failed")
        return 0
    if queued:
        log.info("campaigns: %s messages queued", queued)
    return queued
