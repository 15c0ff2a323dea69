"""Shared by the benchmarks: a scratch database, percentiles, and the summary lines.

A scratch database is a SQLite file in a temporary folder, or, for a PostgreSQL URL, a
database of its own on that server (`bench_<name>`, dropped and created again), so
benchmarks never touch the tables of anyone else using the server."""

import math
import os
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from store.db import normalize_url


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and normalize_url(url or "").startswith("postgresql")


def scratch_database_url(url: str | None, name: str, folder: Path) -> str:
    """A URL for an empty database: `folder/<name>.db`, or the PostgreSQL database
    `bench_<name>_<pid>` on the given URL's server, dropped and created again (the
    process id keeps two runs at once out of each other's database)."""
    if not url:
        return f"sqlite:///{folder / (name + '.db')}"
    url = normalize_url(url)
    if not url.startswith("postgresql"):
        raise SystemExit(f"unsupported database URL {url!r}: give a PostgreSQL one, or none")
    database = f"bench_{name}_{os.getpid()}"
    _on_server(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _on_server(url, f'CREATE DATABASE "{database}"')
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def drop_scratch_database(scratch_url: str) -> None:
    """Drop the scratch database (PostgreSQL); a SQLite file goes with its temp folder."""
    if not is_postgres_url(scratch_url):
        return
    database = make_url(scratch_url).database or ""
    if database.startswith("bench_"):
        _on_server(scratch_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _on_server(url: str, statement: str) -> None:
    """Run one statement outside any transaction, connected to the server's `postgres`
    database (a database cannot be dropped from inside itself)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def describe_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"PostgreSQL {parsed.host}:{parsed.port or 5432}/{parsed.database}"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of unsorted values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def figure(name: str, value: float, unit: str, target: str = "", met: bool | None = None) -> str:
    """One summary line: name, value, unit, target and whether it is met."""
    verdict = "" if met is None else ("MET" if met else "NOT MET")
    line = f"{name:<48} {value:>10,.2f} {unit:<8}"
    if target:
        line += f" target {target:<10} {verdict}"
    return line.rstrip()
