"""The `turnero` command: db upgrade, backup and restore, admin, demo, serve, worker, actions,
chat, fake-twilio, flows diagram."""

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from config.logs import configure_logging
from config.settings import LogSettings, Settings
from turnero.clinic_commands import add_clinic_commands

if TYPE_CHECKING:
    from datetime import timedelta

    from flask import Flask
    from sqlalchemy import Engine

    from channel.base import Channel
    from scheduler.pacing import Pacer
    from scheduler.worker import Links

log = logging.getLogger("turnero")
DEFAULT_PORT = 5000  # where `serve` and `demo` listen, and PUBLIC_BASE_URL's default points
RASA_PORT = 5055  # where a Rasa server looks for its action server by default


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging(LogSettings().log_format)
    args = _parser().parse_args(argv)
    from bot import locale
    from config.tzcheck import use_packaged_tzdata

    use_packaged_tzdata()
    locale.configure()
    return int(args.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="turnero", description="WhatsApp booking bot for clinics")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="migrate to the latest schema").set_defaults(
        run=_db_upgrade
    )
    backup = db_commands.add_parser(
        "backup", help="save the whole database into one file (safe while the app runs)"
    )
    backup.add_argument("path", help="the file to write")
    backup.set_defaults(run=_db_backup)
    restore = db_commands.add_parser(
        "restore", help="put the database back to a backup's state (stop the app first)"
    )
    restore.add_argument("path", help="a file `turnero db backup` wrote")
    restore.set_defaults(run=_db_restore)

    add_clinic_commands(commands)

    admin = commands.add_parser("admin", help="staff accounts of the console")
    admin_commands = admin.add_subparsers(required=True, metavar="ACTION")
    create = admin_commands.add_parser("create", help="create a console account")
    create.add_argument("--clinic-id", type=int, required=True)
    create.add_argument("--login", required=True, help="an e-mail or a short name")
    create.add_argument("--name", required=True, help="the name the console shows")
    create.add_argument("--role", choices=["staff", "admin"], default="staff")
    create.add_argument("--language", choices=["es", "en", "gn"], default="es")
    _password_source(create)
    create.set_defaults(run=_admin_create)
    password = admin_commands.add_parser("password", help="set a new password for an account")
    password.add_argument("--login", required=True)
    _password_source(password)
    password.set_defaults(run=_admin_password)

    demo = commands.add_parser("demo", help="seed the demo clinic, then serve and run the worker")
    demo.add_argument("--seed-only", action="store_true", help="seed and print the clinic's number")
    _host_port(demo)
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="serve the web app (gunicorn)")
    _host_port(serve)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument(
        "--threads",
        type=int,
        default=1,
        help="requests each worker handles at once; above 1, gunicorn's threaded workers,"
        " which pay off when clients keep their connections open",
    )
    serve.set_defaults(run=_serve)

    commands.add_parser("worker", help="run the scheduler and outbox dispatcher").set_defaults(
        run=_worker
    )

    actions = commands.add_parser(
        "actions", help="serve the Rasa action server (needs turnero[rasa])"
    )
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=RASA_PORT)
    actions.set_defaults(run=_actions)

    chat = commands.add_parser("chat", help="chat with the bot from the terminal (sandbox)")
    chat.add_argument("--phone", default="+595981555123", help="your phone number (E.164)")
    chat.add_argument("--to", default=None, help="the clinic's WhatsApp number")
    chat.add_argument("--url", default=None, help="where the web app runs")
    chat.set_defaults(run=_chat)

    fake = commands.add_parser("fake-twilio", help="serve a fake Twilio API for demos and tests")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=5050)
    fake.set_defaults(run=_fake_twilio)

    flows = commands.add_parser("flows", help="the flow files")
    flows_commands = flows.add_subparsers(required=True, metavar="ACTION")
    diagram = flows_commands.add_parser(
        "diagram", help="write each flow's Mermaid diagram into its .md beside the flow file"
    )
    diagram.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a diagram is out of date"
    )
    diagram.set_defaults(run=_flows_diagram)
    return parser


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _read_password(args: argparse.Namespace) -> str | None:
    """The new password, from stdin or typed twice; None (after saying why) if the two
    differ."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("the passwords differ", file=sys.stderr)
        return None
    return first


PASSWORD_PROBLEMS = {
    "empty": "the password is empty",
    "short": "the password is too short (10 characters at least)",
    "repeated": "the password repeats too few characters",
    "common": "the password is too common",
    "login": "the password contains the login",
}


def _admin_create(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from store.db import make_engine, transaction
    from store.models import Clinic
    from store.staff import LoginTaken, WeakPassword, create_staff

    password = _read_password(args)
    if password is None:
        return 2
    engine = make_engine(Settings().database_url)
    try:
        with transaction(engine) as session:
            if session.get(Clinic, args.clinic_id) is None:
                print(f"no clinic with id {args.clinic_id}", file=sys.stderr)
                return 2
            user = create_staff(
                session,
                clinic_id=args.clinic_id,
                login=args.login,
                display_name=args.name,
                password=password,
                role=args.role,
                language=args.language,
                now=datetime.now(UTC),
            )
    except WeakPassword as error:
        print(PASSWORD_PROBLEMS[error.reason], file=sys.stderr)
        return 2
    except LoginTaken:
        print(f"the login {args.login!r} is taken", file=sys.stderr)
        return 2
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{user.role} {user.login!r} created for clinic {user.clinic_id}; sign in at /console/")
    return 0


def _admin_password(args: argparse.Namespace) -> int:
    from store.db import make_engine, transaction
    from store.staff import WeakPassword, find_by_login, set_password

    password = _read_password(args)
    if password is None:
        return 2
    with transaction(make_engine(Settings().database_url)) as session:
        user = find_by_login(session, args.login)
        if user is None:
            print(f"no account {args.login!r}", file=sys.stderr)
            return 2
        try:
            set_password(session, user, password)
        except WeakPassword as error:
            print(PASSWORD_PROBLEMS[error.reason], file=sys.stderr)
            return 2
    print(f"new password set for {user.login!r}")
    return 0


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)


def _db_upgrade(_: argparse.Namespace) -> int:
    from store.migrate import upgrade

    upgrade(Settings().database_url)
    print("database is at the latest schema")
    return 0


def _db_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from store.backup import BackupFailed, backup

    path = Path(args.path)
    try:
        backup(Settings().database_url, path)
    except BackupFailed as failure:
        print(failure, file=sys.stderr)
        return failure.exit_code
    print(f"backed up the database to {path} ({path.stat().st_size:,} bytes)")
    return 0


def _db_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from store.backup import BackupFailed, require_newest_schema, restore

    url = Settings().database_url
    try:
        restore(url, Path(args.path))
        revision = require_newest_schema(url)
    except BackupFailed as failure:
        print(failure, file=sys.stderr)
        return failure.exit_code
    print(f"restored the database from {args.path}; its schema is at {revision}, the newest")
    return 0


def _channel(settings: Settings) -> "Channel":
    from channel.twilio import make_channel

    return make_channel(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
        settings.webhook_url("/whatsapp/status"),
    )


def _demo(args: argparse.Namespace) -> int:
    from store.db import make_engine
    from store.migrate import upgrade
    from turnero.demo import seed_demo, seed_demo_admin

    configured = Settings()
    settings = _served_at(configured, args.port)
    chat = (
        "turnero chat"
        if settings is configured
        else f"turnero chat --url {settings.public_base_url}"
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    clinic = seed_demo(engine)
    login, password = seed_demo_admin(engine, clinic.id or 0)
    if args.seed_only:
        print(clinic.whatsapp_number)
        return 0
    _check_tzdata(settings, engine)
    from scheduler.worker import run_worker
    from webhook import create_app

    scheduler = run_worker(
        engine,
        _channel(settings),
        settings.worker_interval_seconds,
        block=False,
        links=_links(settings),
        notifications_interval_seconds=settings.notifications_interval_seconds,
        pacer=_pacer(settings, engine),
        sends_at_once=settings.outbox_sends_at_once,
        claim_timeout=_claim_timeout(settings),
    )
    mode = "sandbox (nothing leaves this machine)" if settings.sandbox else "Twilio"
    admin_token = "$ADMIN_API_TOKEN" if settings.admin_api_token else settings.admin_token
    simulator = (
        f"or in the browser, signed in: http://{args.host}:{args.port}/console/simulator\n"
        if settings.sandbox
        else ""
    )
    print(
        f"\nTurnero demo: {clinic.name}, WhatsApp {clinic.whatsapp_number}, channel: {mode}\n"
        f"Web app on http://{args.host}:{args.port}; worker running.\n"
        f"Try it from another terminal:  {chat}\n"
        f"{simulator}"
        f"Admin API: curl -H 'Authorization: Bearer {admin_token}' "
        f"http://{args.host}:{args.port}/admin/api/clinics/{clinic.id}/notification-rules\n"
        + (
            f"Booking page (link and QR code: console, Settings, Booking page): "
            f"{settings.public_base_url.rstrip('/')}/r/{clinic.booking_slug}\n"
            if clinic.booking_slug
            else ""
        )
        + f"Staff console: http://{args.host}:{args.port}/console/  login {login}, "
        + (
            f"password {password}\n"
            if password
            else f"password as printed on the first run (turnero admin password --login {login})\n"
        )
    )
    try:
        create_app(settings, engine=engine).run(host=args.host, port=args.port, threaded=True)
    finally:
        scheduler.shutdown(wait=False)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from webhook import create_app

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)  # above 1, gunicorn runs gthread workers
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn's control socket is one path per user: several servers on one
                # machine would take it from each other, and nothing here uses it
                self.cfg.set("control_socket_disable", True)

        def load(self) -> "Flask":
            return create_app()

    _check_tzdata(Settings())
    _App().run()
    return 0


def _worker(_: argparse.Namespace) -> int:
    from scheduler.worker import run_worker
    from store.db import make_engine

    settings = Settings()
    engine = make_engine(settings.database_url)
    _check_tzdata(settings, engine)
    run_worker(
        engine,
        _channel(settings),
        settings.worker_interval_seconds,
        links=_links(settings),
        notifications_interval_seconds=settings.notifications_interval_seconds,
        pacer=_pacer(settings, engine),
        sends_at_once=settings.outbox_sends_at_once,
        claim_timeout=_claim_timeout(settings),
    )
    return 0


def _actions(args: argparse.Namespace) -> int:
    """rasa-sdk's action server over the agenda of `DATABASE_URL`."""
    try:
        from rasa_actions.server import configured, serve
    except ImportError as error:
        print(f"{error}: install turnero[rasa] (pip install 'turnero[rasa]')", file=sys.stderr)
        return 2
    from store.db import make_engine

    settings = Settings()
    engine = make_engine(settings.database_url)
    _check_tzdata(settings, engine)
    serve(configured(settings, engine), args.host, args.port)
    return 0


