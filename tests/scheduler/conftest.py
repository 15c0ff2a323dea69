"""The scheduler's tests' Twilio: the fake on a free port, reached through the real twilio
client (a module may bring its own, on a fake clock)."""

from collections.abc import Iterator

import pytest

from channel.twilio import TwilioChannel
from turnero.fake_twilio import FakeTwilio


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def channel(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)
