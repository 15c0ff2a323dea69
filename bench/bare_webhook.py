"""The floor webhook_throughput.py compares Turnero's webhook with: a Flask app whose only
route, POST /whatsapp/inbound, checks the Twilio signature exactly as `webhook.py` does
(RequestValidator over PUBLIC_BASE_URL + the raw path) and answers empty TwiML.

With `keep=True` it also keeps each message as Turnero accepts one, and nothing more: one
`store.conversations.record_inbound` (a single insert, committed) on a `store.driver.Raw`
connection of DATABASE_URL's. The gap between the two is what any webhook pays that
keeps what it acknowledges before it has read or decided anything.

Served as `gunicorn --chdir bench 'bare_webhook:create_app()'`; reads TWILIO_AUTH_TOKEN,
PUBLIC_BASE_URL and (with keep) DATABASE_URL from the environment."""

import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def create_app(keep: bool = False) -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    keeper = _keeper(os.environ["DATABASE_URL"]) if keep else None

    @app.post("/whatsapp/inbound")
    def inbound() -> Response:
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if not raw:
            query = request.query_string.decode()
            raw = request.path + (f"?{query}" if query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(base + raw, request.form, signature):
            abort(403)
        if keeper is not None:
            keeper(request.form)
        return Response(EMPTY_TWIML, mimetype="text/xml")

    return app


def _keeper(url: str):  # type: ignore[no-untyped-def]
    from store.conversations import inbound_row, record_inbound
    from store.db import make_engine
    from store.driver import raw

    engine = make_engine(url)

    def keep(form) -> None:  # type: ignore[no-untyped-def]
        with raw(engine) as db:
            record_inbound(
                db,
                inbound_row(
                    message_sid=form.get("MessageSid", ""),
                    clinic_id=None,
                    from_phone=form.get("From", "").removeprefix("whatsapp:"),
                    to_phone=form.get("To", "").removeprefix("whatsapp:"),
                    body=form.get("Body", ""),
                    num_media=0,
                    fields=dict(form.items()),
                    now=datetime.now(UTC),
                ),
            )

    return keep
