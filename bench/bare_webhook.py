"""The floor webhook_throughput.py compares Turnero's webhook with: a Flask app whose only
route, POST /whatsapp/inbound, checks the Twilio signature exactly as `webhook.py` does
(RequestValidator over PUBLIC_BASE_URL + the raw path) and answers empty TwiML.

Served as `gunicorn --chdir bench 'bare_webhook:create_app()'`; reads TWILIO_AUTH_TOKEN and
PUBLIC_BASE_URL from the environment."""

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def create_app() -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")

    @app.post("/whatsapp/inbound")
    def inbound() -> Response:
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if not raw:
            query = request.query_string.decode()
            raw = request.path + (f"?{query}" if query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(base + raw, request.form, signature):
            abort(403)
        return Response(EMPTY_TWIML, mimetype="text/xml")

    return app
