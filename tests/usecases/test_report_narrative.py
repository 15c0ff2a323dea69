"""The findings' narrative against a local fake of an OpenAI-compatible API: what is sent
(aggregated figures only, never a patient's name, phone or message), what comes back,
and every way the API can fail without an exception."""

import json
import socket
import time

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session

from store.db import transaction
from store.models import OutboxMessage
from tests.narrative_support import WRITTEN, FakeApi, fake_api  # noqa: F401  (the fixture `api`)
from tests.report_support import FIRST, LAST, write_history
from tests.support import TestClinic
from usecases.report_basics import Report
from usecases.report_narrative import NarrativeEndpoint, facts_for_narrative, write_narrative
from usecases.reports import REPORTS, ReportQuery

SECRET_BODY = "Mi diagnóstico confidencial zq7"


@pytest.fixture
def reports(db: Engine, clinic: TestClinic) -> list[Report]:
    write_history(db, clinic)
    with transaction(db) as session:
        session.execute(update(OutboxMessage).values(body=SECRET_BODY))
    query = ReportQuery(clinic_id=clinic.id, first_day=FIRST, last_day=LAST)
    with Session(db) as session:
        return [build(session, query) for build in REPORTS.values()]


def endpoint(url: str, timeout: float = 5.0) -> NarrativeEndpoint:
    return NarrativeEndpoint(url=url, model="small-model", api_key="sk-test-key", timeout=timeout)


def test_the_narrative_is_asked_of_the_figures_and_comes_back(
    api: FakeApi, reports: list[Report]
) -> None:
    found = write_narrative(reports, "gn", endpoint(api.url))
    assert found.text == WRITTEN and found.reason is None
    [sent] = api.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-key"
    body = json.loads(sent["raw"])
    assert body["model"] == "small-model" and body["temperature"] == 0.2
    system, user = body["messages"]
    assert system["role"] == "system" and "Guarani (Paraguay)" in system["content"]
    assert user["role"] == "user"
    assert json.loads(user["content"]) == json.loads(
        json.dumps(facts_for_narrative(reports), ensure_ascii=False)
    )
    assert "Dra. Ana Benítez" in user["content"]  # staff, with their figures


def test_no_patient_name_phone_or_message_is_ever_sent(api: FakeApi, reports: list[Report]) -> None:
    write_narrative(reports, "es", endpoint(api.url))
    [sent] = api.requests
    raw = sent["raw"]
    decoded = json.dumps(json.loads(raw), ensure_ascii=False)
    for said in (raw, decoded):
        for secret in ("María", "Pérez", "Maria", "Perez", SECRET_BODY, "zq7"):
            assert secret.lower() not in said.lower()
        for phone in ("+595981000001", "595981000001", "0981000001", "981000001"):
            assert phone not in said


@pytest.mark.parametrize(
    ("mode", "reason"), [("error", "refused"), ("garbage", "unreadable"), ("huge", "unreadable")]
)
def test_a_failing_api_gives_a_reason_not_an_exception(
    api: FakeApi, reports: list[Report], mode: str, reason: str
) -> None:
    api.mode = mode
    found = write_narrative(reports, "es", endpoint(api.url))
    assert found.text is None and found.reason == reason


def test_a_slow_api_is_given_up_on(api: FakeApi, reports: list[Report]) -> None:
    api.mode = "slow"
    started = time.monotonic()
    found = write_narrative(reports, "es", endpoint(api.url, timeout=0.3))
    assert found.reason == "unreachable" and found.text is None
    assert time.monotonic() - started < 1.2


def test_an_api_not_listening_is_unreachable(reports: list[Report]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = write_narrative(reports, "es", endpoint(f"http://127.0.0.1:{port}/v1", timeout=1))
    assert found.reason == "unreachable"


def test_without_a_url_nothing_is_sent(api: FakeApi, reports: list[Report]) -> None:
    assert write_narrative(reports, "es", None).reason == "off"
    assert write_narrative(reports, "es", endpoint("")).reason == "off"
    assert api.requests == []
