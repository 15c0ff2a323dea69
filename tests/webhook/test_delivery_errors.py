"""Status callbacks and Twilio's error codes, through the real webhook and the real twilio
client against the fake Twilio: every status lands, an invalid number or a block flags the
phone and business-initiated messages skip it afterwards, rate limits back off with jitter,
and every code has words for the failed-messages panel in each language."""

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from bot.locale import LANGUAGES, LOCALES_DIR
from scheduler.dispatcher import MAX_ATTEMPTS, dispatch_due
from store.dispatch import RECIPIENT_BLOCKED, RECIPIENT_INVALID
from store.error_codes import RATE_LIMIT_FIRST, Action, action_for, rate_limit_delay
from tests.notification_support import writes
from tests.support import Clock, add_patient
from tests.window_support import (
    Live,
    add_clinic,
    events,
    live,
    queue_message,
    row,
    rows,
    unreachable,
)
from web.console.error_words import error_words

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"
PHONE = "+595981000001"
OTHER = "+595981000002"


@pytest.fixture
def clinic_id(db: Engine) -> int:
    clinic_id = add_clinic(db, CLINIC_NUMBER)
    for phone in (PHONE, OTHER):
        add_patient(db, clinic_id, phone, "Rosa Giménez")
        writes(db, clinic_id, phone, NOW - timedelta(hours=1))  # inside the window
    return clinic_id


@pytest.fixture
def server(db: Engine, clock: Clock) -> Iterator[Live]:
    with live(db, clock) as running:
        yield running


def send(db: Engine, server: Live, clinic_id: int, key: str, to: str = PHONE, **kw: object) -> str:
    """Queue and dispatch one message; its Twilio SID."""
    queue_message(db, clinic_id, key, to, NOW, **kw)  # type: ignore[arg-type]
    dispatch_due(db, server.channel, NOW)
    sid = row(db, key).twilio_sid
    assert sid is not None
    return sid


# -- every status --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("queued", None),
        ("sending", None),
        ("sent", None),
        ("delivered", None),
        ("read", None),
        ("failed", "30008"),
        ("undelivered", "30003"),
    ],
)
def test_each_status_lands_through_the_signed_webhook(
    db: Engine, clinic_id: int, server: Live, status: str, code: str | None
) -> None:
    sid = send(db, server, clinic_id, "m1")
    [answer] = server.fake.emit_statuses(sid, [(status, code) if code else status])
    assert answer["response_status"] == 204
    message = row(db, "m1")
    assert (message.status, message.error_code) == (status, code)
    assert events(db) == [(sid, status, code)]


def test_statuses_we_do_not_track_are_kept_but_move_nothing(
    db: Engine, clinic_id: int, server: Live
) -> None:
    sid = send(db, server, clinic_id, "m1")
    server.fake.emit_statuses(sid, ["canceled", "scheduled"])
    assert row(db, "m1").status == "queued"
    assert [e[1] for e in events(db)] == ["canceled", "scheduled"]


def test_a_forged_callback_is_refused(db: Engine, clinic_id: int, server: Live) -> None:
    import requests

    sid = send(db, server, clinic_id, "m1")
    answer = requests.post(
        server.url + "/whatsapp/status",
        data={"MessageSid": sid, "MessageStatus": "read"},
        headers={"X-Twilio-Signature": "forged"},
        timeout=5,
    )
    assert answer.status_code == 403
    assert row(db, "m1").status == "queued" and events(db) == []


