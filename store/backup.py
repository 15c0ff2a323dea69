"""The database to one file and back (`turnero db backup` / `turnero db restore`): SQLite
through its online backup API, safe while the app writes; PostgreSQL through `pg_dump`'s
custom format and `pg_restore`. An expected failure raises `BackupFailed` with the words
for the operator and the command's exit code, never a traceback."""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import OperationalError

from store.db import make_engine, normalize_url
from store.migrate import database_revision, newest_revision

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
TOOL_PROBLEM = 2  # the exit code when pg_dump or pg_restore is missing or too old
# libpq's settings a URL may carry in its query, and the variables that pass them on
LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupFailed(Exception):
    """An expected failure: `str()` is what to tell the operator."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def backup(url: str, path: Path) -> None:
    """Write the whole database at `url` into `path` (written aside first, then moved into
    place, so a failed backup never leaves half a file under that name)."""
    parsed = _parse(url)
    if not path.parent.is_dir():
        raise BackupFailed(f"no folder {path.parent} to write the backup into")
    partial = path.with_name(path.name + ".partial")
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(parsed), partial)
        else:
            _pg_dump(url, parsed, partial)
        os.replace(partial, path)
    except OSError as error:
        raise BackupFailed(f"cannot write the backup {path}: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)


def restore(url: str, path: Path) -> None:
    """Put the database at `url` back to the state saved in `path`."""
    parsed = _parse(url)
    if not path.is_file():
        raise BackupFailed(f"no backup at {path}")
    sqlite = parsed.get_backend_name() == "sqlite"
    magic, kind = (SQLITE_MAGIC, "SQLite") if sqlite else (PG_DUMP_MAGIC, "pg_dump custom-format")
    with path.open("rb") as file:
        if not file.read(len(magic)) == magic:
            raise BackupFailed(f"{path} is not a {kind} backup")
    if sqlite:
        _sqlite_restore(path, _sqlite_file(parsed, must_exist=False))
    else:
        _pg_restore(url, parsed, path)


def require_newest_schema(url: str) -> str:
    """The revision the database is at, if it is the newest this code knows; otherwise
    `BackupFailed` telling the operator to run `turnero db upgrade`."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = database_revision(connection)
    except OperationalError as error:
        raise BackupFailed(f"cannot reach the database: {_first_line(error.orig)}") from error
    finally:
        engine.dispose()
    if revision != newest_revision():
        raise BackupFailed(
            f"the restored database is at revision {revision or 'none'}, not at this code's "
            f"newest, {newest_revision()}: run `turnero db upgrade` before starting the app"
        )
    return revision


def _parse(url: str) -> URL:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupFailed(f"backups cover SQLite and PostgreSQL, not {parsed.get_backend_name()}")
    return parsed


def _sqlite_file(url: URL, *, must_exist: bool = True) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupFailed("an in-memory SQLite database has nothing to back up or restore")
    database = Path(url.database)
    if must_exist and not database.is_file():
        raise BackupFailed(f"no SQLite database at {database}")
    return database


