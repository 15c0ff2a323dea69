"""First-available latency with the store: p50/p95 for 30 professionals, a 90-day horizon
and 50,000 appointments (target: p95 <= 10 ms).

Setup: a fresh database (a SQLite file in a temp folder by default; with --database-url a
scratch PostgreSQL database on that server, `bench_first_available_<pid>`, dropped and created
again), migrated with `store.migrate.upgrade`. One clinic (America/Asuncion, 90-day
horizon, 60-minute notice, 15-minute step), 30 professionals who all offer "Consulta"
(30 min, the service asked about) and "Control" (15 min), weekly hours with breaks in four
patterns (5 to 6 days a week), and 50,000 appointments of 15 or 30 minutes spread over
the 90 days: each professional's working time is tiled with 15/30-minute pieces and
50,000 of them are drawn at random, so none overlap (the database checks it: an exclusion
constraint on PostgreSQL, triggers on SQLite). Rows go in with bulk executemany inserts.

Measured: what the bot does for "first available", at random moments ("now") within the
90 days: in one fresh session,
`StoreAvailability(session, clinic, now).days_with_space(service, all_ids, today, 5)` and
then `.slots(service, all_ids, first_day)`, timed together (DB reads included). The parts
are reported too: the time in the two reads StoreAvailability makes
(`store.schedule.weekly_hours` and `busy_between`, wrapped with timers while measuring),
the garbage collector's pauses, and the rest (the arithmetic). Then the same queries are
answered by `ScheduleAvailability` over schedules already in memory: the pure computation
(its answers are checked to be the store's).

With --past-block-offs N, the same queries are measured a second time after N block-offs
that all ended before the 90 days are added (spread over the 5 years before them; a
quarter clinic-wide, the rest one professional's; hours, whole days and some vacations of
weeks): the history before today must not slow an availability read (target: p95 within
10% of none), and the answers must not change.

Run: python bench/first_available.py [--database-url URL] [--queries 400]
    [--past-block-offs 100000] [--keep]
"""

import argparse
import gc
import logging
import random
import statistics
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _support import (
    describe_url,
    drop_scratch_database,
    figure,
    percentile,
    scratch_database_url,
)
from sqlalchemy import Engine, insert, text
from sqlmodel import Session, select

import usecases.stored_availability as store_availability
from bot.availability import ProfessionalSchedule, ScheduleAvailability
from bot.types import ServiceInfo
from config.tzcheck import use_packaged_tzdata
from store import day_loads
from store.booking import CODE_ALPHABET
from store.db import make_engine, transaction
from store.migrate import upgrade
from store.models import (
    Appointment,
    BlockOff,
    Clinic,
    Patient,
    Professional,
    ProfessionalService,
    Service,
    WorkingHours,
)
from store.schedule import busy_between, weekly_hours
from usecases.stored_availability import StoreAvailability

TARGET_P95_MS = 10.0


@dataclass(frozen=True)
class Scenario:
    """A calendar: its days, the horizon, how many days from the first are fully booked,
    and then either a share of every later day's working time or a number of pieces drawn
    at random over the whole span (`appointments`)."""

    span_days: int
    horizon_days: int
    target_ms: float
    full_days: int = 0
    later_share: float = 0.0
    appointments: int = 0
    moments_on_first_day: bool = True  # "now" within the first day, the full days ahead


SCENARIOS = {
    # 50,000 pieces at random over 90 days; "now" anywhere in them
    "random": Scenario(90, 90, 10.0, appointments=50_000, moments_on_first_day=False),
    # django-appointment's own scenario: 14 days full, then 90% booked to 90 days
    "peer": Scenario(90, 90, 10.0, full_days=14, later_share=0.9),
    "full60": Scenario(90, 90, 12.0, full_days=60, later_share=0.9),
    # a busy specialist: nothing free in a 365-day horizon
    "full365": Scenario(366, 365, 25.0, full_days=366),
}
PAST_BLOCK_OFFS_SLOWER = 0.10  # the most p95 may grow with past block-offs
PAST_YEARS = 5  # the past block-offs are spread over the years before FIRST_DAY
ZONE_NAME = "America/Asuncion"
FIRST_DAY = date(2026, 11, 23)  # a Monday; appointments fill the span's days from it
PROFESSIONALS = 30
PATIENTS = 2_000
DAYS_OFFERED = 5  # what the engine asks for
SHARE_OF_30_MINUTES = 0.3  # of the pieces working time is cut into; the rest are 15 minutes


