"""The process that runs the outbox dispatcher every few seconds, and the due-notifications
pass, the end-of-day no-show pass and the resumption of quiet takeovers every minute (and,
through Twilio, the WhatsApp templates' approvals every ten), with APScheduler 3. Nothing
due is kept in APScheduler's job store: each run asks the store."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from bot import locale
from bot.links import Links
from channel.base import Channel, TemplateApprover
from scheduler.campaigns import campaigns_job
from scheduler.day_loads import DAY_LOADS_SECONDS, day_loads_job
from scheduler.dispatcher import (
    CLAIM_TIMEOUT,
    SENDS_AT_ONCE,
    DispatchReport,
    dispatch_due,
    reconcile_stale,
)
from scheduler.notifications import notifications_job
from scheduler.outcomes import auto_no_show_job
from scheduler.pacing import Pacer
from scheduler.report_days import REPORT_DAYS_SECONDS, report_days_job
from scheduler.template_approvals import APPROVALS_SECONDS, approvals_job
from scheduler.waitlist import waitlist_job
from store.db import transaction
from store.heartbeat import beat
from store.sender_paces import StorePaces
from store.takeover import resume_quiet

log = logging.getLogger(__name__)


class _StillRunning(logging.Filter):
    """A run skipped because the previous one is still going is what `max_instances=1`
    is for (a long paced dispatch spans many ticks): told at DEBUG, not as a warning at
    every tick."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" in str(record.msg):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


STILL_RUNNING = _StillRunning()

DISPATCH_JOB_ID = "dispatch_outbox"
NOTIFICATIONS_JOB_ID = "due_notifications"
WAITLIST_JOB_ID = "waitlist"
NO_SHOWS_JOB_ID = "end_of_day_no_shows"
RESUME_JOB_ID = "resume_quiet_takeovers"
DAY_LOADS_JOB_ID = "day_loads"
REPORT_DAYS_JOB_ID = "report_days"
APPROVALS_JOB_ID = "template_approvals"
CAMPAIGNS_JOB_ID = "scheduled_campaigns"


def dispatch_job(
    engine: Engine,
    channel: Channel,
    clock: Callable[[], datetime],
    limit: int = 50,
    claim_timeout: timedelta = CLAIM_TIMEOUT,
    pacer: Pacer | None = None,
    sends_at_once: int = SENDS_AT_ONCE,
) -> DispatchReport:
    """One scheduled run: first settle sends cut off by a crash (before anything could
    retry them), then dispatch what is due, again while full batches come back (a
    backlog drains in one run), logging instead of raising. The run beats before its
    first batch and after each one (`store.heartbeat`, read by `/readyz`)."""
    _beat(engine, clock)
    try:
        reconciled = reconcile_stale(engine, channel, clock(), claim_timeout)
        if reconciled.total:
            log.info(
                "outbox: cut-off sends settled: %s found at Twilio, %s to retry, %s unconfirmed",
                reconciled.found,
                reconciled.released,
                reconciled.unconfirmed,
            )
    except Exception:
        log.exception("outbox reconciliation failed")
    total = DispatchReport()
    pacer = pacer or Pacer(StorePaces(engine))
    while True:
        try:
            report = dispatch_due(
                engine,
                channel,
                clock(),
                limit,
                pacer=pacer,
                sends_at_once=sends_at_once,
                send_budget=claim_timeout / 2,
            )
        except Exception:
            log.exception("outbox dispatch failed")
            break
        _beat(engine, clock)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.skipped += report.skipped
        total.released += report.released
        total.unanswered += report.unanswered
        if report.total < limit:
            break
    if total.total:
        log.info(
            "outbox: %s sent, %s retried, %s failed, %s skipped",
            total.sent,
            total.retried,
            total.failed,
            total.skipped,
        )
    return total


def _beat(engine: Engine, clock: Callable[[], datetime]) -> None:
    try:
        beat(engine, clock())
    except Exception:
        log.exception("the worker's heartbeat could not be recorded")


def resume_job(engine: Engine, clock: Callable[[], datetime]) -> int:
    """Hand back to the bot the conversations whose staff have been quiet for the clinic's
    `bot_resume_after_minutes` (see `store.takeover`), logging instead of raising."""
    try:
        with transaction(engine) as session:
            resumed = resume_quiet(session, clock())
    except Exception:
        log.exception("resuming quiet takeovers failed")
        return 0
    if resumed:
        log.info("takeover: %s conversations handed back to the bot", resumed)
    return resumed


def run_worker(
    engine: Engine,
    channel: Channel,
    interval_seconds: float = 2.0,
    block: bool = True,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    links: Links | None = None,
    notifications_interval_seconds: float = 60.0,
    pacer: Pacer | None = None,
    sends_at_once: int = SENDS_AT_ONCE,
    claim_timeout: timedelta = CLAIM_TIMEOUT,
) -> BaseScheduler:
    """Run the dispatcher every `interval_seconds` and, given `links`, the campaigns as
    often, and the due notifications and the end-of-day no-shows every
    `notifications_interval_seconds`: in
    this thread until shut down (`block=True`), or in a background thread (`block=False`,
    returns the running scheduler; call `.shutdown()` to stop it). Runs of a job never
    overlap, and missed runs collapse into one. Each sender's pace is kept in `pacer`'s
    shared schedules (by default the database's), so that every worker's dispatcher
    keeps to the sender's rate together. A send left "sending" longer than `claim_timeout`
    was cut off (its worker died) and is settled by whichever dispatcher runs next."""
    locale.configure()  # the jobs write messages
    logging.getLogger("apscheduler.scheduler").addFilter(STILL_RUNNING)
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if block else BackgroundScheduler(timezone=UTC)
    )

    def every(seconds: float, job: Callable[..., Any], job_id: str, **kwargs: Any) -> None:
        """Run `job(engine, ...)` every `seconds`; runs never overlap, missed runs collapse
        into one, and however late a run is, it still runs (the store says what is due)."""
        scheduler.add_job(
            job,
            "interval",
            args=(engine, *kwargs.pop("args", (clock,))),
            kwargs=kwargs,
            seconds=seconds,
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )

    dispatch = {
        "pacer": pacer or Pacer(StorePaces(engine)),
        "sends_at_once": sends_at_once,
        "claim_timeout": claim_timeout,
    }
    every(interval_seconds, dispatch_job, DISPATCH_JOB_ID, args=(channel, clock), **dispatch)
    every(notifications_interval_seconds, resume_job, RESUME_JOB_ID)
    every(DAY_LOADS_SECONDS, day_loads_job, DAY_LOADS_JOB_ID)
    every(REPORT_DAYS_SECONDS, report_days_job, REPORT_DAYS_JOB_ID)
    if isinstance(channel, TemplateApprover):  # not the sandbox, which needs no templates
        every(APPROVALS_SECONDS, approvals_job, APPROVALS_JOB_ID, args=(channel, clock))
    if links is not None:
        link_args = {"base_url": links.base_url, "secret": links.secret}
        every(notifications_interval_seconds, waitlist_job, WAITLIST_JOB_ID, **link_args)
        every(notifications_interval_seconds, notifications_job, NOTIFICATIONS_JOB_ID, **link_args)
        every(notifications_interval_seconds, auto_no_show_job, NO_SHOWS_JOB_ID)
        every(
            interval_seconds,
            campaigns_job,
            CAMPAIGNS_JOB_ID,
            links=links,
            interval_seconds=interval_seconds,
        )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")
        if scheduler.running:
            scheduler.shutdown(wait=False)
    return scheduler
