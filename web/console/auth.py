"""Signing in and out of the console, and the guard every console request passes: a
signed-in, active staff member whose session has not been idle too long, and a CSRF
token on every form."""

from datetime import timedelta
from math import ceil
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlmodel import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from store.db import transaction
from store.models import StaffUser
from store.staff import (
    LoginLimit,
    check_credentials,
    locked_until,
    password_stamp,
    record_failure,
    signed_in,
)
from web.console.common import IDLE_TIMEOUT, console, csrf, engine, now, page, public

LIMIT = LoginLimit()
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Polled by open pages themselves: not a sign of activity.
PASSIVE = {"console.agenda_feed", "console.inbox_feed", "console.conversation_feed"}
ERRORS = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    422: "bad_request",
}


def _session_user() -> StaffUser | None:
    """The staff member of this session, or None (and the session emptied) when there is
    none, the account is gone or disabled, its password changed since the sign-in, or the
    session was idle too long."""
    staff_id, seen = session.get("staff_id"), session.get("seen")
    if staff_id is None:
        return None
    moment = now().timestamp()
    if not isinstance(seen, int | float) or not 0 <= moment - seen <= IDLE_TIMEOUT.total_seconds():
        session.clear()
        g.expired = True
        return None
    with Session(engine(), expire_on_commit=False) as reader:
        user = reader.get(StaffUser, staff_id)
    if user is None or not user.active or session.get("pw") != password_stamp(user):
        session.clear()
        return None
    if request.endpoint not in PASSIVE:
        session["seen"] = moment
    return user


@console.before_request
def _guard() -> Response | None:
    g.staff = _session_user()
    view = current_app.view_functions.get(request.endpoint or "")
    is_public = request.endpoint == "console.static" or getattr(view, "console_public", False)
    if g.staff is None and not is_public:
        args: dict[str, Any] = {"next": request.full_path.rstrip("?")}
        if g.get("expired"):
            args["notice"] = "expired"
        return redirect(url_for("console.login", **args), code=303)
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def _safe_next(target: str | None) -> str:
    """Back to the console page asked for, never to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/"):
            return target
    return url_for("console.agenda")


def _client_ip() -> str:
    """The client's address: the proxy's own unless `TRUSTED_PROXIES` says how many
    proxies' forwarded headers to believe (werkzeug's ProxyFix, set up in `create_app`)."""
    return request.remote_addr or "unknown"


@console.get("/login")
@public
def login() -> Response:
    if g.staff is not None:
        return redirect(_safe_next(request.args.get("next")), code=303)
    notice = request.args.get("notice")
    return page(
        "login.html",
        next=request.args.get("next", ""),
        notice=notice if notice in ("expired", "signed_out") else None,
    )


@console.post("/login")
@public
def login_submit() -> Response:
    login_name = request.form.get("login", "").strip()[:200]
    password = request.form.get("password", "")[:1000]
    target = request.form.get("next", "")
    ip, moment = _client_ip(), now()
    with Session(engine()) as reader:
        until = locked_until(reader, login_name, moment, LIMIT)
        if until is not None:
            wait = ceil((until - moment) / timedelta(minutes=1))
            return page("login.html", 429, next=target, login=login_name, wait=wait, error="locked")
        user = check_credentials(reader, login_name, password) if login_name else None
    with transaction(engine()) as writer:
        if user is None:
            record_failure(writer, login_name, ip, moment, LIMIT)
        else:
            signed_in(writer, writer.merge(user), moment)
    if user is None:
        return page("login.html", status=401, next=target, login=login_name, error="wrong")
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session["seen"] = moment.timestamp()
    session["pw"] = password_stamp(user)
    return redirect(_safe_next(target), code=303)


@console.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("console.login", notice="signed_out"), code=303)


@console.errorhandler(HTTPException)
def _refused(error: HTTPException) -> Response:
    code = error.code or 500
    kind = "csrf" if isinstance(error, CSRFError) else ERRORS.get(code, "trouble")
    return page("error.html", status=code, kind=kind)