def _hours(*pairs: tuple[int, int, int, int]) -> list[tuple[time, time]]:
    return [(time(h1, m1), time(h2, m2)) for h1, m1, h2, m2 in pairs]


# Weekly patterns {weekday: intervals}, local time; a gap between intervals is a break.
PATTERNS = [
    {
        **{d: _hours((8, 0, 12, 0), (13, 0, 19, 0)) for d in range(5)},
        5: _hours((8, 0, 12, 0)),
    },
    {d: _hours((7, 0, 11, 30), (12, 30, 17, 0)) for d in range(6)},
    {d: _hours((9, 0, 13, 0), (14, 0, 20, 0)) for d in range(5)},
    {
        **{d: _hours((8, 0, 13, 0), (14, 0, 20, 0)) for d in (0, 2, 4)},
        **{d: _hours((12, 0, 20, 0)) for d in (1, 3)},
        5: _hours((9, 0, 13, 0)),
    },
]


def _code(n: int) -> str:
    digits = []
    for _ in range(6):
        n, r = divmod(n, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[r])
    return "".join(digits)


def _tiles(  # type: ignore[no-untyped-def]
    weekly: dict[int, list[tuple[time, time]]], zone: ZoneInfo, chance: random.Random, days: int
):
    """The professional's working time over the span cut into 15/30-minute pieces (UTC),
    each with its day's offset from the first."""
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        for start, end in weekly.get(day.weekday(), ()):
            moment = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            finish = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
            while moment + timedelta(minutes=15) <= finish:
                minutes = 30 if chance.random() < SHARE_OF_30_MINUTES else 15
                if moment + timedelta(minutes=minutes) > finish:
                    minutes = 15
                yield moment, moment + timedelta(minutes=minutes), minutes, offset
                moment += timedelta(minutes=minutes)


def _booked(scenario: Scenario, tiles: list, chance: random.Random) -> list:  # type: ignore[type-arg]
    """The pieces of working time the scenario books."""
    if scenario.appointments:
        if len(tiles) < scenario.appointments:
            raise SystemExit(f"only {len(tiles)} pieces of working time")
        return chance.sample(tiles, scenario.appointments)
    return [
        t for t in tiles if t[-1] < scenario.full_days or chance.random() < scenario.later_share
    ]


