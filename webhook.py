"""The Flask app: Twilio's inbound and status-callback routes, and the wiring.

`create_app()` builds everything (nothing exists at import time), so
`gunicorn 'webhook:create_app()'` serves it."""

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import locale
from bot.links import self_service_url
from bot.numbers import read_count
from bot.render import default_templates
from channel.phones import e164
from channel.twilio import REFERENCE_FIELD
from config.logs import configure_logging
from config.settings import Settings
from config.tzcheck import use_packaged_tzdata
from store.db import make_engine
from store.dispatch import apply_status_callback
from usecases.clinic_view import CatalogCache
from usecases.inbound import Outcome, ReceivedMessage, handle_inbound
from web import admin_api, admin_campaigns, admin_reports  # noqa: F401  (their routes)
from web.booking_page import booking_page
from web.console import init_console
from web.health import health
from web.metrics import metrics
from web.request_ids import track_request_ids
from web.row_ids import RowIdConverter
from web.self_service import self_service

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BODY_CHARS = 4096  # WhatsApp's own limit; anything longer is cut before it is read
MOST_MEDIA = 10  # Twilio's most media items on one message; a larger NumMedia reads as this

whatsapp = Blueprint("whatsapp", __name__)


class _NoSessionForTwilio(SecureCookieSessionInterface):
    """Twilio's callbacks carry no cookie and use no session; opening one built a cookie
    serializer on every inbound message and status callback."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/whatsapp/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def create_app(
    settings: Settings | None = None, clock: Any = None, engine: Engine | None = None
) -> Flask:
    """The web app. Tests hand in their own clock and database engine."""
    settings = settings or Settings()
    # first, so every line is as asked: under any server's own root handlers too, or a
    # stderr one where it set up none (gunicorn's are its own loggers')
    configure_logging(settings.log_format)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.resolved_secret_key, MAX_CONTENT_LENGTH=256 * 1024)
    app.session_interface = _NoSessionForTwilio()
    track_request_ids(app)  # so every line a request logs, its hooks' too, carries its id
    if settings.trusted_proxies:  # otherwise a client could forge its forwarded address
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.extensions["turnero"] = {
        "settings": settings,
        "engine": engine or make_engine(settings.database_url),
        "validator": RequestValidator(settings.webhook_auth_token),
        "clock": clock or (lambda: datetime.now(UTC)),
        "catalogs": CatalogCache(),
        "link_for": partial(
            self_service_url, settings.public_base_url, settings.resolved_secret_key
        ),
    }
    app.register_blueprint(whatsapp)
    app.register_blueprint(admin_api.admin_api)
    app.register_blueprint(self_service)
    app.register_blueprint(booking_page)
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    init_console(app, settings)
    if settings.sandbox:
        from web.sandbox_feed import sandbox

        app.register_blueprint(sandbox)
    app.before_request(_refuse_nul)
    app.register_error_handler(HTTPException, _plain_error)
    use_packaged_tzdata()
    locale.configure()
    return app


def _wiring() -> dict[str, Any]:
    """What `create_app` wired: settings, engine, clock, ... (read once a request)."""
    return current_app.extensions["turnero"]


def _plain_error(error: HTTPException) -> Response:
    if admin_api.is_api_request():
        return admin_api.http_error(error)
    return Response(f"{error.code} {error.name}\n", status=error.code, mimetype="text/plain")


def _signed_url(settings: Settings) -> str:
    """The URL Twilio signed: the public base URL and the raw path and query, since behind
    a proxy the app does not see the scheme and host Twilio called."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        query = request.query_string.decode()
        raw = request.path + (f"?{query}" if query else "")
    return settings.public_base_url.rstrip("/") + raw


def _require_twilio_signature(wiring: dict[str, Any]) -> None:
    signature = request.headers.get("X-Twilio-Signature", "")
    url = _signed_url(wiring["settings"])
    if not signature or not wiring["validator"].validate(url, request.form, signature):
        abort(403)


def _twiml(text: str | None = None) -> Response:
    body = EMPTY_TWIML
    if text:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Message>{escape(text)}</Message></Response>"
        )
    return Response(body, mimetype="text/xml")


def _storable(value: str, limit: int = MAX_BODY_CHARS) -> str:
    """A field as it can be kept: cut to `limit`, without NUL characters (PostgreSQL's text
    refuses them; the message must still be kept, so they go rather than the message)."""
    return value.replace("\x00", "")[:limit]


def _refuse_nul() -> None:
    """A NUL character in a page's or the admin API's input is never meant: 400, before a
    database refuses it with a 500. (Twilio's webhook keeps the message instead.)"""
    if request.blueprint == "whatsapp":
        return
    values = [*request.args.values(), *request.form.values()]
    if not request.form:  # a JSON body: its escaped NUL counts too
        values.append(request.get_data(as_text=True).replace("\\u0000", "\x00"))
    if any("\x00" in value for value in values):
        abort(400, "NUL characters are not accepted")


@whatsapp.post("/whatsapp/inbound")
def inbound() -> Response:
    wiring = _wiring()
    _require_twilio_signature(wiring)
    form = request.form
    sender, receiver = e164(form.get("From", "")), e164(form.get("To", ""))
    sid = form.get("MessageSid", "")
    if not sid or not sender or not receiver:
        abort(400, "MessageSid, From and To are required")
    message = ReceivedMessage(
        message_sid=_storable(sid, 64),
        from_phone=sender,
        to_phone=receiver,
        body=_storable(form.get("Body", "")),
        num_media=read_count(form.get("NumMedia", ""), MOST_MEDIA),
        payload=_storable(form.get("ButtonPayload") or form.get("ListId") or "") or None,
        replied_sid=_storable(form.get("OriginalRepliedMessageSid", ""), 64) or None,
        fields={_storable(k, 64): _storable(v) for k, v in form.items()},
    )
    outcome = handle_inbound(
        wiring["engine"],
        message,
        wiring["clock"](),
        link_for=wiring["link_for"],
        catalogs=wiring["catalogs"],
    )
    if outcome is Outcome.unknown_clinic:
        log.warning("message to %s, which no clinic uses", receiver)
        return _twiml(default_templates("es")["system.unknown_clinic"])
    if outcome is Outcome.failed:  # kept for staff; the patient hears so, not silence
        return _twiml(default_templates("es")["system.kept_for_staff"])
    return _twiml()


@whatsapp.post("/whatsapp/status")
def status() -> Response:
    wiring = _wiring()
    _require_twilio_signature(wiring)
    sid = _storable(request.form.get("MessageSid", ""), 64)
    state = _storable(request.form.get("MessageStatus", ""), 32)
    if not sid or not state:
        abort(400, "MessageSid and MessageStatus are required")
    reference = request.args.get(REFERENCE_FIELD, "")
    apply_status_callback(
        wiring["engine"],
        message_sid=sid,
        status=state.lower(),
        error_code=_storable(request.form.get("ErrorCode", ""), 16) or None,
        now=wiring["clock"](),
        outbox_id=int(reference) if reference.isdigit() else None,
        to_phone=e164(request.form.get("To", "")),
    )
    return Response("", status=204)
