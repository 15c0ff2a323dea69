"""Several `turnero serve` and `turnero worker` processes on one PostgreSQL, with the fake
Twilio as a process of its own: the harness the cluster tests (and benchmarks) start.

`Cluster.start(base_url, servers=2, workers=2)` creates a fresh database beside the one
`base_url` names (`cluster_<random>`, dropped at the end), migrates it with `turnero db
upgrade`, seeds a clinic (`seed_clinic`), starts `turnero fake-twilio`, the servers and
the workers, each on a free port of 127.0.0.1 with its own log file, and waits until
every server's `/readyz` says ready. Used as a context manager it stops every process
(SIGTERM, then SIGKILL) and drops the database, also when the body failed.

Inbound messages are posted as Twilio posts them (`post_inbound`): the form fields and an
`X-Twilio-Signature` over PUBLIC_BASE_URL + the path (the address Twilio knows, as behind
a load balancer), spread across the servers in turn. `kill_worker` SIGKILLs a worker,
`restart_worker` starts it again; `fake_messages` is what reached the fake Twilio."""

import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar

import requests
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import select
from twilio.request_validator import RequestValidator

from store.db import make_engine, normalize_url, transaction
from store.message_kinds import MessageKind
from store.models import Clinic, Professional, ProfessionalService, Service, WorkingHours
from store.outbox import enqueue
from store.rules import add_default_rule
from turnero.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_BASE_URL = "https://turnero.cluster.test"  # what Twilio calls: the load balancer
INBOUND_PATH = "/whatsapp/inbound"
CLINIC_NUMBER = "+595981700000"
PROFESSIONALS = ("Dra. Ana Benítez", "Dr. Luis Ortiz")
WORKER_INTERVAL_SECONDS = 0.3
CLAIM_TIMEOUT_SECONDS = 20.0  # the shortest the settings allow: a killed worker's sends
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0

T = TypeVar("T")


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it returns something true; its value, or TimeoutError naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


# -- the database ---------------------------------------------------------------------------