def seed(engine: Engine, scenario: Scenario) -> tuple[int, ServiceInfo, list[int], float, int]:
    """The clinic; returns its id, the service asked about, the professionals, the share
    of working time booked and the appointments."""
    chance = random.Random(2026)
    zone = ZoneInfo(ZONE_NAME)
    with transaction(engine) as session:
        clinic = Clinic(
            name="Clínica Bench",
            timezone=ZONE_NAME,
            whatsapp_number="+595981990001",
            min_notice_minutes=60,
            horizon_days=scenario.horizon_days,
            slot_step_minutes=15,
        )
        session.add(clinic)
        session.flush()
        cid = clinic.id or 0
        consulta = Service(clinic_id=cid, name="Consulta", duration_minutes=30)
        control = Service(clinic_id=cid, name="Control", duration_minutes=15)
        session.add_all([consulta, control])
        professionals = [
            Professional(clinic_id=cid, name=f"Profesional {n:02d}") for n in range(PROFESSIONALS)
        ]
        session.add_all(professionals)
        session.flush()
        service_ids = {30: consulta.id or 0, 15: control.id or 0}
        ids = [p.id or 0 for p in professionals]
        session.execute(
            insert(ProfessionalService.__table__),  # type: ignore[attr-defined]
            [
                {"clinic_id": cid, "professional_id": pid, "service_id": sid}
                for pid in ids
                for sid in service_ids.values()
            ],
        )
        hours_rows, tiles = [], []
        for index, pid in enumerate(ids):
            weekly = PATTERNS[index % len(PATTERNS)]
            for weekday, intervals in weekly.items():
                for start, end in intervals:
                    hours_rows.append(
                        {
                            "clinic_id": cid,
                            "professional_id": pid,
                            "weekday": weekday,
                            "start": start,
                            "end": end,
                        }
                    )
            tiles += [(pid, *t) for t in _tiles(weekly, zone, chance, scenario.span_days)]
        session.execute(insert(WorkingHours.__table__), hours_rows)  # type: ignore[attr-defined]
        joined = datetime.now(UTC)
        session.execute(
            insert(Patient.__table__),  # type: ignore[attr-defined]
            [
                {
                    "clinic_id": cid,
                    "phone": f"+5959820{n:05d}",
                    "name": f"Paciente {n}",
                    "bot_paused": False,
                    "opted_out": False,
                    "first_seen_at": joined,
                }
                for n in range(PATIENTS)
            ],
        )
        patient_ids = list(session.exec(select(Patient.id).where(Patient.clinic_id == cid)))
        chosen = _booked(scenario, tiles, chance)
        # Latest first: the SQLite overlap trigger then finds few rows to compare with.
        chosen.sort(key=lambda t: (t[0], t[1]), reverse=True)
        created = datetime.now(UTC)
        session.execute(
            insert(Appointment.__table__),  # type: ignore[attr-defined]
            [
                {
                    "clinic_id": cid,
                    "professional_id": pid,
                    "service_id": service_ids[minutes],
                    "patient_id": chance.choice(patient_ids),
                    "starts_at": starts,
                    "ends_at": ends,
                    "status": "booked",
                    "source_channel": "whatsapp",
                    "code": _code(n),
                    "new_patient": False,
                    "created_at": created,
                }
                for n, (pid, starts, ends, minutes, _) in enumerate(chosen)
            ],
        )
        service = ServiceInfo(consulta.id or 0, consulta.name, timedelta(minutes=30))
        booked = sum(t[3] for t in chosen)
        return cid, service, ids, booked / sum(t[3] for t in tiles), len(chosen)


def fill_day_loads(engine: Engine, clinic_id: int, scenario: Scenario) -> None:
    """The day loads of the whole span, as the worker writes them for the horizon."""
    with transaction(engine) as session:
        day_loads.fill(session.connection(), clinic_id, FIRST_DAY, scenario.span_days + 1)


def add_past_block_offs(engine: Engine, clinic_id: int, ids: list[int], count: int) -> None:
    """`count` block-offs that all ended before FIRST_DAY: a quarter clinic-wide, the rest
    one professional's; 80% of a few hours, 15% of whole days, 5% vacations of 1-4 weeks."""
    chance = random.Random(19)
    zone = ZoneInfo(ZONE_NAME)
    latest_end = datetime.combine(FIRST_DAY, time(0), tzinfo=zone).astimezone(UTC)
    span = PAST_YEARS * 365 * 86_400
    found = []
    for _ in range(count):
        kind = chance.random()
        if kind < 0.80:
            length = timedelta(hours=chance.randint(1, 6))
        elif kind < 0.95:
            length = timedelta(days=chance.randint(1, 3))
        else:
            length = timedelta(weeks=chance.randint(1, 4))
        ends = latest_end - timedelta(seconds=chance.uniform(0, span))
        found.append(
            {
                "clinic_id": clinic_id,
                "professional_id": None if chance.random() < 0.25 else chance.choice(ids),
                "starts_at": ends - length,
                "ends_at": ends,
                "reason": "pasado",
            }
        )
    with transaction(engine) as session:
        session.execute(insert(BlockOff.__table__), found)  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE block_off"))


