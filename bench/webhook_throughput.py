"""Webhook messages per second with gunicorn, as a ratio to the floor: a bare Flask endpoint
that checks the Twilio signature and keeps each message, nothing more (target: >= 0.6).

Setup: a scratch database (a SQLite file in a temp folder by default; with --database-url a
scratch PostgreSQL database on that server, `bench_webhook_<pid>`, dropped and created again),
migrated with `store.migrate.upgrade` and seeded with `turnero.demo.seed_demo` (3
services, 4 professionals, a week of appointments). Three servers on free ports of
127.0.0.1, all gunicorn with 2 sync workers: Turnero as operators run it, `turnero serve
--workers 2`; `bare_webhook:create_app()` (bench/bare_webhook.py), which only checks the
signature; and the floor, `bare_webhook:create_app(keep=True)`, which also keeps each
message as Turnero does (one committed insert) — the most any webhook that keeps what it
acknowledges can reach. DATABASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SECRET_KEY and
PUBLIC_BASE_URL (the bind address) are in their environment. All are started and always
stopped by this script.

Load: client processes (default 2) of several threads (default 4 each) post Twilio-signed
form requests, each with a unique MessageSid, from many phones: each thread keeps 8
conversations going, sending the next message of one, then of the next (so no two requests
in flight share a conversation row), and after a finished conversation the phone is half
of the time replaced by a new one (a new patient). A conversation is "hola", numbered
answers (service, professional or "primero disponible", day, time), a name, "saltar"
twice, then "si" (books; a quarter of them) or "no". The servers are loaded in turn,
in rounds (default 3: bare, Turnero, floor, bare, ...; the machine's pace drifts over
a minute, and each server gets its share of every stretch), each time a warm-up then a
measured window; responses with status 200 completed inside the windows are counted.
The client uses http.client, one connection per request for both servers (gunicorn's
sync workers close each one anyway); the CPU time of the client and of the servers is
reported so that a client bottleneck would show, and each server's CPU per message (on
PostgreSQL also the database's: its processes on this machine, in the same windows).
After the run, the inbound messages the webhook stored are checked: the ones the bot
failed on (kept for staff) are reported. Last, unless --breakdown 0, where a message's time
goes: `usecases.inbound.handle_inbound` is run in this process on N more messages (same
mix) with its steps timed (clinic lookup, inbound record, conversation lock, view,
engine step with its availability reads, replies rendered and queued) and its SQL
statements counted.

Run: python bench/webhook_throughput.py [--database-url URL] [--seconds 15] [--rounds 3]
     [--warmup 3] [--clients 2] [--threads 4] [--breakdown 800]
"""

import argparse
import http.client
import logging
import multiprocessing as mp
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time as clock
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from _support import (
    describe_url,
    drop_scratch_database,
    figure,
    percentile,
    scratch_database_url,
)
from sqlalchemy import event, func, select
from twilio.request_validator import RequestValidator

from channel.inbound_form import inbound_form
from store.db import make_engine
from store.migrate import upgrade
from store.models import Appointment, Conversation, InboundMessage, OutboxMessage
from turnero.demo import DEMO_NUMBER, seed_demo
from usecases.clinic_view import CatalogCache

