"""What the booking page reads from its links and forms, checked: the visitor's details
(a name, a WhatsApp number in the clinic's country unless it says another, the optional
DNI and insurance), the signature that keeps the review's hidden fields as the page wrote
them, and the visitor's address kept only as a keyed hash. Pure functions: a value that
does not pass is None or a list of the fields that failed."""

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

from bot.numbers import read_id
from bot.questions import looks_like_name
from channel.phones import e164

NAME_LIMIT = 80
DNI_LIMIT = 20
INSURANCE_LIMIT = 60
PHONE_LIMIT = 32
SIGNED = ("service", "pro", "slot", "day", "kind", "name", "phone", "dni", "insurance")
SIGNATURE_FIELD = "sig"


def clean(raw: str | None, limit: int) -> str | None:
    """One line of text as typed, trimmed; None when empty, too long or holding control
    characters (a NUL included) that no person types into a form."""
    value = (raw or "").strip()
    if not value or len(value) > limit:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in value):
        return None
    return value


def whatsapp_number(raw: str | None, region: str | None) -> str | None:
    """The number in E.164, read in the clinic's country unless it starts with `+`; None
    unless phonenumbers says it is a valid number."""
    value = clean(raw, PHONE_LIMIT)
    if value is None:
        return None
    number = e164(value, region)
    if number is None or not phonenumbers.is_valid_number(phonenumbers.parse(number)):
        return None
    return number


@dataclass(frozen=True)
class Details:
    name: str
    phone: str
    dni: str | None
    insurance: str | None


def read_details(
    form: Mapping[str, str], region: str | None, asks_dni: bool, asks_insurance: bool
) -> tuple[Details | None, list[str]]:
    """The details step's answers, or the fields that need another look."""
    wrong: list[str] = []
    name = clean(form.get("name"), NAME_LIMIT)
    if name is None or not looks_like_name(name):
        wrong.append("name")
    phone = whatsapp_number(form.get("phone"), region)
    if phone is None:
        wrong.append("phone")
    dni = clean(form.get("dni"), DNI_LIMIT) if asks_dni else None
    if asks_dni and form.get("dni", "").strip() and dni is None:
        wrong.append("dni")
    insurance = clean(form.get("insurance"), INSURANCE_LIMIT) if asks_insurance else None
    if asks_insurance and form.get("insurance", "").strip() and insurance is None:
        wrong.append("insurance")
    if wrong or name is None or phone is None:
        return None, wrong
    return Details(name, phone, dni, insurance), []


def professional_arg(raw: str | None) -> int | str | None:
    """`any` for "first available", an id, or "bad"."""
    if raw == "any":
        return None
    found = read_id(raw or "")
    return found if found is not None else "bad"


def signature(secret: str, slug: str, fields: Mapping[str, str]) -> str:
    """What the review's hidden fields say, signed: a changed field is refused."""
    message = "|".join([f"booking-page|{slug}", *(f"{k}={fields.get(k, '')}" for k in SIGNED)])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, slug: str, fields: Mapping[str, str]) -> bool:
    sent = (fields.get(SIGNATURE_FIELD) or "").encode("utf-8", "replace")
    return hmac.compare_digest(signature(secret, slug, fields).encode(), sent)


def client_key(secret: str, address: str | None) -> str:
    """The visitor's address as the rate limits count it, never stored as it is."""
    digest = hmac.new(secret.encode(), f"client|{address or ''}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def masked(name: str) -> str:
    """A person on a known phone as the page shows them to whoever typed the number: the
    first name and the initials of the rest ("Ana G.")."""
    first, *rest = name.split()
    return " ".join([first, *(f"{part[0]}." for part in rest if part)])


def attempt_token(secret: str, attempt_id: int) -> str:
    """The address of one attempt's page: its id and a signature, so ids cannot be walked."""
    mac = hmac.new(secret.encode(), f"web-attempt|{attempt_id}".encode(), hashlib.sha256)
    return f"{attempt_id}-{mac.hexdigest()[:20]}"


def attempt_id_from(secret: str, token: str) -> int | None:
    head, _, _ = token.partition("-")
    attempt_id = read_id(head)
    if attempt_id is None or len(token) > 40:
        return None
    return attempt_id if hmac.compare_digest(attempt_token(secret, attempt_id), token) else None
