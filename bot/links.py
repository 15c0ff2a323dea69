"""The self-service link of an appointment: its id signed with the secret key, so it
cannot be guessed or altered. It needs no expiry of its own: the page refuses it once the
appointment is over, which follows the appointment when it is moved."""

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "self-service"
PATH = "/a/"


def appointment_token(secret: str, appointment_id: int) -> str:
    return str(URLSafeSerializer(secret, salt=SALT).dumps(appointment_id))


def appointment_id_from(secret: str, token: str) -> int | None:
    """The appointment a token names, or None for anything tampered or malformed."""
    try:
        value = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def self_service_url(base_url: str, secret: str, appointment_id: int) -> str:
    return f"{base_url.rstrip('/')}{PATH}{appointment_token(secret, appointment_id)}"


def token_in(base_url: str, url: str) -> str | None:
    """The token of a self-service link under `base_url` (query and fragment ignored), or
    None for any other text: what a kiosk's QR scanner typed, not yet verified."""
    prefix = f"{base_url.rstrip('/')}{PATH}"
    path = url.strip().split("#", 1)[0].split("?", 1)[0]
    if path[: len(prefix)].lower() != prefix.lower():
        return None
    token = path[len(prefix) :]
    return token if token and "/" not in token else None


@dataclass(frozen=True)
class Links:
    """Where self-service links point and what signs them: what a pass that writes
    messages about appointments needs (`links(appointment_id)` is one's link)."""

    base_url: str
    secret: str

    def __call__(self, appointment_id: int) -> str:
        return self_service_url(self.base_url, self.secret, appointment_id)
