"""What the self-service page reads from its links and forms, checked: the form key that
shows a post came from the page itself, the page language, a day and a slot. Pure
functions; a value that does not parse is None, and the page answers 400."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.locale import LANGUAGES
from bot.numbers import read_id

FORM_KEY_FIELD = "form_key"
NOTICES = frozenset(
    {
        "confirmed",
        "already_confirmed",
        "cancelled",
        "already_cancelled",
        "rescheduled",
        "too_late",
        "not_changeable",
        "taken",
        "offer_taken",
        "offer_gone",
    }
)
MAX_FIELD_CHARS = 64  # a slot or a day is far shorter; anything longer is not ours


def form_key(secret: str, token: str) -> str:
    """The hidden field of the page's forms: another site that posts to a link it somehow
    learned cannot make it without the secret key."""
    message = f"self-service-form|{token}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def form_key_matches(secret: str, token: str, sent: str | None) -> bool:
    """Compared as bytes: `compare_digest` refuses a str with non-ASCII characters."""
    expected = form_key(secret, token).encode()
    return bool(sent) and hmac.compare_digest(expected, (sent or "").encode("utf-8", "replace"))


def pick_language(asked: str | None, patient: str | None, clinic: str | None) -> str:
    """`?lang=` when it names a language we have, else the patient's, else the clinic's."""
    for candidate in (asked, patient, clinic):
        if candidate in LANGUAGES:
            return candidate or "es"
    return "es"


def parse_day(raw: str | None) -> date | None:
    """An ISO day (2026-12-01); None for anything else."""
    if not raw or len(raw) > MAX_FIELD_CHARS:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class SlotChoice:
    """A time offered on the page: its start in UTC and the professional it is with."""

    starts_at: datetime
    professional_id: int

    def encode(self) -> str:
        return f"{self.professional_id}|{self.starts_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def parse_slot(raw: str | None) -> SlotChoice | None:
    """A slot as `encode` wrote it; None for anything else (no zone, bad numbers)."""
    if not raw or len(raw) > MAX_FIELD_CHARS or raw.count("|") != 1:
        return None
    professional, moment = raw.split("|")
    professional_id = read_id(professional)
    if professional_id is None or not moment.endswith("Z"):
        return None
    try:
        starts_at = datetime.strptime(moment, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return SlotChoice(starts_at, professional_id)
