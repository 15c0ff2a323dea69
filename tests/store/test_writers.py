"""Writers of one SQLite file take turns on its lock file: a second connection waits
while the first writes, and a connection's lock file is closed with the connection."""

import os
import threading
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine
from store.driver import raw


def _open_lock_files(path: Path) -> int:
    lock, open_files = f"{path}.writers", os.listdir("/proc/self/fd")
    return sum(os.path.realpath(f"/proc/self/fd/{fd}") == lock for fd in open_files)


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path: Path):
    database = tmp_path / "turns.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    writing = threading.Event()

    def second() -> None:
        writing.wait()
        with raw(engine) as db, db.transaction():
            order.append("second writes")

    other = threading.Thread(target=second)
    other.start()
    with raw(engine) as db, db.transaction():
        writing.set()
        other.join(timeout=0.3)  # it cannot get in while this transaction is open
        order.append("first commits")
    other.join(timeout=5)
    assert order == ["first commits", "second writes"]
    engine.dispose()


def test_each_connection_keeps_its_lock_file_open_until_it_closes(tmp_path: Path):
    database = tmp_path / "files.db"
    engine = make_engine(f"sqlite:///{database}")
    for _ in range(3):  # the same pooled connection writes three times: one lock file
        with raw(engine) as db, db.transaction():
            pass
    assert _open_lock_files(database) == 1
    engine.dispose()
    assert _open_lock_files(database) == 0
