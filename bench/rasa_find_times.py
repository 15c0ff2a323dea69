"""The Rasa action server's "find times" over HTTP: p50/p95 for 30 professionals, a 90-day
horizon and 50,000 appointments (target: p95 <= 20 ms).

Setup: the clinic of `first_available.py` (seeded by its `seed`, into a fresh database: a
SQLite file in a temp folder by default, or with --database-url the scratch PostgreSQL
database `bench_rasa_find_times_<pid>`). rasa-sdk's action server (`rasa_actions.server`, its
own Sanic app and executor) is served on a free port of this process, whose clock is set
to a random moment of the 90 days before each request (so "mañana" moves with it).

Measured: one `POST /webhook` per query, as a Rasa server sends it — `next_action`
`action_turnero_find_times`, a tracker whose slots name the service (by name) and "first
available", and a day in free text taken in turn from `SAYINGS` — timed from the request
to the parsed answer over a kept-alive connection, after a warm-up. Each answer must offer
times or say why not (a full day, the nearest days).

Run: python bench/rasa_find_times.py [--database-url URL] [--queries 400] [--keep]
"""

import argparse
import logging
import tempfile
import time as clock
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from _support import describe_url, drop_scratch_database, figure, percentile, scratch_database_url
from first_available import random_moments, seed

from bot import locale
from config.tzcheck import use_packaged_tzdata
from rasa_actions.server import served
from rasa_actions.tracker import Context
from store.db import make_engine
from store.migrate import upgrade
from usecases.assistant import ANY, Agenda

TARGET_P95_MS = 20.0
WARM_UP = 20
SAYINGS = ["mañana", "el martes a la tarde", "ko'ẽrõ", "pasado mañana", "el viernes", ""]


class Clock:
    """The server's time, moved by the benchmark before each request."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def request(day: str) -> dict[str, Any]:
    """What Rasa posts to run the action (rasa-sdk's request format)."""
    slots = {"service": "Consulta", "professional": ANY, "day": day, "language": "es"}
    return {
        "next_action": "action_turnero_find_times",
        "sender_id": "bench",
        "version": "3.21.1",
        "tracker": {
            "sender_id": "bench",
            "slots": slots,
            "latest_message": {"text": day, "intent": {"name": "find_times"}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {"slots": {name: {"type": "text"} for name in slots}, "forms": {}},
    }


def measure(url: str, now: Clock, queries: int) -> list[float]:
    moments = random_moments(queries + WARM_UP, seed=24)
    timings: list[float] = []
    with requests.Session() as http:
        for index, moment in enumerate(moments):
            now.now = moment
            body = request(SAYINGS[index % len(SAYINGS)])
            started = clock.perf_counter()
            answer = http.post(f"{url}/webhook", json=body, timeout=30)
            result = answer.json()
            elapsed = (clock.perf_counter() - started) * 1000
            if answer.status_code != 200 or not result["responses"]:
                raise AssertionError(f"no answer at {moment}: {answer.text[:300]}")
            if index >= WARM_UP:
                timings.append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    logging.getLogger("sanic").setLevel(logging.WARNING)
    use_packaged_tzdata()
    locale.configure()
    with tempfile.TemporaryDirectory() as folder:
        url = scratch_database_url(args.database_url, "rasa_find_times", Path(folder))
        try:
            upgrade(url)
            engine = make_engine(url)
            clinic_id, _, ids, _ = seed(engine)
            now = Clock()
            agenda = Agenda(engine, now, lambda appointment_id: "")
            with served(Context(agenda, clinic_id)) as server:
                timings = measure(server, now, args.queries)
            engine.dispose()
        finally:
            if not args.keep:
                drop_scratch_database(url)
    p95 = percentile(timings, 0.95)
    print(f"database: {describe_url(url)}; {len(ids)} professionals, {len(timings)} queries")
    print(figure("find times p50", percentile(timings, 0.50), "ms"))
    print(figure("find times p95", p95, "ms", f"<= {TARGET_P95_MS:g}", p95 <= TARGET_P95_MS))
    print(figure("find times max", max(timings), "ms"))


if __name__ == "__main__":
    main()
