"""The templates page's order: each text the bot sends in the group of what it is for
(booking, reminders, the patient managing an appointment, …), not the file it lives in;
its plain name's label key; and the search that finds texts by name or by what they say."""

import unicodedata
from collections.abc import Iterable

GROUPS = (
    "booking",
    "reminders",
    "manage",
    "waitlist",
    "after_visit",
    "requests",
    "arrival",
    "questions",
    "help",
    "optout",
    "desk",
)
BY_AREA = {
    "booking": "booking",
    "manage": "manage",
    "waitlist": "waitlist",
    "notification": "reminders",
    "automations": "after_visit",
    "requests": "requests",
    "arrival": "arrival",
    "faq": "questions",
    "optout": "optout",
    "console": "desk",
    "campaign": "desk",
    "assistant": "booking",  # the same booking, through another channel
}
HELP = frozenset(
    {
        "booking.not_understood",
        "booking.greeted_again",
        "booking.name_invalid",
        "booking.media_unsupported",
        "booking.please_wait",
        "booking.help",
        "booking.language_changed",
        "booking.human",
        "booking.you_are_welcome",
        "booking.timed_out",
        "booking.stale_tap",
        "booking.stale_tap_idle",
        "interactive.list_button",
        "assistant.phone_invalid",
    }
)
MOVED = {
    "notification.waitlist_offer": "waitlist",
    "assistant.appointment": "manage",
    "assistant.not_found": "manage",
    "assistant.cancelled": "manage",
}


def group_of(key: str) -> str:
    """The group of a text: help and errors wherever they live, an offer of a freed place
    with the waitlist, a text with buttons beside the plain one it stands for."""
    if key in HELP:
        return "help"
    if key in MOVED:
        return MOVED[key]
    area, _, name = key.partition(".")
    if area == "interactive":  # interactive.booking_ask_time stands for booking.ask_time
        return group_of(name.replace("_", ".", 1))
    return BY_AREA[area]


def name_label(key: str) -> str:
    """The console label that names a text in plain words."""
    return "text_" + key.replace(".", "_")


def folded(words: str) -> str:
    """Lower case without accents, so «dia» finds «día»."""
    decomposed = unicodedata.normalize("NFKD", words.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(query: str, fields: Iterable[str]) -> bool:
    """Whether every word of the query is in one of the fields (accents and case aside)."""
    haystack = folded(" ".join(fields))
    return all(word in haystack for word in folded(query).split())