@dataclass
class Query:
    """One timed "first available": its times in ms, rows read, and its answer."""

    total: float
    weekly: float  # inside store.schedule.weekly_hours
    busy: float  # inside store.schedule.busy_between
    loads: float  # inside store.day_loads.professionals_too_full
    gc: float  # garbage-collector pauses during the query
    rows: int  # busy intervals read
    reads: dict[str, int]  # calls of weekly_hours and busy_between
    now: datetime
    answer: tuple[list[date], int]  # the days offered, and how many slots on the first

    @property
    def compute(self) -> float:
        return self.total - self.weekly - self.busy - self.loads - self.gc


class Probe:
    """Times the two reads StoreAvailability makes (the module's own references to
    `weekly_hours` and `busy_between` are wrapped while the probe is on, so the code
    measured is the production one) and the garbage collector's pauses, which are taken
    out of the read they interrupted, so the parts add up to the total."""

    def __init__(self) -> None:
        self.reset()
        self.full_collections: list[float] = []
        self._section = ""
        self._gc_started = 0.0

    def reset(self) -> None:
        self.weekly = self.busy = self.loads = self.gc = 0.0
        self.rows = 0
        self.calls = {"weekly": 0, "busy": 0, "loads": 0}

    def _timed(self, section: str, function):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            self._section = section
            self.calls[section] += 1
            started = clock.perf_counter()
            try:
                found = function(*args, **kwargs)
                if section == "busy":
                    self.rows += sum(len(v) for v in found.values())
                return found
            finally:
                elapsed = clock.perf_counter() - started
                setattr(self, section, getattr(self, section) + elapsed)
                self._section = ""

        return timed

    def __enter__(self) -> "Probe":
        self._originals = (
            store_availability.weekly_hours,
            store_availability.busy_between,
            store_availability.professionals_too_full,
        )
        store_availability.weekly_hours = self._timed("weekly", self._originals[0])
        store_availability.busy_between = self._timed("busy", self._originals[1])
        store_availability.professionals_too_full = self._timed("loads", self._originals[2])
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        (
            store_availability.weekly_hours,
            store_availability.busy_between,
            store_availability.professionals_too_full,
        ) = self._originals
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = clock.perf_counter()
            return
        pause = clock.perf_counter() - self._gc_started
        self.gc += pause
        if self._section:  # counted by the read's own timer too
            setattr(self, self._section, getattr(self, self._section) - pause)
        if info.get("generation") == 2:
            self.full_collections.append(pause * 1000)


def random_moments(count: int, seed: int, scenario: Scenario) -> list[datetime]:
    """Moments within the first day (the full days all ahead) or anywhere in the span."""
    chance = random.Random(seed)
    start = datetime.combine(FIRST_DAY, time(0), tzinfo=ZoneInfo(ZONE_NAME)).astimezone(UTC)
    span = (1 if scenario.moments_on_first_day else scenario.span_days) * 86_400
    return [start + timedelta(seconds=chance.uniform(0, span)) for _ in range(count)]


def first_available(availability, service: ServiceInfo, ids: list[int], today: date):  # type: ignore[no-untyped-def]
    """What the engine asks for "first available": the days, then the first day's times."""
    days = availability.days_with_space(service, ids, today, DAYS_OFFERED)
    slots = availability.slots(service, ids, days[0]) if days else []
    return days, slots