# -- invalid numbers and blocks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"), [("63003", "undelivered"), ("63024", "failed"), ("21211", "failed")]
)
def test_an_invalid_number_is_flagged_and_skipped_afterwards(
    db: Engine, clinic_id: int, server: Live, code: str, status: str
) -> None:
    add_patient(db, clinic_id, PHONE, "Hijo de Rosa")  # two people share the phone
    server.fake.fail_delivery(PHONE, code, status)
    send(db, server, clinic_id, "m1", kind="reminder")
    server.fake.wait_for_callbacks()

    assert (row(db, "m1").status, row(db, "m1").error_code) == (status, code)
    assert unreachable(db, clinic_id, PHONE) == {"invalid"}
    assert unreachable(db, clinic_id, OTHER) == {None}

    queue_message(db, clinic_id, "later", PHONE, NOW, kind="reminder")
    queue_message(db, clinic_id, "other", OTHER, NOW, kind="reminder")
    queue_message(db, clinic_id, "answer", PHONE, NOW, kind="reply")
    report = dispatch_due(db, server.channel, NOW)
    assert (report.sent, report.skipped) == (2, 1)
    assert (row(db, "later").status, row(db, "later").error_message) == (
        "skipped",
        RECIPIENT_INVALID,
    )
    assert row(db, "answer").twilio_sid is not None  # the patient wrote: answered


def test_twilio_refusing_the_number_at_once_flags_it_without_retrying(
    db: Engine, clinic_id: int, server: Live
) -> None:
    server.fake.fail_next(1, http_status=400, code=21211)
    queue_message(db, clinic_id, "m1", PHONE, NOW, kind="reminder")

    report = dispatch_due(db, server.channel, NOW)

    assert (report.failed, report.retried) == (1, 0)
    message = row(db, "m1")
    assert (message.status, message.error_code, message.attempts) == ("failed", "21211", 1)
    assert unreachable(db, clinic_id, PHONE) == {"invalid"}
    assert dispatch_due(db, server.channel, NOW + timedelta(hours=2)).total == 0


def test_a_patient_who_blocked_the_clinic_gets_nothing_business_initiated_again(
    db: Engine, clinic_id: int, server: Live
) -> None:
    sid = send(db, server, clinic_id, "m1", kind="reminder")
    server.fake.emit_statuses(sid, ["sent", ("undelivered", "63014")])

    assert (row(db, "m1").status, row(db, "m1").error_code) == ("undelivered", "63014")
    assert unreachable(db, clinic_id, PHONE) == {"blocked"}

    for kind in ("reminder", "confirmation"):
        queue_message(db, clinic_id, kind, PHONE, NOW, kind=kind)
    assert dispatch_due(db, server.channel, NOW).skipped == 2
    assert {row(db, k).error_message for k in ("reminder", "confirmation")} == {RECIPIENT_BLOCKED}
    assert len(server.fake.messages) == 1


# -- rate limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["63018", "63017"])
def test_a_rate_limit_reported_by_callback_sends_again_later(
    db: Engine, clinic_id: int, server: Live, code: str
) -> None:
    first = send(db, server, clinic_id, "m1", kind="reminder")
    server.fake.emit_statuses(first, [("failed", code)])

    waiting = row(db, "m1")
    assert (waiting.status, waiting.twilio_sid, waiting.error_code) == ("pending", None, code)
    delay = waiting.next_attempt_at - NOW
    assert RATE_LIMIT_FIRST <= delay <= RATE_LIMIT_FIRST * 1.5
    assert (
        dispatch_due(db, server.channel, NOW + RATE_LIMIT_FIRST - timedelta(seconds=1)).total == 0
    )

    assert dispatch_due(db, server.channel, NOW + delay).sent == 1
    again = row(db, "m1")
    assert again.status == "queued" and again.twilio_sid not in (None, first)
    assert again.attempts == 2
    assert len(server.fake.messages) == 2
    # a late duplicate of the old failure changes nothing
    server.fake.emit_statuses(first, [("failed", code)])
    assert row(db, "m1").status == "queued"


def test_a_rate_limit_that_never_lifts_gives_up(db: Engine, clinic_id: int, server: Live) -> None:
    server.fake.fail_delivery(PHONE, "63018", "failed")
    queue_message(db, clinic_id, "m1", PHONE, NOW, kind="reminder")
    later = NOW
    for _ in range(MAX_ATTEMPTS):
        dispatch_due(db, server.channel, later)
        server.fake.wait_for_callbacks()
        later += timedelta(hours=2)
    message = row(db, "m1")
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert dispatch_due(db, server.channel, later).total == 0
    assert len(server.fake.messages) == MAX_ATTEMPTS


