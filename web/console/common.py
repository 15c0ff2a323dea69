"""What every console page shares: the blueprint, the signed-in staff member, the
language, the navigation, and rendering a page with security headers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from flask_wtf.csrf import CSRFProtect

from bot.locale import LANGUAGES, text
from store.models import StaffRole, StaffUser
from web.app_context import ctx as ctx
from web.app_context import engine as engine
from web.app_context import now as now

console = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="pages",
    static_folder="static",
)
csrf = CSRFProtect()
IDLE_TIMEOUT = timedelta(hours=8)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
}
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation; shown when its endpoint exists and the role allows.
    Later sections add theirs here (`badge` counts what waits there, e.g. failed
    messages)."""

    endpoint: str
    label: str
    admin_only: bool = False
    badge: Callable[[StaffUser], int] | None = None
    shown: Callable[[], bool] | None = None  # e.g. the simulator, in the sandbox only


def sandbox_on() -> bool:
    """Nothing leaves the machine: no Twilio credentials (the simulator needs this)."""
    return bool(ctx("settings").sandbox)


def open_failures(user: StaffUser) -> int:
    """The failed messages of the user's clinic that nobody has handled yet."""
    from sqlmodel import Session

    from store.failed_panel import count_open

    with Session(engine()) as session:
        return count_open(session, user.clinic_id)


def open_requests(user: StaffUser) -> int:
    """The appointment requests of the user's clinic that wait for an answer."""
    from sqlmodel import Session

    from store.requests import count_open

    with Session(engine()) as session:
        return count_open(session, user.clinic_id)


def asking_for_staff(user: StaffUser) -> int:
    """The conversations of the user's clinic where a patient asked for a person."""
    from sqlmodel import Session

    from store.inbox import asking_for_staff as count_asking

    with Session(engine()) as session:
        return count_asking(session, user.clinic_id)


NAVIGATION: list[NavItem] = [
    NavItem("console.agenda", "nav_agenda"),
    NavItem("console.waiting_board", "nav_waiting_room"),
    NavItem("console.appointment_requests", "nav_requests", badge=open_requests),
    NavItem("console.inbox", "nav_inbox", badge=asking_for_staff),
    NavItem("console.patients", "nav_patients"),
    NavItem("console.surveys", "nav_surveys"),
    NavItem("console.campaign_list", "nav_campaigns"),
    NavItem("console.reports", "nav_reports", admin_only=True),
    NavItem("console.failed_messages", "nav_failed", badge=open_failures),
    NavItem("console.templates", "nav_templates", admin_only=True),
    NavItem("console.whatsapp_templates", "nav_whatsapp_templates", admin_only=True),
    NavItem("console.whatsapp_connection", "nav_whatsapp_connection", admin_only=True),
    NavItem("console.block_offs", "nav_block_offs", admin_only=True),
    NavItem("console.settings", "nav_settings", admin_only=True),
    NavItem("console.simulator", "nav_simulator", shown=sandbox_on),
]


def staff() -> StaffUser:
    """The signed-in staff member (the guard in `auth` makes sure there is one)."""
    user: StaffUser | None = g.get("staff")
    if user is None:
        abort(401)
    return user


def language() -> str:
    user: StaffUser | None = g.get("staff")
    if user is not None and user.language in LANGUAGES:
        return user.language
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return str(asked)
    return request.accept_languages.best_match(LANGUAGES) or "es"


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **tags: object) -> str:
        return text(f"console.{key}", lang, **tags)

    return t


def public(view: View) -> View:
    """A console page that needs no sign-in (the login page)."""
    view.console_public = True  # type: ignore[attr-defined]
    return view


def staff_required(view: View) -> View:
    """Any signed-in staff member, front desk or admin (the default of every page)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        staff()
        return view(*args, **kwargs)

    return cast(View, wrapper)


def admin_required(view: View) -> View:
    """Admins only; the front desk gets 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if staff().role != StaffRole.admin:
            abort(403)
        return view(*args, **kwargs)

    wrapper.console_admin = True  # type: ignore[attr-defined]
    return cast(View, wrapper)


def navigation(user: StaffUser | None) -> list[tuple[str, str, int, bool]]:
    """(url, label key, badge, current) of the sections this user may open."""
    from flask import url_for

    if user is None:
        return []
    items = []
    for item in NAVIGATION:
        if item.endpoint not in current_app.view_functions:
            continue
        if item.admin_only and user.role != StaffRole.admin:
            continue
        if item.shown and not item.shown():
            continue
        badge = item.badge(user) if item.badge else 0
        current = request.endpoint == item.endpoint
        items.append((url_for(item.endpoint), item.label, badge, current))
    return items


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A console page in the staff member's language."""
    lang = language()
    user: StaffUser | None = g.get("staff")
    body = render_template(
        f"console/{template}",
        lang=lang,
        t=translator(lang),
        user=user,
        nav=navigation(user),
        **context,
    )
    return Response(body, status=status, mimetype="text/html")


@console.after_request
def _secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response