def measure_store(
    engine: Engine,
    clinic_id: int,
    service: ServiceInfo,
    ids: list[int],
    moments: list[datetime],
    probe: Probe,
    may_find_nothing: bool = False,
) -> list[Query]:
    """Each query in a fresh session, as one inbound message gets."""
    with Session(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        session.expunge(clinic)
    queries = []
    with probe:
        for now in moments:
            probe.reset()
            with Session(engine) as session:
                started = clock.perf_counter()
                availability = StoreAvailability(session, clinic, now)  # type: ignore[arg-type]
                today = availability.rules.local_date(now)
                days, slots = first_available(availability, service, ids, today)
                elapsed = clock.perf_counter() - started
                session.rollback()
            if not may_find_nothing and (not days or not slots):
                raise AssertionError(f"nothing free at {now}")
            queries.append(
                Query(
                    total=elapsed * 1000,
                    weekly=probe.weekly * 1000,
                    busy=probe.busy * 1000,
                    loads=probe.loads * 1000,
                    gc=probe.gc * 1000,
                    rows=probe.rows,
                    reads=dict(probe.calls),
                    now=now,
                    answer=(days, len(slots)),
                )
            )
    return queries


def measure_memory(
    engine: Engine,
    clinic_id: int,
    service: ServiceInfo,
    ids: list[int],
    queries: list[Query],
    span_days: int,
) -> list[float]:
    """The same queries over every schedule already in memory (busy index built); checks
    that the answers are the store's."""
    with Session(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        store = StoreAvailability(session, clinic, queries[0].now)  # type: ignore[arg-type]
        tz = store.rules.timezone
        since = datetime.combine(FIRST_DAY - timedelta(days=1), time.min, tzinfo=tz)
        until = since + timedelta(days=span_days + 100)
        weekly = weekly_hours(session, ids)
        busy = busy_between(session, clinic_id, ids, since, until)
        loaded = [ProfessionalSchedule(p, weekly[p], tuple(busy[p])) for p in ids]
        rules = store.rules
    schedules = {s.professional_id: s for s in loaded}
    for schedule in loaded:
        _ = schedule.busy_index
    timings = []
    for query in queries:
        started = clock.perf_counter()
        availability = ScheduleAvailability(schedules, rules, query.now)
        days, slots = first_available(availability, service, ids, rules.local_date(query.now))
        timings.append((clock.perf_counter() - started) * 1000)
        if (days, len(slots)) != query.answer:
            raise AssertionError(f"memory and store disagree at {query.now}")
    return timings


def summary(label: str, values: list[float], target: float | None = None) -> None:
    p95 = percentile(values, 0.95)
    print(figure(f"{label} p50", percentile(values, 0.50), "ms"))
    if target is None:
        print(figure(f"{label} p95", p95, "ms"))
    else:
        print(figure(f"{label} p95", p95, "ms", f"<= {target:g} ms", p95 <= target))
    print(figure(f"{label} max", max(values), "ms"))


def timed(what: str, action: Callable[[], object]) -> object:
    started = clock.perf_counter()
    result = action()
    print(f"  {what}: {clock.perf_counter() - started:.1f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="random")
    parser.add_argument("--queries", type=int, default=400, help="timed queries")
    parser.add_argument(
        "--past-block-offs",
        type=int,
        default=0,
        metavar="N",
        help="measure again after adding N block-offs that ended before the span",
    )
    parser.add_argument(
        "--without-day-loads",
        action="store_true",
        help="leave the day loads unwritten: every day is read, as before they existed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    args = parser.parse_args(argv)
    scenario = SCENARIOS[args.scenario]
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)  # not what is measured
    use_packaged_tzdata()

    with tempfile.TemporaryDirectory(prefix="bench-first-available-") as folder:
        url = scratch_database_url(args.database_url, "first_available", Path(folder))
        print(f"first_available ({args.scenario}): {describe_url(url)}")
        engine = make_engine(url)
        try:
            timed("migrate", lambda: upgrade(url))
            seeded = timed("seed", lambda: seed(engine, scenario))
            clinic_id, service, ids, fill, count = seeded  # type: ignore[misc]
            if not args.without_day_loads:
                timed("day loads", lambda: fill_day_loads(engine, clinic_id, scenario))
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:  # as autovacuum would, after a bulk load
                    connection.execute(text("ANALYZE"))
            print(
                f"  {PROFESSIONALS} professionals, {count:,} appointments over"
                f" {scenario.span_days} days ({fill:.0%} of the working time booked),"
                f" {scenario.full_days} days full, horizon {scenario.horizon_days} days,"
                f" day loads {'not written' if args.without_day_loads else 'written'}"
            )
            empty = scenario.full_days >= scenario.span_days
            warm_up = random_moments(20, 1, scenario)
            measure_store(engine, clinic_id, service, ids, warm_up, Probe(), empty)
            probe = Probe()
            moments = random_moments(args.queries, 2, scenario)
            queries = measure_store(engine, clinic_id, service, ids, moments, probe, empty)
            checked = queries if scenario.appointments else queries[:40]
            memory = measure_memory(engine, clinic_id, service, ids, checked, scenario.span_days)
            with_past: list[Query] = []
            if args.past_block_offs:
                timed(
                    f"{args.past_block_offs:,} past block-offs",
                    lambda: add_past_block_offs(engine, clinic_id, ids, args.past_block_offs),
                )
                measure_store(engine, clinic_id, service, ids, warm_up, Probe(), empty)
                with_past = measure_store(engine, clinic_id, service, ids, moments, Probe(), empty)
        finally:
            engine.dispose()
            if not args.keep:
                drop_scratch_database(url)

    zone = ZoneInfo(ZONE_NAME)
    ahead = [(q.answer[0][0] - q.now.astimezone(zone).date()).days for q in queries if q.answer[0]]
    if ahead:
        print(
            f"  {len(queries)} queries at random moments; first day offered"
            f" {statistics.mean(ahead):.2f} days after today on average (max {max(ahead)}),"
            f" {statistics.mean(q.answer[1] for q in queries):.0f} times free on it on average"
        )
    else:
        print(f"  {len(queries)} queries at random moments; nothing free in the horizon")
    print(
        f"  per query: {statistics.mean(q.rows for q in queries):,.0f} busy intervals read"
        f" ({statistics.mean(q.reads['weekly'] for q in queries):.1f} reads of weekly hours,"
        f" {statistics.mean(q.reads['busy'] for q in queries):.1f} of busy intervals,"
        f" {statistics.mean(q.reads['loads'] for q in queries):.1f} of day loads);"
        f" GC pauses in {sum(q.gc > 0 for q in queries)} of them,"
        f" {len(probe.full_collections)} full (gen-2) collections"
        f" of {statistics.mean(probe.full_collections or [0]):.1f} ms on average"
    )
    if not scenario.moments_on_first_day:
        start = datetime.combine(FIRST_DAY, time(0), tzinfo=zone)
        thirds: list[list[float]] = [[] for _ in range(3)]
        for q in queries:
            thirds[min(2, (q.now - start).days * 3 // scenario.span_days)].append(q.total)
        print(
            f"  p50 by how far `now` is into the {scenario.span_days} booked days: "
            + ", ".join(
                f"days {i * 30}-{i * 30 + 30}: {percentile(t, 0.5):.1f} ms"
                for i, t in enumerate(thirds)
                if t
            )
        )
    target = scenario.target_ms
    summary("first available (store, reads included)", [q.total for q in queries], target)
    summary("  in store.schedule.weekly_hours", [q.weekly for q in queries])
    summary("  in store.schedule.busy_between", [q.busy for q in queries])
    summary("  in store.day_loads.professionals_too_full", [q.loads for q in queries])
    summary("  in garbage collection", [q.gc for q in queries])
    summary("  computing (the rest)", [q.compute for q in queries])
    summary(f"first available (pure in-memory computation, {len(memory)} queries)", memory)
    met = percentile([q.total for q in queries], 0.95) <= target
    if with_past:
        if [q.answer for q in with_past] != [q.answer for q in queries]:
            raise AssertionError("past block-offs changed the answers")
        print(f"with {args.past_block_offs:,} past block-offs (same queries, same answers):")
        none = percentile([q.total for q in queries], 0.95)
        limit = round(none * (1 + PAST_BLOCK_OFFS_SLOWER), 2)
        summary("first available (store, reads included)", [q.total for q in with_past], limit)
        summary("  in store.schedule.busy_between", [q.busy for q in with_past])
        grown = percentile([q.total for q in with_past], 0.95) / none - 1
        print(f"  p95 {grown:+.0%} against none")
        met = met and grown <= PAST_BLOCK_OFFS_SLOWER
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
