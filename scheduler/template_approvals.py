"""The worker's periodic question to Twilio about the WhatsApp templates still waiting
for WhatsApp's decision, so a template approved overnight is sent without anyone opening
the console."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from channel.base import TemplateApprover
from usecases.whatsapp_templates import Refreshed, refresh

log = logging.getLogger(__name__)
APPROVALS_SECONDS = 600  # WhatsApp decides in minutes to two days: every ten minutes is plenty


def approvals_job(
    engine: Engine, channel: TemplateApprover, clock: Callable[[], datetime]
) -> Refreshed:
    """One run over every clinic's waiting templates, logging instead of raising."""
    try:
        report = refresh(engine, channel, clock())
    except Exception:
        log.exception("template approvals could not be refreshed")
        return Refreshed()
    if report.changed or report.failed:
        log.info(
            "templates: %s asked, %s changed, %s not answered",
            report.asked,
            report.changed,
            report.failed,
        )
    return report