def _sqlite_backup(database: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the app writes."""
    target.unlink(missing_ok=True)
    try:
        with (
            closing(_sqlite_connect(database, read_only=True)) as source,
            closing(_sqlite_connect(target)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
    except sqlite3.Error as error:
        raise BackupFailed(f"cannot back up {database}: {error}") from error


def _sqlite_restore(backup_file: Path, database: Path) -> None:
    """The backup's pages copied into the live file through the same API: the app's
    connections wait for the copy and then read the restored data."""
    try:
        with (
            closing(_sqlite_connect(backup_file, read_only=True)) as source,
            closing(_sqlite_connect(database)) as target,
        ):
            source.backup(target)
    except sqlite3.Error as error:
        raise BackupFailed(f"cannot restore {backup_file} into {database}: {error}") from error


def _sqlite_connect(file: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(file, timeout=30)


def _pg_dump(url: str, parsed: URL, target: Path) -> None:
    tool = _pg_tool("pg_dump", url)
    _run_pg(
        [tool, "--format=custom", f"--file={target}", "--dbname", parsed.database or ""],
        parsed,
        "pg_dump",
    )


def _pg_restore(url: str, parsed: URL, backup_file: Path) -> None:
    """The tables the backup does not hold (a later migration's) and every foreign key
    are dropped, then `--clean --if-exists` drops what the backup holds and recreates it
    with its own foreign keys: all in one transaction (pg_restore writes the script, psql
    runs it after the drops), so a restore that fails leaves the database as it was, and a
    later migration's foreign keys — of a later table or a later column — cannot stop the
    clean.
    `turnero db upgrade` then brings the database forward again."""
    restore, psql = _pg_tool("pg_restore", url), _pg_tool("psql", url)
    later, foreign_keys = _in_the_way(url, _dumped_tables(restore, parsed, backup_file))
    script = subprocess.run(
        [restore, "--clean", "--if-exists", "--no-owner", "--file", "-", str(backup_file)],
        env=pg_environment(parsed),
        capture_output=True,
        text=True,
        check=False,
    )
    if script.returncode != 0:
        raise BackupFailed(f"pg_restore failed: {script.stderr.strip()}")
    drops = "".join(
        f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE;\n' for schema, table in later
    ) + "".join(
        f'ALTER TABLE "{schema}"."{table}" DROP CONSTRAINT IF EXISTS "{name}";\n'
        for schema, table, name in foreign_keys
        if (schema, table) not in later
    )
    result = subprocess.run(
        [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1",
         "--dbname", parsed.database or ""],
        input=drops + script.stdout,
        env=pg_environment(parsed),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupFailed(f"pg_restore failed: {result.stderr.strip()}")


def _dumped_tables(tool: str, parsed: URL, backup_file: Path) -> set[tuple[str, str]]:
    """The (schema, table) pairs the backup holds, from its table of contents."""
    listing = subprocess.run(
        [tool, "--list", str(backup_file)],
        env=pg_environment(parsed),
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise BackupFailed(f"pg_restore cannot read {backup_file}: {listing.stderr.strip()}")
    return set(DUMPED_TABLE.findall(listing.stdout))


DUMPED_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ", re.MULTILINE)


def _in_the_way(
    url: str, kept: set[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The tables of the backup's schemas that the backup does not hold, and the foreign
    keys of those schemas as (schema, table, constraint)."""
    schemas = {"schemas": sorted({schema for schema, _ in kept})}
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            present = connection.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                    " WHERE table_type = 'BASE TABLE' AND table_schema = ANY(:schemas)"
                ),
                schemas,
            ).all()
            foreign_keys = connection.execute(
                text(
                    "SELECT table_schema, table_name, constraint_name"
                    " FROM information_schema.table_constraints"
                    " WHERE constraint_type = 'FOREIGN KEY' AND table_schema = ANY(:schemas)"
                ),
                schemas,
            ).all()
    except OperationalError as error:
        raise BackupFailed(f"cannot reach the database: {_first_line(error.orig)}") from error
    finally:
        engine.dispose()
    later = [(schema, table) for schema, table in present if (schema, table) not in kept]
    return later, [(schema, table, name) for schema, table, name in foreign_keys]


def _run_pg(command: list[str], parsed: URL, name: str) -> None:
    result = subprocess.run(
        command, env=pg_environment(parsed), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupFailed(f"{name} failed: {result.stderr.strip()}")


def pg_environment(url: URL) -> dict[str, str]:
    """The child's environment: libpq's variables from the URL, the password among them,
    so no credential shows on a command line."""
    env = dict(os.environ)
    host = url.host or url.query.get("host")
    given = {
        "PGHOST": host if isinstance(host, str) else None,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password if isinstance(url.password, str) else None,
        "PGDATABASE": url.database,
    }
    for key, variable in LIBPQ_QUERY.items():
        value = url.query.get(key)
        given[variable] = value if isinstance(value, str) else None
    env.update({variable: value for variable, value in given.items() if value})
    return env


def _pg_tool(name: str, url: str) -> str:
    """The path of `pg_dump` or `pg_restore`, checked to be at least the server's major
    version (an older one refuses a newer server's database, or misreads it)."""
    tool = shutil.which(name)
    if tool is None:
        raise BackupFailed(
            f"{name} is not installed: install PostgreSQL's client tools, the server's major "
            "version or newer (e.g. apt install postgresql-client)",
            TOOL_PROBLEM,
        )
    output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)*", output.stdout)
    tool_major = int(found.group(1)) if found else 0
    server_major = _server_major(url)
    if tool_major < server_major:
        raise BackupFailed(
            f"{name} is version {tool_major or 'unknown'}, older than the server's "
            f"{server_major}: install PostgreSQL {server_major}'s client tools or newer",
            TOOL_PROBLEM,
        )
    return tool


def _server_major(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.dialect.server_version_info or (0,)
    except OperationalError as error:
        raise BackupFailed(f"cannot reach the database: {_first_line(error.orig)}") from error
    finally:
        engine.dispose()
    return int(version[0])


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
