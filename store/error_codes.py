"""What Twilio's error codes mean for the outbox: send the approved template instead, flag
the number, suppress the phone, or back off and retry. Pure: the follow-ups themselves live
in `store.send_failures`, the words the failed-messages panel shows in
`locales/errors.*.yml`."""

import random
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum


class Action(StrEnum):
    outside_window = "outside_window"  # send the approved template instead; never text again
    invalid_number = "invalid_number"  # the number is not on WhatsApp: flag it, no retries
    blocked = "blocked"  # the patient blocked the clinic's number: suppress like an opt-out
    rate_limited = "rate_limited"  # back off and try again later
    none = "none"  # record the code; nothing else to do


_ACTIONS: dict[str, Action] = {
    "63016": Action.outside_window,
    "21211": Action.invalid_number,  # invalid 'To' number
    "21614": Action.invalid_number,  # 'To' is not a valid mobile number
    "63003": Action.invalid_number,  # the channel could not find the 'To' address
    "63024": Action.invalid_number,  # invalid message recipient
    "63014": Action.blocked,
    "63018": Action.rate_limited,  # WhatsApp rate or messaging limit
    "63017": Action.rate_limited,  # account over its total rate
    "20429": Action.rate_limited,  # Twilio's "Too Many Requests"
}

# Unreachable reasons kept on `Patient.unreachable`.
INVALID = "invalid"
BLOCKED = "blocked"

RATE_LIMIT_FIRST = timedelta(seconds=30)
RATE_LIMIT_MAX = timedelta(hours=1)
RATE_LIMIT_TRIES = 6  # a message the rate limit keeps refusing fails after this many tries


def action_for(code: str | None) -> Action:
    """What to do after Twilio refused or failed a message with `code`."""
    return _ACTIONS.get(code or "", Action.none)


def rate_limit_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """Wait after `attempts` tries refused by a rate limit: 30 s, 1 min, 2 min … ≤ 1 h,
    plus up to half again at random, so messages held back together do not return
    together."""
    base = min(RATE_LIMIT_FIRST * 2 ** max(attempts - 1, 0), RATE_LIMIT_MAX)
    return base * (1 + min(max(rand(), 0.0), 1.0) / 2)


# Since 30 September 2024 Twilio charges a processing fee for a message that ends
# "failed", except for these codes (its internal errors, validity expiry, account or
# fraud limits, SMS pumping protection, geo-permissions, and WhatsApp restrictions Meta
# imposes); an "undelivered" WhatsApp message is not charged. Source: Twilio's support
# article "Failed Message Processing Fees".
FAILED_UNBILLED = frozenset(
    {
        "12400", "20500", "20504", "30103", "30500", "63010", "63012",  # Twilio's own
        "30036",  # validity period expired
        "30002", "30454", "63038", "90010",  # account suspension, trial and fraud limits
        "30450",  # SMS pumping protection
        "21408",  # geo-permissions
        "63013", "63018", "63021", "63024", "63032",  # Meta's restrictions
        "30008",
    }
)  # fmt: skip
