"""Staff accounts: every member's own (name, language, password) and, for admins, the
clinic's accounts (add one; change name, role, language; disable; set a new password).
A new password ends the sessions signed in with the old one (`store.staff.password_stamp`)."""

from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, request, session, url_for
from sqlmodel import Session, select
from werkzeug.wrappers import Response

from bot.locale import LANGUAGES
from store.db import transaction
from store.models import StaffRole, StaffUser
from store.staff import (
    LastAdmin,
    LoginTaken,
    check_credentials,
    clinic_staff,
    create_staff,
    password_problem,
    password_stamp,
    set_password,
    update_account,
)
from web.console.agenda import formatting, own_clinic
from web.console.common import (
    admin_required,
    console,
    engine,
    language,
    now,
    page,
    staff,
    staff_required,
)

FIELD_LIMIT = 200
PASSWORD_LIMIT = 1000
NOTICES = ("saved", "unchanged", "password", "created")


@dataclass(frozen=True)
class Form:
    """A form as sent, and what is wrong with it (label keys by field)."""

    values: dict[str, str]
    errors: dict[str, str]


def _fields(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "").strip()[: FIELD_LIMIT + 1] for name in names}


def _check_details(values: dict[str, str]) -> dict[str, str]:
    errors = {n: "invalid_too_long" for n, v in values.items() if len(v) > FIELD_LIMIT}
    if not values.get("display_name"):
        errors["display_name"] = "invalid_required"
    if values.get("language") not in LANGUAGES:
        errors["language"] = "invalid_language"
    if "role" in values and values["role"] not in set(StaffRole):
        errors["role"] = "invalid_role"
    return errors


def _new_password(login: str, errors: dict[str, str]) -> str | None:
    """The new password typed twice, or None with the reason added to `errors`."""
    password = request.form.get("password", "")[:PASSWORD_LIMIT]
    problem = password_problem(password, login)
    if problem:
        errors["password"] = f"password_{problem}"
    elif password != request.form.get("password_again", "")[:PASSWORD_LIMIT]:
        errors["password_again"] = "password_mismatch"
    return None if errors.get("password") or errors.get("password_again") else password


def _notice() -> str | None:
    notice = request.args.get("notice")
    return notice if notice in NOTICES else None


# -- one's own account ----------------------------------------------------------------------


@console.get("/account")
@staff_required
def account() -> Response:
    user = staff()
    values = {"display_name": user.display_name, "language": user.language}
    return page("account.html", form=Form(values, {}), languages=LANGUAGES, notice=_notice())


@console.post("/account")
@staff_required
def save_account() -> Response:
    values = _fields("display_name", "language")
    errors = _check_details(values)
    if errors:
        form = Form(values, errors)
        return page("account.html", status=422, form=form, languages=LANGUAGES, notice=None)
    with transaction(engine()) as writer:
        user = _own_account(writer, staff().id or 0)
        changed = update_account(
            writer,
            user,
            display_name=values["display_name"],
            role=user.role,
            language=values["language"],
            active=True,
        )
    return redirect(url_for("console.account", notice="saved" if changed else "unchanged"), 303)


@console.post("/account/password")
@staff_required
def change_own_password() -> Response:
    user = staff()
    errors: dict[str, str] = {}
    current = request.form.get("current_password", "")[:PASSWORD_LIMIT]
    with Session(engine()) as reader:
        if check_credentials(reader, user.login, current) is None:
            errors["current_password"] = "password_current_wrong"
    password = _new_password(user.login, errors)
    if password is None:
        values = {"display_name": user.display_name, "language": user.language}
        return page(
            "account.html",
            status=422,
            form=Form(values, {}),
            password_errors=errors,
            languages=LANGUAGES,
            notice=None,
        )
    with transaction(engine()) as writer:
        own = _own_account(writer, user.id or 0)
        set_password(writer, own, password)
        session["pw"] = password_stamp(own)  # this session stays; the others end
    return redirect(url_for("console.account", notice="password"), 303)


def _own_account(writer: Session, user_id: int) -> StaffUser:
    found = writer.exec(select(StaffUser).where(StaffUser.id == user_id).with_for_update()).first()
    if found is None:
        abort(404)
    return found


