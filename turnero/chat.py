"""`turnero chat`: a terminal WhatsApp. Your lines go to the webhook as signed Twilio
requests; the bot's replies are read back from the sandbox and printed."""

import sys
import time
from collections.abc import Callable

import requests
from twilio.request_validator import RequestValidator

from channel.inbound_form import inbound_form
from config.settings import Settings

HELP = "(/audio sends a voice note, /tap ID taps a button, /quit leaves)"


def signed_post(
    session: requests.Session, base_url: str, signing_base: str, token: str, form: dict[str, str]
) -> requests.Response:
    """POST the form to /whatsapp/inbound signed as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(
        signing_base.rstrip("/") + "/whatsapp/inbound", form
    )
    return session.post(
        base_url.rstrip("/") + "/whatsapp/inbound",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=20,
    )


def run_chat(
    settings: Settings,
    phone: str,
    clinic_number: str,
    url: str | None = None,
    read_line: Callable[[], str] = input,
    wait_seconds: float = 8.0,
) -> int:
    """Chat until /quit or the end of input; 1 when no web app answers at the address."""
    base = url or settings.public_base_url
    # the app checks signatures against its public URL: unless one is configured, the
    # address it is reached at (as `turnero demo --port` serves it)
    signing_base = settings.public_base_url if url is None or _configured(settings) else url
    http = requests.Session()
    try:
        last_id = _latest_id(http, base, phone)
    except requests.ConnectionError:
        print(
            f"No Turnero web app answers at {base}: start one with `turnero demo`"
            " (or give its address with --url).",
            file=sys.stderr,
        )
        return 1
    print(f"You are {phone}, writing to the clinic's WhatsApp {clinic_number}. {HELP}")
    while True:
        try:
            line = read_line()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip() == "/quit":
            return 0
        form = inbound_form(phone, clinic_number, line, settings.account_sid)
        try:
            answer = signed_post(http, base, signing_base, settings.webhook_auth_token, form)
        except requests.ConnectionError:
            print(f"[the web app at {base} stopped answering]", file=sys.stderr)
            return 1
        if answer.status_code >= 400:
            print(f"[webhook answered {answer.status_code}: {answer.text.strip()}]")
            continue
        last_id = _print_replies(http, base, phone, last_id, wait_seconds)


def _configured(settings: Settings) -> bool:
    """Whether PUBLIC_BASE_URL was set, rather than left at its default."""
    return "public_base_url" in settings.model_fields_set


def _latest_id(http: requests.Session, base: str, phone: str) -> int:
    last = 0
    while batch := _fetch(http, base, phone, last):
        last = batch[-1]["id"]
    return last


def _fetch(http: requests.Session, base: str, phone: str, after: int) -> list[dict]:
    answer = http.get(
        base.rstrip("/") + "/sandbox/messages",
        params={"to": phone, "after": str(after)},
        timeout=10,
    )
    return answer.json() if answer.ok else []


def _print_replies(
    http: requests.Session, base: str, phone: str, last_id: int, wait_seconds: float
) -> int:
    """Print replies as they come; stop shortly after the last one (or after a while)."""
    deadline = time.monotonic() + wait_seconds
    seen_any = False
    while time.monotonic() < deadline:
        batch = _fetch(http, base, phone, last_id)
        for message in batch:  # in order; one still waiting to be sent holds the rest
            print("\n".join(f"  🏥 {line}" for line in message["body"].splitlines()))
            if message.get("sent", True):
                print()
            else:  # the patient would never see it: say so, and why
                why = message.get("error_message") or message.get("error_code") or ""
                print(f"  ✗ not sent ({message['status']}{': ' + why if why else ''})\n")
            last_id = message["id"]
            seen_any = True
        if seen_any and not batch:
            break
        time.sleep(0.25)
    if not seen_any:
        print("  (no reply)", file=sys.stderr)
    return last_id