def _claim_timeout(settings: Settings) -> "timedelta":
    """How long a send may stay claimed before it counts as cut off (its worker died)."""
    from datetime import timedelta

    return timedelta(seconds=settings.outbox_claim_timeout_seconds)


def _pacer(settings: Settings, engine: "Engine") -> "Pacer":
    """Each sender's pace, shared by every worker: in Redis where REDIS_URL is set,
    otherwise in the database."""
    from scheduler.pacing import Pacer

    if settings.redis_url:
        from scheduler.redis_paces import RedisPaces

        return Pacer(RedisPaces.from_url(settings.redis_url))
    from store.sender_paces import StorePaces

    return Pacer(StorePaces(engine))


def _check_tzdata(settings: Settings, engine: "Engine | None" = None) -> None:
    """At a long-running process's start, warn once if the system's time-zone data has a
    clinic's zone wrong (`config.tzcheck`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from config.tzcheck import warn_if_stale
    from store.clinic_settings import clinic_time_zones
    from store.db import make_engine

    own = engine is None
    engine = engine or make_engine(settings.database_url)
    try:
        zones = clinic_time_zones(engine)
    except SQLAlchemyError:  # not migrated yet: nothing to check against
        return
    finally:
        if own:
            engine.dispose()
    warn_if_stale(zones, datetime.now(UTC))


def _served_at(settings: Settings, port: int) -> Settings:
    """Unless PUBLIC_BASE_URL is set, the demo's links and signatures use the port it
    serves on (`turnero demo --port 5001`), not the default's."""
    if _configured_url(settings) or port == DEFAULT_PORT:
        return settings
    return settings.model_copy(update={"public_base_url": f"http://localhost:{port}"})


