"""The staff console's doors: who may sign in, how often they may fail, how long a
session lasts, what the front desk may not open, and forms without their CSRF token."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from store.models import Appointment, LoginAttempt, StaffUser
from store.staff import LoginLimit, password_problem
from tests.console_support import NOW, PASSWORD, Desk, add_staff, book_at, console_app
from tests.support import Clock, add_patient
from turnero import cli

TOMORROW_10 = NOW + timedelta(days=1, hours=1)  # Wednesday 10:00 in Asunción
ROUTE_ARGS = {
    "name": "consumption",  # a report
    "appointment_id": 1,
    "ticket_id": 1,
    "action": "arrived",
    "block_off_id": 1,
    "patient_id": 1,
    "user_id": 1,
    "message_id": 1,
    "phone": "+595981222333",
    "request_id": 1,
    "branch_id": 1,
    "service_id": 1,
    "professional_id": 1,
    "rule_id": 1,
    "lang": "es",
    "key": "booking.ask_name",
    "kind": "care",
    "change_id": 1,
    "campaign_id": 1,
}
PUBLIC = {"console.login", "console.login_submit", "console.static"}


@pytest.fixture
def desk(app) -> Desk:
    return Desk(app.test_client())


def _console_routes(app, admin_only: bool = False) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in PUBLIC:
            continue
        if admin_only and not getattr(app.view_functions[rule.endpoint], "console_admin", False):
            continue
        path = rule.build({k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments})[1]
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_console_route_sends_anonymous_users_to_the_login_page(app, desk: Desk):
    routes = _console_routes(app)
    assert len(routes) >= 10  # agenda, feed, details, actions, move, block-offs, logout…
    for method, path in routes:
        response = desk.client.open(path, method=method)
        assert response.status_code == 303, (method, path)
        assert response.location.startswith("/console/login?next="), (method, path)


def test_the_desk_signs_in_lands_on_the_agenda_and_signs_out(db: Engine, clinic, desk: Desk):
    add_staff(db, clinic.id, "ana@clinica.example")
    response = desk.sign_in("Ana@Clinica.example")  # logins are not case-sensitive
    assert (response.status_code, response.location) == (303, "/console/agenda")
    page = desk.open("/console/agenda")
    assert page.status_code == 200
    assert "Ana" in page.get_data(as_text=True)
    with Session(db) as session:
        user = session.exec(select(StaffUser)).one()
        assert user.last_login_at == NOW
    assert desk.submit("/console/logout").location == "/console/login?notice=signed_out"
    assert desk.open("/console/agenda").status_code == 303


def test_a_wrong_password_an_unknown_login_and_a_disabled_account_get_the_same_answer(
    db: Engine, clinic, desk: Desk
):
    add_staff(db, clinic.id, "ana")
    add_staff(db, clinic.id, "gone")
    with Session(db) as session:
        gone = session.exec(select(StaffUser).where(StaffUser.login == "gone")).one()
        gone.active = False
        session.add(gone)
        session.commit()
    for login, password in [("ana", "wrong password!"), ("nobody", PASSWORD), ("gone", PASSWORD)]:
        response = desk.sign_in(login, password)
        assert response.status_code == 401
        assert "El usuario o la contraseña no son correctos." in response.get_data(as_text=True)
    assert desk.open("/console/agenda").status_code == 303


def test_after_a_sign_in_the_desk_returns_to_the_page_it_asked_for_but_never_elsewhere(
    db: Engine, clinic, desk: Desk
):
    add_staff(db, clinic.id, "ana")
    asked = desk.open("/console/agenda?view=week")
    assert asked.location == "/console/login?next=/console/agenda?view%3Dweek"
    desk.open(asked.location)
    response = desk.submit(
        "/console/login",
        {"login": "ana", "password": PASSWORD, "next": "/console/agenda?view=week"},
    )
    assert response.location == "/console/agenda?view=week"
    desk.open("/console/agenda")
    desk.submit("/console/logout")
    for elsewhere in ["https://evil.example/console/", "//evil.example/console/", "/admin/api"]:
        desk.open("/console/login")
        response = desk.submit(
            "/console/login", {"login": "ana", "password": PASSWORD, "next": elsewhere}
        )
        assert response.location == "/console/agenda", elsewhere
        desk.open("/console/agenda")
        desk.submit("/console/logout")


def test_five_failures_make_the_login_wait_in_every_worker_longer_after_each_further_one(
    db: Engine, tmp_path, clock: Clock, clinic
):
    add_staff(db, clinic.id, "ana")
    first = Desk(console_app(db, tmp_path, clock).test_client())
    other_worker = Desk(console_app(db, tmp_path, clock).test_client())
    for n in range(5):
        address = {"environ_base": {"REMOTE_ADDR": f"10.0.0.{n}"}}  # from five places
        assert first.sign_in("ana", "not the password", **address).status_code == 401
    locked = other_worker.sign_in("ana", PASSWORD)  # even the right password, elsewhere
    assert locked.status_code == 429
    assert "esperá 1 minuto y" in locked.get_data(as_text=True)
    clock.advance(seconds=61)
    assert first.sign_in("ana", "still not it").status_code == 401  # a sixth: twice as long
    clock.advance(minutes=1, seconds=59)
    waiting = other_worker.sign_in("ana", PASSWORD)
    assert waiting.status_code == 429
    assert "esperá 1 minuto y" in waiting.get_data(as_text=True)  # what is left of the two
    clock.advance(seconds=2)
    assert other_worker.sign_in("ana", PASSWORD).status_code == 303  # the owner gets in
    with Session(db) as session:  # a good sign-in forgets the login's failures
        assert session.exec(select(LoginAttempt).where(LoginAttempt.login == "ana")).all() == []


def test_the_wait_doubles_with_each_failure_up_to_fifteen_minutes():
    limit = LoginLimit()
    waits = [limit.wait_after(failures) for failures in (0, 4, 5, 6, 7, 8, 9, 10, 10_000)]
    assert waits == [timedelta(minutes=m) for m in (0, 0, 1, 2, 4, 8, 15, 15, 15)]


PROXY = {"REMOTE_ADDR": "10.0.0.1"}  # the TLS proxy: every client arrives from it


def test_guesses_at_made_up_logins_behind_the_proxy_lock_nobody_out(db: Engine, clinic, desk: Desk):
    add_staff(db, clinic.id, "boss", role="admin")
    for n in range(20):
        assert desk.sign_in(f"guess{n}", "whatever123", environ_base=PROXY).status_code == 401
    assert desk.sign_in("boss", PASSWORD, environ_base=PROXY).status_code == 303


def test_guesses_at_a_real_login_slow_that_login_only(db: Engine, clinic, app, clock: Clock):
    add_staff(db, clinic.id, "ana")
    add_staff(db, clinic.id, "boss", role="admin")
    stranger, ana, boss = (Desk(app.test_client()) for _ in range(3))
    for _ in range(5):
        assert stranger.sign_in("ana", "guessing123", environ_base=PROXY).status_code == 401
    assert ana.sign_in("ana", PASSWORD, environ_base=PROXY).status_code == 429
    assert boss.sign_in("boss", PASSWORD, environ_base=PROXY).status_code == 303
    clock.advance(minutes=1)
    assert ana.sign_in("ana", PASSWORD, environ_base=PROXY).status_code == 303


def _recorded_address(db: Engine) -> str:
    with Session(db) as session:
        return session.exec(select(LoginAttempt.ip)).one()


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded_for", "recorded"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: a forged header changes nothing
        (1, "203.0.113.9", "203.0.113.9"),  # the proxy's word for its client
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client's own claim ignored
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),  # two proxies, two hops
    ],
)
def test_the_forwarded_address_is_believed_from_the_configured_proxies_only(
    db: Engine, tmp_path, clock: Clock, clinic, trusted_proxies, forwarded_for, recorded
):
    app = console_app(db, tmp_path, clock, trusted_proxies=trusted_proxies)
    headers = {"X-Forwarded-For": forwarded_for}
    response = Desk(app.test_client()).sign_in(
        "nobody", "whatever123", environ_base=PROXY, headers=headers
    )
    assert response.status_code == 401
    assert _recorded_address(db) == recorded


def test_a_negative_number_of_trusted_proxies_is_refused():
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies=-1)


def test_a_session_ends_after_eight_idle_hours_and_polling_does_not_keep_it_alive(
    db: Engine, clinic, desk: Desk, clock: Clock
):
    add_staff(db, clinic.id, "ana")
    desk.sign_in("ana")
    clock.advance(hours=7, minutes=59)
    assert desk.open("/console/agenda").status_code == 200  # activity: the clock restarts
    for _ in range(9):  # the open agenda polls all night long
        clock.advance(hours=1)
        if desk.open("/console/agenda/feed").status_code != 200:
            break
    assert desk.page is not None and desk.page.status_code == 303
    assert "notice=expired" in desk.page.location
    login_page = desk.open(desk.page.location).get_data(as_text=True)
    assert "Tu sesión se cerró por inactividad" in login_page
    assert desk.open("/console/agenda").status_code == 303  # the session is gone for good


def test_session_cookie_is_http_only_same_site_and_secure_behind_https(
    db: Engine, tmp_path, clock: Clock, clinic
):
    add_staff(db, clinic.id, "ana")
    plain = Desk(console_app(db, tmp_path, clock).test_client()).sign_in("ana")
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure_app = console_app(db, tmp_path, clock, base_url="https://turnero.example.org")
    secure = Desk(secure_app.test_client()).sign_in(
        "ana",
        base_url="https://turnero.example.org",
        headers={"Referer": "https://turnero.example.org/console/login"},  # checked on https
    )
    assert "Secure" in secure.headers["Set-Cookie"]


def test_the_front_desk_cannot_open_admin_pages(db: Engine, clinic, desk: Desk):
    add_staff(db, clinic.id, "ana")
    desk.sign_in("ana")
    agenda = desk.open("/console/agenda").get_data(as_text=True)
    assert "/console/block-offs" not in agenda  # not offered in the navigation either
    assert desk.open("/console/block-offs").status_code == 403
    refused = desk.submit(
        "/console/block-offs", {"start_day": "2026-12-05", "end_day": "2026-12-06"}
    )
    assert refused.status_code == 403
    assert "solo para la administración" in refused.get_data(as_text=True)
    assert desk.submit("/console/block-offs/1/delete").status_code == 403


def test_every_admin_route_refuses_the_front_desk(app, db: Engine, clinic, desk: Desk):
    add_staff(db, clinic.id, "ana")
    desk.sign_in("ana")
    routes = _console_routes(app, admin_only=True)
    assert ("GET", "/console/block-offs") in routes and ("GET", "/console/staff") in routes
    for method, path in routes:
        desk.open("/console/agenda")
        response = desk.client.open(path, method=method, data={"csrf_token": desk.token()})
        assert response.status_code == 403, (method, path)


def test_admins_open_admin_pages(db: Engine, clinic, desk: Desk):
    add_staff(db, clinic.id, "boss", role="admin")
    desk.sign_in("boss")
    assert "/console/block-offs" in desk.open("/console/agenda").get_data(as_text=True)
    assert desk.open("/console/block-offs").status_code == 200


def test_forms_without_their_csrf_token_are_refused_and_change_nothing(
    db: Engine, clinic, desk: Desk
):
    add_staff(db, clinic.id, "ana")
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, TOMORROW_10)
    no_token = desk.client.post("/console/login", data={"login": "ana", "password": PASSWORD})
    assert no_token.status_code == 400
    desk.sign_in("ana")
    desk.open(f"/console/appointments/{appointment_id}")
    for data in [{}, {"csrf_token": "forged"}]:
        refused = desk.client.post(f"/console/appointments/{appointment_id}/cancel", data=data)
        assert refused.status_code == 400
        assert "El formulario venció" in refused.get_data(as_text=True)
        refused = desk.client.post("/console/logout", data=data)
        assert refused.status_code == 400
    with Session(db) as session:
        assert session.get(Appointment, appointment_id).status == "booked"
    assert desk.open("/console/agenda").status_code == 200  # still signed in


def test_weak_passwords_are_refused():
    assert password_problem("") == "empty"
    assert password_problem("          ") == "empty"
    assert password_problem("short1") == "short"
    assert password_problem("aaaaaaaaaaaa") == "repeated"
    assert password_problem("1234567890") == "common"
    assert password_problem("ana-secreta-2026", "ana") == "login"
    assert password_problem(PASSWORD, "ana") is None


def _run(monkeypatch, db: Engine, argv: list[str], stdin: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_turnero_admin_create_makes_the_first_admin_and_refuses_weak_passwords(
    monkeypatch, db: Engine, clinic, desk: Desk, capsys
):
    create = ["admin", "create", "--clinic-id", str(clinic.id), "--login", "Dra.Ana"]
    args = [*create, "--name", "Ana Benítez", "--role", "admin", "--password-stdin"]
    assert _run(monkeypatch, db, args, "\n") == 2
    assert "empty" in capsys.readouterr().err
    assert _run(monkeypatch, db, args, "abc\n") == 2
    assert "too short" in capsys.readouterr().err
    assert _run(monkeypatch, db, args, f"{PASSWORD}\n") == 0
    assert "admin 'dra.ana' created" in capsys.readouterr().out
    assert _run(monkeypatch, db, args, f"{PASSWORD}\n") == 2
    assert "taken" in capsys.readouterr().err
    other = [*create[:3], "999", *create[4:], "--name", "X", "--password-stdin"]
    assert _run(monkeypatch, db, other, f"{PASSWORD}\n") == 2
    with Session(db) as session:
        user = session.exec(select(StaffUser)).one()
        assert (user.login, user.role, user.display_name) == ("dra.ana", "admin", "Ana Benítez")
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert desk.sign_in("dra.ana").status_code == 303
    assert desk.open("/console/block-offs").status_code == 200


def test_turnero_admin_create_asks_for_the_password_twice(monkeypatch, db: Engine, clinic, capsys):
    typed = iter([PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    args = ["admin", "create", "--clinic-id", str(clinic.id), "--login", "x", "--name", "X"]
    assert _run(monkeypatch, db, args, "") == 2
    assert "differ" in capsys.readouterr().err
    typed = iter([PASSWORD, PASSWORD])
    assert _run(monkeypatch, db, args, "") == 0


def test_the_demo_makes_its_admin_once_and_tells_its_password(db: Engine, desk: Desk):
    from turnero.demo import seed_demo, seed_demo_admin

    clinic = seed_demo(db, NOW)
    login, password = seed_demo_admin(db, clinic.id or 0)
    assert password and len(password) >= 12
    assert seed_demo_admin(db, clinic.id or 0) == (login, None)
    assert desk.sign_in(login, password).status_code == 303
    assert desk.open("/console/block-offs").status_code == 200  # an admin
