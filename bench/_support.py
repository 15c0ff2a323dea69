"""Shared by the benchmarks: a scratch database, percentiles, and the summary lines.

A scratch database is a SQLite file in a temporary folder, or, for a PostgreSQL URL, a
schema of its own (`bench_<name>`, dropped and created again) reached through the
connection's search_path, so benchmarks never touch the tables of anyone else using the
same database."""

import math
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from store.db import normalize_url


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and normalize_url(url or "").startswith("postgresql")


def scratch_database_url(url: str | None, name: str, folder: Path) -> str:
    """A URL for an empty database: `folder/<name>.db`, or schema `bench_<name>`."""
    if not url:
        return f"sqlite:///{folder / (name + '.db')}"
    url = normalize_url(url)
    if not url.startswith("postgresql"):
        raise SystemExit(f"unsupported database URL {url!r}: give a PostgreSQL one, or none")
    schema = f"bench_{name}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            # the overlap rule needs btree_gist; keep it in public, outside the scratch schema
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
    finally:
        engine.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema},public"})
    return scoped.render_as_string(hide_password=False)


def drop_scratch_database(scoped_url: str) -> None:
    """Drop the scratch schema (PostgreSQL); a SQLite file goes with its temp folder."""
    if not is_postgres_url(scoped_url):
        return
    parsed = make_url(scoped_url)
    options = parsed.query.get("options", "")
    schema = str(options).removeprefix("-csearch_path=").split(",")[0]
    if not schema.startswith("bench_"):
        return
    engine = create_engine(
        parsed.difference_update_query(["options"]), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def describe_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    schema = str(parsed.query.get("options", "")).removeprefix("-csearch_path=").split(",")[0]
    return f"PostgreSQL {parsed.host}:{parsed.port or 5432}/{parsed.database} schema {schema}"


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