def _configured_url(settings: Settings) -> bool:
    return "public_base_url" in settings.model_fields_set


def _links(settings: Settings) -> "Links":
    """Where the self-service links of reminders and confirmations point, and their key."""
    from scheduler.worker import Links

    return Links(settings.public_base_url, settings.resolved_secret_key)


def _chat(args: argparse.Namespace) -> int:
    from channel.phones import e164
    from turnero.chat import run_chat
    from turnero.demo import DEMO_NUMBER

    phone = e164(args.phone)
    if phone is None:
        print(f"not a phone number: {args.phone}", file=sys.stderr)
        return 2
    return run_chat(Settings(), phone, args.to or DEMO_NUMBER, args.url)


def _fake_twilio(args: argparse.Namespace) -> int:
    from turnero.fake_twilio import main as fake_main

    return int(fake_main(["--host", args.host, "--port", str(args.port)]) or 0)


def _flows_diagram(args: argparse.Namespace) -> int:
    from bot.flow import FLOWS_DIR, load_flow
    from bot.flow_diagram import with_diagram

    stale = []
    for flow_file in sorted(FLOWS_DIR.glob("*.yaml")):
        page = flow_file.with_suffix(".md")
        text = (
            page.read_text(encoding="utf-8") if page.exists() else f"# The {flow_file.stem} flow\n"
        )
        drawn = with_diagram(text, load_flow(flow_file.stem))
        if drawn != text:
            stale.append(page)
            if not args.check:
                page.write_text(drawn, encoding="utf-8")
    for page in stale:
        print(f"{page}: {'out of date' if args.check else 'written'}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
