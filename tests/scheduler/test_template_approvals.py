"""The worker asks Twilio about waiting WhatsApp templates by itself: one approved at
WhatsApp since is sent from then on; the sandbox, which needs no templates, has no job."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from channel.sandbox import SandboxChannel
from channel.twilio import TwilioChannel
from scheduler.template_approvals import approvals_job
from scheduler.worker import APPROVALS_JOB_ID, run_worker
from store.content_templates import template_for
from store.message_kinds import MessageKind
from tests import support
from turnero.fake_twilio import FakeTwilio
from usecases.whatsapp_templates import create_at_twilio

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def test_the_job_keeps_whatsapps_approval(
    db: Engine, clinic: support.TestClinic, fake: FakeTwilio
) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)
    created = create_at_twilio(db, channel, clinic.id, MessageKind.care, "es", NOW)
    assert approvals_job(db, channel, lambda: NOW).changed == 0  # still waiting

    fake.decide(created.content_sid or "", "approved")
    assert approvals_job(db, channel, lambda: NOW).changed == 1

    with Session(db) as session:
        found = template_for(session, clinic.id, "care", "es")
        assert found is not None and found.content_sid == created.content_sid


def test_only_a_channel_with_templates_gets_the_job(db: Engine, fake: FakeTwilio) -> None:
    twilio = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)
    for channel, expected in ((twilio, True), (SandboxChannel(), False)):
        worker = run_worker(db, channel, 60, block=False, clock=lambda: NOW)
        try:
            assert (worker.get_job(APPROVALS_JOB_ID) is not None) is expected
        finally:
            worker.shutdown(wait=True)