def create_database(base_url: str) -> str:
    """A new, empty database on the server of `base_url` (a PostgreSQL URL); its URL."""
    url = make_url(normalize_url(base_url))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"the cluster needs PostgreSQL, not {url.get_backend_name()}")
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    _admin(base_url, f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database `create_database` made, whoever is still connected to it."""
    name = make_url(url).database or ""
    if name.startswith("cluster_"):
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    """Run a statement outside a transaction, from the server's `postgres` database."""
    engine = create_engine(
        make_url(normalize_url(url)).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def seed_clinic(
    engine: Engine,
    number: str = CLINIC_NUMBER,
    *,
    rate: float = 80.0,
    name: str = "Clínica",
    professionals: Sequence[str] = PROFESSIONALS,
) -> int:
    """A clinic answering on `number` and sending at most `rate` messages a second: one
    self-bookable consultation (30 min), given by `professionals` (two by default) who
    work every day from 00:00 to 23:30 local time, bookable from now on; its id."""
    with transaction(engine) as session:
        clinic = Clinic(
            name=name,
            timezone="America/Asuncion",
            whatsapp_number=number,
            min_notice_minutes=0,
            horizon_days=14,
            slot_step_minutes=30,
            send_rate_per_second=rate,
            interactive_messages=False,
        )
        session.add(clinic)
        session.flush()
        clinic_id = clinic.id or 0
        add_default_rule(session, clinic_id, datetime.now(UTC))
        service = Service(clinic_id=clinic_id, name="Consulta", duration_minutes=30)
        session.add(service)
        for professional_name in professionals:
            professional = Professional(clinic_id=clinic_id, name=professional_name)
            session.add(professional)
            session.flush()
            session.add(
                ProfessionalService(
                    clinic_id=clinic_id,
                    professional_id=professional.id or 0,
                    service_id=service.id or 0,
                )
            )
            for weekday in range(7):
                session.add(
                    WorkingHours(
                        clinic_id=clinic_id,
                        professional_id=professional.id or 0,
                        weekday=weekday,
                        start=clock_time(0),
                        end=clock_time(23, 30),
                    )
                )
        return clinic_id


def queue_burst(
    engine: Engine, clinic_number: str, phones: list[str], per_phone: int, tag: str
) -> int:
    """Queue `per_phone` business-initiated messages (post-visit care) from the clinic of
    `clinic_number` to each phone, phone after phone, each body its own; how many.
    Inside a phone's 24-hour window they go as text."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        clinic_id = session.exec(
            select(Clinic.id).where(Clinic.whatsapp_number == clinic_number)
        ).one()
        return sum(
            enqueue(
                session,
                clinic_id=clinic_id or 0,
                idempotency_key=f"{tag}:{phone}:{n}",
                from_phone=clinic_number,
                to_phone=phone,
                body=f"{tag}: {n + 1} / {per_phone}",
                now=now,
                kind=MessageKind.care,
            )
            for phone in phones
            for n in range(per_phone)
        )


# -- the processes --------------------------------------------------------------------------


@dataclass
class Process:
    """One process of the cluster: its command, where it logs, and the running child."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    child: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it in a process group of its own (gunicorn's workers are in it too)."""
        with self.log_path.open("ab") as log:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "turnero.cli", *self.args],
                env=self.env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        if self.child is not None:
            self._signal_group(signal.SIGKILL)
            self.child.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL for what is still there after a while."""
        if self.child is None:
            return
        self._signal_group(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.child.wait(timeout=STOP_SECONDS)
        self._signal_group(signal.SIGKILL)  # gunicorn's workers, should any linger
        if self.child.poll() is None:
            self.child.wait(timeout=STOP_SECONDS)

    def _signal_group(self, signum: int) -> None:
        assert self.child is not None
        with suppress(ProcessLookupError):
            os.killpg(self.child.pid, signum)  # the group this process leads

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Cluster:
    """The running cluster: the database's URL and an engine on it, the fake Twilio, the
    servers and the workers. Build it with `Cluster.start`."""

    database_url: str
    engine: Engine
    folder: Path
    fake: Process
    servers: list[Process]
    workers: list[Process]
    env: dict[str, str]
    _turn: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _turn_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    @contextmanager
    def start(
        cls,
        base_url: str,
        *,
        servers: int = 2,
        workers: int = 2,
        web_workers: int = 2,
        environment: dict[str, str] | None = None,
        folder: Path | None = None,
        seed: Callable[[Engine], Any] = seed_clinic,
    ) -> Iterator["Cluster"]:
        """A fresh database seeded by `seed`, the fake Twilio, `servers` × `turnero serve`
        (each with `web_workers` gunicorn workers) and `workers` × `turnero worker`, ready;
        logs in `folder` (a temporary one by default). Everything stops, and the database
        goes, when the block ends."""
        with ExitStack() as stack:
            if folder is None:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cluster-")))
            database_url = create_database(base_url)
            stack.callback(drop_database, database_url)
            engine = make_engine(database_url)
            stack.callback(engine.dispose)
            fake_port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "TWILIO_API_URL": f"http://127.0.0.1:{fake_port}",
                "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
                "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "SECRET_KEY": uuid.uuid4().hex,
                "WORKER_INTERVAL_SECONDS": str(WORKER_INTERVAL_SECONDS),
                "OUTBOX_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT_SECONDS),
                "PYTHONPATH": os.pathsep.join(
                    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
                **(environment or {}),
            }
            migrated = subprocess.run(
                [sys.executable, "-m", "turnero.cli", "db", "upgrade"],
                env=env,
                cwd=folder,
                capture_output=True,
                text=True,
            )
            if migrated.returncode != 0:
                raise RuntimeError(f"turnero db upgrade failed:\n{migrated.stderr[-3000:]}")
            seed(engine)
            fake = Process(
                "fake-twilio",
                ["fake-twilio", "--port", str(fake_port)],
                env,
                folder / "fake-twilio.log",
                fake_port,
            )
            cluster = cls(database_url, engine, folder, fake, [], [], env)
            stack.callback(cluster.stop)
            fake.start()
            for n in range(servers):
                port = free_port()
                server = Process(
                    f"server-{n}",
                    ["serve", "--port", str(port), "--workers", str(web_workers)],
                    env,
                    folder / f"server-{n}.log",
                    port,
                )
                cluster.servers.append(server)
                server.start()
            for n in range(workers):
                worker = Process(f"worker-{n}", ["worker"], env, folder / f"worker-{n}.log")
                cluster.workers.append(worker)
                worker.start()
            cluster.wait_ready()
            yield cluster

    # -- lifecycle ----------------------------------------------------------------------

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        """Until the fake answers and every server's `/readyz` says ready (the database
        migrated, a worker beating)."""
        wait_until(lambda: self._answers(self.fake.url + "/_fake/messages"), timeout, "the fake")
        for server in self.servers:
            wait_until(lambda s=server: self._answers(s.url + "/readyz"), timeout, server.name)

    def _answers(self, url: str) -> bool:
        for process in (self.fake, *self.servers, *self.workers):
            if process.child is not None and not process.running:
                raise RuntimeError(f"{process.name} exited:\n{process.log()[-3000:]}")
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """Stop every process, the workers first (nothing half sent when the fake goes)."""
        for process in (*self.workers, *self.servers, self.fake):
            process.stop()

    def kill_worker(self, index: int) -> None:
        self.workers[index].kill()

    def restart_worker(self, index: int) -> None:
        worker = self.workers[index]
        if worker.running:
            raise RuntimeError(f"{worker.name} is running")
        worker.start()

    # -- Twilio's side ------------------------------------------------------------------

    def post_inbound(
        self, phone: str, body: str, *, to: str = CLINIC_NUMBER, server: int | None = None
    ) -> tuple[str, requests.Response]:
        """Post a WhatsApp message from `phone` to the clinic's number `to` as Twilio does,
        to `server` or the next server in turn; its MessageSid and the answer."""
        if server is None:
            with self._turn_lock:
                server = next(self._turn) % len(self.servers)
        sid = "SM" + uuid.uuid4().hex
        form = {
            "MessageSid": sid,
            "AccountSid": DEFAULT_ACCOUNT_SID,
            "From": f"whatsapp:{phone}",
            "To": f"whatsapp:{to}",
            "Body": body,
            "NumMedia": "0",
            "ProfileName": "Paciente",
            "WaId": phone.lstrip("+"),
        }
        signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
            PUBLIC_BASE_URL + INBOUND_PATH, form
        )
        answer = requests.post(
            self.servers[server].url + INBOUND_PATH,
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=30,
        )
        return sid, answer

    def fake_messages(self) -> list[dict[str, Any]]:
        """Every message the fake Twilio was asked to send, oldest first."""
        answer = requests.get(self.fake.url + "/_fake/messages", timeout=10)
        answer.raise_for_status()
        messages: list[dict[str, Any]] = answer.json()
        return messages

    def fake_control(self, action: str, **payload: Any) -> None:
        """One of the fake's controls (`fail`, `answer_late`, `window`, `reset`…)."""
        requests.post(
            f"{self.fake.url}/_fake/{action}", json=payload, timeout=10
        ).raise_for_status()