@pytest.mark.parametrize(("http_status", "code"), [(429, 20429), (400, 63018), (429, 63017)])
def test_a_rate_limit_on_create_backs_off_with_jitter(
    db: Engine, clinic_id: int, server: Live, http_status: int, code: int
) -> None:
    server.fake.fail_next(1, http_status=http_status, code=code)
    queue_message(db, clinic_id, "m1", PHONE, NOW)

    report = dispatch_due(db, server.channel, NOW)

    assert report.retried == 1
    waiting = row(db, "m1")
    assert waiting.status == "pending" and waiting.error_code == str(code)
    assert RATE_LIMIT_FIRST <= waiting.next_attempt_at - NOW <= RATE_LIMIT_FIRST * 1.5
    assert dispatch_due(db, server.channel, waiting.next_attempt_at).sent == 1


def test_rate_limit_delays_grow_and_spread() -> None:
    rng = random.Random(6)
    first = [rate_limit_delay(1, rng.random) for _ in range(200)]
    assert min(first) >= timedelta(seconds=30) and max(first) <= timedelta(seconds=45)
    assert len(set(first)) > 150  # spread, not one instant
    assert timedelta(minutes=1) <= rate_limit_delay(2, rng.random) <= timedelta(seconds=90)
    assert rate_limit_delay(30, rng.random) <= timedelta(hours=1.5)


def test_codes_and_their_actions() -> None:
    assert action_for("63016") is Action.outside_window
    for code in ("21211", "63003", "63024"):
        assert action_for(code) is Action.invalid_number
    assert action_for("63014") is Action.blocked
    for code in ("63018", "63017", "20429"):
        assert action_for(code) is Action.rate_limited
    assert action_for("30008") is Action.none
    assert action_for(None) is Action.none


def test_other_codes_are_recorded_and_change_nothing_else(
    db: Engine, clinic_id: int, server: Live
) -> None:
    sid = send(db, server, clinic_id, "m1", kind="reminder")
    server.fake.emit_statuses(sid, [("undelivered", "30003")])
    assert (row(db, "m1").status, row(db, "m1").error_code) == ("undelivered", "30003")
    assert unreachable(db, clinic_id, PHONE) == {None}
    assert len(rows(db)) == 1


# -- words for the failed-messages panel ---------------------------------------------------

PANEL_CODES = [
    "63016",
    "63003",
    "21211",
    "21408",
    "21610",
    "63014",
    "63018",
    "63017",
    "63024",
    "63032",
    "30003",
    "30005",
    "30006",
    "30007",
    "30008",
    "63001",
    "63005",
    "63015",
    "63020",
    "63030",
    "63049",
    "63013",
    "63021",
    "21617",
    "21658",
    "11751",
    "30036",
]


def _locale(language: str) -> dict[str, str]:
    path = Path(LOCALES_DIR) / f"errors.{language}.yml"
    return {str(k): v for k, v in yaml.safe_load(path.read_text(encoding="utf-8")).items()}


def test_every_code_has_words_in_every_language_with_the_same_placeholders() -> None:
    spanish = _locale("es")
    assert set(PANEL_CODES) <= set(spanish)
    for language in LANGUAGES:
        entries = _locale(language)
        assert set(entries) == set(spanish), language
        for key, words in entries.items():
            assert re.findall(r"%\{(\w+)\}", words) == re.findall(r"%\{(\w+)\}", spanish[key])
            assert words.strip(), (language, key)
        if language != "es":
            assert sum(entries[k] == spanish[k] for k in PANEL_CODES) == 0, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_words_per_code_and_the_fallbacks(language: str) -> None:
    for code in PANEL_CODES:
        assert error_words(code, language) == _locale(language)[code]
        assert error_words(int(code), language) == _locale(language)[code]
    assert "12345" in error_words("12345", language)
    assert error_words("12345", language) != error_words("54321", language)
    assert error_words(None, language) == _locale(language)["none"]
    assert error_words("not a code", language) == _locale(language)["none"]
