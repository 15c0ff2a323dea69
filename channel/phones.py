"""WhatsApp addresses to E.164 numbers, with `phonenumbers`."""

from functools import lru_cache

import phonenumbers

PREFIX = "whatsapp:"


@lru_cache(maxsize=8192)  # every message names two numbers, mostly ones seen before
def e164(address: str, region: str | None = None) -> str | None:
    """E.164 of an address ("whatsapp:+595981123456" → "+595981123456"); None if invalid."""
    raw = address.strip()
    if raw.lower().startswith(PREFIX):
        raw = raw[len(PREFIX) :]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(number: str) -> str | None:
    """The country a number written without its code belongs to, read from a number with
    one (a clinic's sender): "+595…" → "PY"."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region else None
