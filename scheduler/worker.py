"""The process that runs the dispatcher every few seconds with APScheduler 3. Nothing due
is kept in APScheduler's job store: each run asks the store."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from channel.base import Channel
from scheduler.dispatcher import DispatchReport, dispatch_due

log = logging.getLogger(__name__)

DISPATCH_JOB_ID = "dispatch_outbox"


def dispatch_job(
    engine: Engine, channel: Channel, clock: Callable[[], datetime], limit: int = 50
) -> DispatchReport:
    """One scheduled run: dispatch what is due, again while full batches come back (a
    backlog drains in one run), logging instead of raising."""
    total = DispatchReport()
    while True:
        try:
            report = dispatch_due(engine, channel, clock(), limit)
        except Exception:
            log.exception("outbox dispatch failed")
            break
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        if report.total < limit:
            break
    if total.total:
        log.info("outbox: %s sent, %s retried, %s failed", total.sent, total.retried, total.failed)
    return total


def run_worker(
    engine: Engine,
    channel: Channel,
    interval_seconds: float = 2.0,
    block: bool = True,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BaseScheduler:
    """Run the dispatcher every `interval_seconds`: in this thread until shut down
    (`block=True`), or in a background thread (`block=False`, returns the running
    scheduler; call `.shutdown()` to stop it). Runs never overlap, and missed runs
    collapse into one."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if block else BackgroundScheduler(timezone=UTC)
    )
    scheduler.add_job(
        dispatch_job,
        "interval",
        args=(engine, channel, clock),
        seconds=interval_seconds,
        id=DISPATCH_JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")
        if scheduler.running:
            scheduler.shutdown(wait=False)
    return scheduler
