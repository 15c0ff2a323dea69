"""`turnero clinic create` and `turnero clinic list`: a new clinic without the demo, ready
for its first admin account (`turnero admin create`) and the console's settings."""

import argparse
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import available_timezones

from config.settings import Settings

LANGUAGES = ("es", "en", "gn")
LONGEST_NAME = 200


def add_clinic_commands(commands: Any) -> None:
    """The `clinic` command and its actions, on the main parser's subcommands."""
    clinic = commands.add_parser("clinic", help="the clinics this deployment serves")
    actions = clinic.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser("create", help="add a clinic, with default settings")
    create.add_argument("--name", required=True, help="the name patients and staff read")
    create.add_argument(
        "--whatsapp-number", required=True, help="its WhatsApp sender, with the country code"
    )
    create.add_argument("--timezone", default="America/Asuncion", help="an IANA time zone")
    create.add_argument("--language", choices=LANGUAGES, default="es", help="patients' default")
    create.set_defaults(run=_create)
    actions.add_parser("list", help="every clinic, with its id").set_defaults(run=_list)


def _create(args: argparse.Namespace) -> int:
    from channel.phones import e164
    from store.clinics import NumberTaken, create_clinic
    from store.db import make_engine, transaction

    name = " ".join(args.name.split())
    number = e164(args.whatsapp_number)
    problem = _problem(name, number, args)
    if problem is not None or number is None:
        print(problem, file=sys.stderr)
        return 2
    try:
        with transaction(make_engine(Settings().database_url)) as session:
            clinic = create_clinic(
                session,
                name=name,
                whatsapp_number=number,
                timezone=args.timezone,
                language=args.language,
                now=datetime.now(UTC),
            )
    except NumberTaken:
        print(f"another clinic already sends from {number}", file=sys.stderr)
        return 2
    print(
        f"clinic {clinic.id} {clinic.name!r} ({number}, {clinic.timezone}) created; its first"
        f" admin: turnero admin create --clinic-id {clinic.id} --role admin --login … --name …"
    )
    return 0


def _problem(name: str, number: str | None, args: argparse.Namespace) -> str | None:
    """What is wrong with the clinic asked for, if anything."""
    if not name:
        return "the name is empty"
    if len(name) > LONGEST_NAME:
        return f"the name is longer than {LONGEST_NAME} characters"
    if number is None:
        return f"{args.whatsapp_number!r} is not a phone number with its country code (+595…)"
    if args.timezone not in available_timezones():
        return f"unknown time zone {args.timezone!r} (e.g. America/Asuncion)"
    return None


def _list(_: argparse.Namespace) -> int:
    from store.clinics import all_clinics
    from store.db import make_engine, reading

    with reading(make_engine(Settings().database_url)) as session:
        for clinic in all_clinics(session):
            print(f"{clinic.id}\t{clinic.whatsapp_number}\t{clinic.timezone}\t{clinic.name}")
    return 0