# -- the clinic's accounts (admins) ---------------------------------------------------------


def _clinic_account(reader: Session, user_id: int, lock: bool = False) -> StaffUser:
    statement = select(StaffUser).where(
        StaffUser.id == user_id, StaffUser.clinic_id == staff().clinic_id
    )
    found = reader.exec(statement.with_for_update() if lock else statement).first()
    if found is None:
        abort(404)
    return found


@console.get("/staff")
@admin_required
def staff_accounts() -> Response:
    with Session(engine()) as reader:
        accounts = clinic_staff(reader, staff().clinic_id)
        clinic = own_clinic(reader)
    return page(
        "staff_accounts.html",
        accounts=accounts,
        notice=_notice(),
        **formatting(clinic, language()),
    )


@console.get("/staff/new")
@admin_required
def new_staff_account() -> Response:
    values = {"login": "", "display_name": "", "role": "staff", "language": staff().language}
    return page("staff_account.html", account=None, form=Form(values, {}), **_choices())


@console.post("/staff/new")
@admin_required
def create_staff_account() -> Response:
    values = _fields("login", "display_name", "role", "language")
    errors = _check_details(values)
    if not values["login"]:
        errors["login"] = "invalid_required"
    password = _new_password(values["login"], errors)
    if password is not None and not errors:
        try:
            with transaction(engine()) as writer:
                create_staff(
                    writer,
                    clinic_id=staff().clinic_id,
                    login=values["login"],
                    display_name=values["display_name"],
                    password=password,
                    role=values["role"],
                    language=values["language"],
                    now=now(),
                )
        except LoginTaken:
            errors["login"] = "login_taken"
        else:
            return redirect(url_for("console.staff_accounts", notice="created"), 303)
    form = Form(values, errors)
    return page("staff_account.html", status=422, account=None, form=form, **_choices())


@console.get("/staff/<int:user_id>")
@admin_required
def staff_account(user_id: int) -> Response:
    with Session(engine()) as reader:
        found = _clinic_account(reader, user_id)
    form = Form(_account_values(found), {})
    return page("staff_account.html", account=found, form=form, notice=_notice(), **_choices())


@console.post("/staff/<int:user_id>")
@admin_required
def save_staff_account(user_id: int) -> Response:
    values = _fields("display_name", "role", "language")
    values["active"] = request.form.get("active", "")
    errors = _check_details(values)
    if not errors:
        try:
            with transaction(engine()) as writer:
                found = _clinic_account(writer, user_id, lock=True)
                changed = update_account(
                    writer,
                    found,
                    display_name=values["display_name"],
                    role=values["role"],
                    language=values["language"],
                    active=bool(values["active"]),
                )
        except LastAdmin:
            errors["role"] = "last_admin"
        else:
            notice = "saved" if changed else "unchanged"
            return redirect(url_for("console.staff_account", user_id=user_id, notice=notice), 303)
    with Session(engine()) as reader:
        found = _clinic_account(reader, user_id)
    form = Form(values, errors)
    return page("staff_account.html", status=422, account=found, form=form, **_choices())


@console.post("/staff/<int:user_id>/password")
@admin_required
def set_staff_password(user_id: int) -> Response:
    with Session(engine()) as reader:
        found = _clinic_account(reader, user_id)
    errors: dict[str, str] = {}
    password = _new_password(found.login, errors)
    if password is None:
        return page(
            "staff_account.html",
            status=422,
            account=found,
            form=Form(_account_values(found), {}),
            password_errors=errors,
            **_choices(),
        )
    with transaction(engine()) as writer:
        set_password(writer, _clinic_account(writer, user_id, lock=True), password)
    return redirect(url_for("console.staff_account", user_id=user_id, notice="password"), 303)


def _account_values(found: StaffUser) -> dict[str, str]:
    return {
        "display_name": found.display_name,
        "role": found.role,
        "language": found.language,
        "active": "1" if found.active else "",
    }


def _choices() -> dict[str, Any]:
    return {"languages": LANGUAGES, "roles": tuple(StaffRole)}
