"""The staff console: a server-rendered Flask blueprint under `/console` for the front desk
and the clinic's admins. Pages read and change the store through `store.*` functions, one
transaction per request; every label comes from `locales/console.*.yml`."""

from flask import Flask

from config.settings import Settings
from web.console.common import IDLE_TIMEOUT, console, csrf


def init_console(app: Flask, config: Settings) -> None:
    """Register the console. CSRF is checked on the console's own forms only (its
    `before_request`), so Twilio's webhook, the admin API and the patient's page, which
    have their own checks, are untouched."""
    from web.console import (  # noqa: F401  (routes)
        accounts,
        agenda,
        auth,
        block_offs,
        campaigns,
        catalog,
        desk_booking,
        failed,
        inbox,
        kiosk,
        moves,
        notification_rules,
        patients,
        public_page,
        reports,
        requests,
        room_screen,
        settings,
        simulator,
        surveys,
        templates,
        waiting_room,
        waiting_rules,
        whatsapp_connection,
        whatsapp_templates,
    )

    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which expires
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_base_url.startswith("https://"),
        SESSION_COOKIE_NAME="turnero_console",
        PERMANENT_SESSION_LIFETIME=IDLE_TIMEOUT,
    )
    csrf.init_app(app)
    app.register_blueprint(console)