TARGET_RATIO = 0.6  # of the rate of the bare endpoint that keeps each message (the floor)
BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "b" * 32
PATH = "/whatsapp/inbound"
PHONES_PER_THREAD = 8  # in conversation at once; each thread waits for each answer
NEW_PHONE_SHARE = 0.5  # of finished conversations after which a new phone takes over
NAMES = ["Ana Paz", "Juan Sosa", "Rosa Benítez", "Pedro Gómez", "Lucía Acosta", "Mía Ortiz"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def conversation(chance: random.Random) -> list[str]:
    """One booking conversation: numbered answers mostly; a quarter end booked."""
    professional = chance.choice(["1", "2", "primero disponible"])
    return [
        "hola",
        chance.choice(["1", "2"]),
        professional,
        str(chance.randint(1, 4)),
        str(chance.randint(1, 8)),
        chance.choice(NAMES),
        "saltar",
        "saltar",
        "si" if chance.random() < 0.25 else "no",
    ]


# -- the client ----------------------------------------------------------------------------


@dataclass
class ClientResult:
    ok: int = 0
    other: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0


def _load_thread(
    port: int,
    signing_url: str,
    phone_base: int,
    measure_from: float,
    stop_at: float,
    result: ClientResult,
    lock: threading.Lock,
) -> None:
    chance = random.Random(phone_base)
    validator = RequestValidator(AUTH_TOKEN)
    numbers = iter(range(phone_base, phone_base + 1000))
    phones = [f"+595981{next(numbers):06d}" for _ in range(PHONES_PER_THREAD)]
    scripts = [conversation(chance) for _ in phones]
    positions = [0] * len(phones)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ok, other, errors, latencies = 0, {}, 0, []
    turn = 0
    while True:
        started = clock.monotonic()
        if started >= stop_at:
            break
        slot = turn % len(phones)
        turn += 1
        phone, line = phones[slot], scripts[slot][positions[slot]]
        positions[slot] += 1
        if positions[slot] == len(scripts[slot]):  # the next conversation
            scripts[slot], positions[slot] = conversation(chance), 0
            if chance.random() < NEW_PHONE_SHARE:
                phones[slot] = f"+595981{next(numbers):06d}"
        form = inbound_form(phone, DEMO_NUMBER, line, ACCOUNT_SID)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(signing_url, form),
            "Connection": "close",  # a connection per request, whichever server keeps them
        }
        try:
            connection.request("POST", PATH, body=urlencode(form), headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            connection.close()
            status = -1
        finished = clock.monotonic()
        if measure_from <= finished <= stop_at:
            if status == 200:
                ok += 1
                latencies.append(finished - started)
            elif status == -1:
                errors += 1
            else:
                other[status] = other.get(status, 0) + 1
    connection.close()
    with lock:
        result.ok += ok
        result.errors += errors
        result.latencies += latencies
        for status, count in other.items():
            result.other[status] = result.other.get(status, 0) + count


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _client_process(
    port: int,
    signing_url: str,
    index: int,
    threads: int,
    measure_from: float,
    stop_at: float,
    out: "mp.Queue[ClientResult]",
) -> None:
    result, lock = ClientResult(), threading.Lock()
    workers = [
        threading.Thread(
            target=_load_thread,
            args=(port, signing_url, (index * threads + t) * 1000, measure_from, stop_at),
            kwargs={"result": result, "lock": lock},
        )
        for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    clock.sleep(max(0.0, measure_from - clock.monotonic()))
    cpu_before = _cpu()
    for worker in workers:
        worker.join()
    result.cpu_seconds = _cpu() - cpu_before
    out.put(result)


# -- the servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def signing_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def pids(self) -> list[int]:
        """The master and its workers."""
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self, pids: list[int]) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS


def database_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL processes (the server and its backends): the
    database's share of the machine, when it runs here as the bench's does."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, fields = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if name.endswith("(postgres"):
            numbers = fields.split()
            total += int(numbers[11]) + int(numbers[12])  # utime, stime
    return total / CLOCK_TICKS


def bare_command(port: int, app: str = "bare_webhook:create_app()") -> list[str]:
    """The bare endpoint under gunicorn, as `turnero serve` runs by default."""
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2",
        "--worker-class", "sync",
        "--chdir", str(BENCH_DIR),
        "--log-level", "warning",
        app,
    ]  # fmt: skip


def keeping_command(port: int) -> list[str]:
    """The bare endpoint that also keeps each message (one committed insert)."""
    return bare_command(port, "bare_webhook:create_app(keep=True)")


def turnero_command(port: int) -> list[str]:
    """Turnero as operators run it: `turnero serve` (gunicorn, its own worker settings)."""
    turnero = Path(sys.executable).with_name("turnero")
    return [str(turnero), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]


def start_server(
    name: str, command: Callable[[int], list[str]], env: dict[str, str], folder: Path
) -> Server:
    port = free_port()
    log = folder / f"{name}.log"
    process = subprocess.Popen(
        command(port),
        cwd=REPO,
        env={**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
    )
    return Server(name, port, process, log)


def wait_until_serving(server: Server, timeout: float = 30.0) -> None:
    """The port accepts connections and both workers are up."""
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                if len(server.pids()) >= 3:
                    return
        except OSError:
            pass
        clock.sleep(0.1)
    raise SystemExit(f"{server.name} did not start:\n{server.log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # its own process group: the master and workers
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Measured:
    name: str
    ok: int
    seconds: float
    other: dict[int, int]
    errors: int
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    database_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def cpu_per_message(self) -> float:
        """The servers' CPU in the measured windows per message answered, in ms."""
        return self.server_cpu / self.ok * 1000 if self.ok else 0.0

    @property
    def database_cpu_per_message(self) -> float:
        """PostgreSQL's CPU on this machine in the measured windows per message, in ms."""
        return self.database_cpu / self.ok * 1000 if self.ok else 0.0


def load(
    server: Server,
    seconds: float,
    warmup: float,
    clients: int,
    threads: int,
    first: int = 0,
    on_postgres: bool = False,
) -> Measured:
    """`clients` processes of `threads` threads; `first`: the first client's index (each
    client's phones are its own, so a later load starts new conversations); `on_postgres`:
    PostgreSQL's CPU is measured too."""
    context = mp.get_context("fork")
    out: mp.Queue[ClientResult] = context.Queue()
    now = clock.monotonic()
    measure_from, stop_at = now + warmup, now + warmup + seconds
    processes = [
        context.Process(
            target=_client_process,
            args=(server.port, server.signing_url, i, threads, measure_from, stop_at, out),
        )
        for i in range(first, first + clients)
    ]
    for process in processes:
        process.start()
    pids = server.pids()
    clock.sleep(max(0.0, measure_from - clock.monotonic()))
    database = database_cpu_seconds if on_postgres else lambda: 0.0
    server_before, database_before = server.cpu_seconds(pids), database()
    clock.sleep(max(0.0, stop_at - clock.monotonic()))
    server_cpu = server.cpu_seconds(pids) - server_before
    database_cpu = database() - database_before
    results = [out.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    other: dict[int, int] = {}
    for r in results:
        for status, count in r.other.items():
            other[status] = other.get(status, 0) + count
    return Measured(
        name=server.name,
        ok=sum(r.ok for r in results),
        seconds=seconds,
        other=other,
        errors=sum(r.errors for r in results),
        latencies=[x for r in results for x in r.latencies],
        client_cpu=sum(r.cpu_seconds for r in results),
        server_cpu=server_cpu,
        database_cpu=database_cpu,
    )


def combined(parts: list[Measured]) -> Measured:
    """The rounds of one server as one measurement."""
    other: dict[int, int] = defaultdict(int)
    for part in parts:
        for status, count in part.other.items():
            other[status] += count
    return Measured(
        name=parts[0].name,
        ok=sum(p.ok for p in parts),
        seconds=sum(p.seconds for p in parts),
        other=dict(other),
        errors=sum(p.errors for p in parts),
        latencies=[x for p in parts for x in p.latencies],
        client_cpu=sum(p.client_cpu for p in parts),
        server_cpu=sum(p.server_cpu for p in parts),
        database_cpu=sum(p.database_cpu for p in parts),
    )


def stored_outcome(url: str) -> dict[str, int]:
    """What the webhook kept: inbound messages, those the bot failed on, replies, bookings."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:

            def count(statement) -> int:  # type: ignore[no-untyped-def]
                return int(connection.execute(statement).scalar() or 0)

            return {
                "inbound": count(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(InboundMessage.clinic_id.is_not(None))  # type: ignore[union-attr]
                ),
                "not handled by the bot": count(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(InboundMessage.handled_by_bot.is_(False))  # type: ignore[attr-defined]
                ),
                "conversations": count(select(func.count()).select_from(Conversation)),
                "flagged for staff": count(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.needs_staff.is_(True))  # type: ignore[attr-defined]
                ),
                "replies queued": count(select(func.count()).select_from(OutboxMessage)),
                "appointments": count(select(func.count()).select_from(Appointment)),
            }
    finally:
        engine.dispose()


PHASES = [
    "clinic_by_number",
    "conversation_and_people",
    "advance",
    "record_inbound",
    "lock_conversation",
    "people_on_phone",
    "build_view",
    "step",
    "resolve_patient",
    "book",
    "render_all",
    "insert_rows",
]


def inbound_breakdown(url: str, messages: int) -> None:
    """Where one message's time goes: `usecases.inbound.handle_inbound` called in this
    process, one message after another, the names it calls wrapped with timers (exclusive
    times: a phase's time does not include the phases inside it)."""
    import usecases.clinic_view as clinic_view
    import usecases.inbound as inbound
    import usecases.stored_availability as store_availability
    from bot import locale

    locale.configure()  # the replies' texts, as the app's factory loads them
    engine = make_engine(url)
    totals: dict[str, float] = defaultdict(float)
    active: list[str] = []
    statements = [0]

    def count_statement(*_: object) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count_statement)

    def timed(module, name: str, label: str) -> None:  # type: ignore[no-untyped-def]
        function = getattr(module, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = clock.perf_counter()
            active.append(label)
            try:
                return function(*args, **kwargs)
            finally:
                active.pop()
                elapsed = clock.perf_counter() - started
                totals[label] += elapsed
                if active:
                    totals[active[-1]] -= elapsed

        setattr(module, name, wrapper)

    for name in PHASES:
        timed(inbound, name, "step (engine; its reads apart)" if name == "step" else name)
    timed(store_availability, "weekly_hours", "step: StoreAvailability weekly_hours")
    timed(store_availability, "busy_between", "step: StoreAvailability busy_between")
    timed(clinic_view, "catalog_version", "catalog version read")
    timed(clinic_view, "load_catalog", "load_catalog")
    timed(inbound, "_move_along", "_move_along itself")
    timed(inbound, "_handle", "_handle itself")
    chance = random.Random(99)
    phones = [f"+595982{n:06d}" for n in range(64)]
    scripts = [conversation(chance) for _ in phones]
    positions = [0] * len(phones)

    catalogs = CatalogCache()  # one per worker, as the app keeps it

    def send(count: int) -> None:
        for n in range(count):
            slot = n % len(phones)
            line = scripts[slot][positions[slot]]
            positions[slot] += 1
            if positions[slot] == len(scripts[slot]):
                scripts[slot], positions[slot] = conversation(chance), 0
            message = inbound.ReceivedMessage(
                message_sid="SM" + uuid.uuid4().hex,
                from_phone=phones[slot],
                to_phone=DEMO_NUMBER,
                body=line,
                fields={"Body": line, "From": f"whatsapp:{phones[slot]}"},
            )
            inbound.handle_inbound(
                engine, message, datetime.now(UTC), link_for=str, catalogs=catalogs
            )

    keep_for_staff, failed = inbound._keep_for_staff, [0]

    def count_failure(*args, **kwargs):  # type: ignore[no-untyped-def]
        failed[0] += 1
        return keep_for_staff(*args, **kwargs)

    inbound._keep_for_staff = count_failure
    send(messages // 4)  # warm up
    totals.clear()
    statements[0] = 0
    started = clock.perf_counter()
    send(messages)
    elapsed = clock.perf_counter() - started
    engine.dispose()
    if failed[0]:
        print(f"  WARNING: the bot failed on {failed[0]} messages of the breakdown")
    per = 1000 / messages
    print(
        f"  in-process handle_inbound, one at a time: {messages / elapsed:.0f} msgs/s,"
        f" {elapsed * per:.2f} ms and {statements[0] / messages:.1f} SQL statements per message:"
    )
    shown = sorted(totals.items(), key=lambda item: -item[1])
    rest = elapsed - sum(totals.values())
    for label, seconds in [*shown, ("the rest (session, commit, ...)", rest)]:
        print(f"    {label:<44} {seconds * per:6.3f} ms/msg")


def describe(m: Measured, on_postgres: bool) -> str:
    lat = sorted(m.latencies) or [0.0]
    refused = ", ".join(f"{n} × {s}" for s, n in sorted(m.other.items())) or "none"
    return (
        f"  {m.name}: {m.ok:,} × 200 in {m.seconds:.0f} s; other statuses: {refused};"
        f" connection errors: {m.errors}; latency p50 {percentile(lat, 0.5) * 1000:.1f} ms,"
        f" p95 {percentile(lat, 0.95) * 1000:.1f} ms; CPU: servers"
        f" {m.server_cpu / m.seconds:.2f} cores, client {m.client_cpu / m.seconds:.2f} cores"
        + (f", PostgreSQL {m.database_cpu / m.seconds:.2f} cores" if on_postgres else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="measured time per server, all rounds"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="load the servers in turn this many times (the machine's pace drifts)",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured load first")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=800,
        metavar="N",
        help="then time the phases of N messages handled in-process (0: skip)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as name, ExitStack() as stack:
        folder = Path(name)
        url = scratch_database_url(args.database_url, "webhook", folder)
        on_postgres = url.startswith("postgresql")
        if not args.keep:
            stack.callback(drop_scratch_database, url)
        print(f"webhook_throughput: {describe_url(url)}, {os.cpu_count()} CPUs")
        upgrade(url)
        engine = make_engine(url)
        clinic = seed_demo(engine)
        engine.dispose()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SECRET_KEY": "bench-secret-key",
            "INSTANCE_DIR": str(folder / "instance"),
            "TURNERO_ENV": "development",
        }
        servers = [
            start_server("bare", bare_command, env, folder),
            start_server("turnero", turnero_command, env, folder),
            start_server("bare, keeping", keeping_command, env, folder),
        ]
        for server in servers:
            stack.callback(stop_server, server)
        for server in servers:
            wait_until_serving(server)
        print(
            f"  clinic {clinic.name} ({DEMO_NUMBER}); gunicorn, 2 sync workers each: bare on"
            f" :{servers[0].port}, turnero (`turnero serve --workers 2`) on :{servers[1].port};"
            f" load: {args.clients} processes × {args.threads} threads, in {args.rounds} rounds"
            f" taking the servers in turn, {args.seconds / args.rounds:g} s measured each"
            f" after a warm-up ({args.warmup:g} s in the first round, 1 s later)"
        )
        rounds: list[list[Measured]] = [[] for _ in servers]
        for n in range(args.rounds):
            for server, measured in zip(servers, rounds, strict=True):
                measured.append(
                    load(
                        server,
                        args.seconds / args.rounds,
                        args.warmup if n == 0 else 1.0,
                        args.clients,
                        args.threads,
                        first=n * args.clients,
                        on_postgres=on_postgres,
                    )
                )
        bare, turnero, keeping = (combined(measured) for measured in rounds)
        for measured in [bare, turnero, keeping]:
            print(describe(measured, on_postgres))
        print(
            "  turnero / floor by round: "
            + ", ".join(f"{t.rate / k.rate:.2f}" for t, k in zip(rounds[1], rounds[2], strict=True))
        )
        outcome = stored_outcome(url)
        print("  stored: " + ", ".join(f"{k} {v:,}" for k, v in outcome.items()))
        if outcome["not handled by the bot"]:
            print(f"  WARNING: the bot failed on some messages; see {servers[1].log}")
            print(servers[1].log.read_text()[-2000:])
        for server in servers:
            stop_server(server)
        if args.breakdown:
            inbound_breakdown(url, args.breakdown)

    ratio = turnero.rate / keeping.rate if keeping.rate else 0.0
    print(figure("bare signature-checking endpoint", bare.rate, "msgs/s"))
    print(figure("bare endpoint keeping each message (the floor)", keeping.rate, "msgs/s"))
    print(figure("turnero webhook", turnero.rate, "msgs/s"))
    for measured in (bare, keeping, turnero):
        print(figure(f"  server CPU per message, {measured.name}", measured.cpu_per_message, "ms"))
    for measured in (bare, keeping, turnero) if on_postgres else ():
        cpu = measured.database_cpu_per_message
        print(figure(f"  PostgreSQL CPU per message, {measured.name}", cpu, "ms"))
    if bare.rate:
        print(figure("floor / bare (informative)", keeping.rate / bare.rate, ""))
        print(figure("turnero / bare (informative)", turnero.rate / bare.rate, ""))
    print(figure("ratio turnero / floor", ratio, "", f">= {TARGET_RATIO}", ratio >= TARGET_RATIO))
    if turnero.latencies:
        print(figure("turnero latency p50", statistics.median(turnero.latencies) * 1000, "ms"))
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
