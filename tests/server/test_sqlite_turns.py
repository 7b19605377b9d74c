"""The SQLite backend (chat/server/sqlite3/base.py): the write transactions of one process take
turns on a lock of the process, instead of polling SQLite's write lock with sleeps.

Each test uses connections of its own to a database file of its own, so it runs the same
whichever database the suite runs on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from chat.server.sqlite3.base import DatabaseWrapper, turn_for

HOLD = 10.0  # how long a test waits for a thread at most; passing runs never wait this long


def settings_for(path: Path, timeout: float = 20) -> dict[str, Any]:
    return {
        "ENGINE": "chat.server.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE"},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker: Any) -> Iterator[None]:
    """These connections are the tests' own, not the suite's database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    """A database in WAL mode, kept open meanwhile, as the server's threads keep theirs: the
    last connection to close would take the whole file to fold the log back in."""
    path = tmp_path / "turns.sqlite3"
    setup = DatabaseWrapper(settings_for(path), "turns-setup")
    with setup.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    yield path
    setup.close()


def begin(db: DatabaseWrapper) -> None:
    """What transaction.atomic does when it opens the outermost block."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def end(db: DatabaseWrapper, commit: bool = True) -> None:
    db.commit() if commit else db.rollback()
    db.set_autocommit(True)


def write(db: DatabaseWrapper, text: str) -> None:
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO note (text) VALUES (%s)", [text])


def notes(path: Path) -> list[str]:
    db = DatabaseWrapper(settings_for(path), "turns-read")
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT text FROM note ORDER BY id")
            return [row[0] for row in cursor.fetchall()]
    finally:
        db.close()


class Holder:
    """A thread that opens a write transaction and keeps it open until told to end it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.failure: BaseException | None = None

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.holding.wait(HOLD)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(HOLD)

    def _run(self) -> None:
        db = DatabaseWrapper(settings_for(self.path), "turns-holder")
        try:
            begin(db)
            write(db, "first")
            self.holding.set()
            self.release.wait(HOLD)
            end(db)
        except BaseException as failure:  # reported by the test
            self.failure = failure
            self.holding.set()
        finally:
            db.close()


def in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as failure:
            failures.append(failure)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, failures


@pytest.fixture
def turn(database: Path) -> Iterator[threading.Lock]:
    lock = turn_for(str(database))
    yield lock
    assert not lock.locked()  # every test gives the turn back


def test_a_second_writer_waits_for_the_turn_instead_of_failing(
    database: Path, turn: threading.Lock
) -> None:
    """SQLite is told not to wait at all (busy_timeout 0): without the turn, the second
    transaction's BEGIN IMMEDIATE fails at once with "database is locked"."""

    def second() -> None:
        db = DatabaseWrapper(settings_for(database), "turns-second")
        try:
            with db.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 0")
            begin(db)
            write(db, "second")
            end(db)
        finally:
            db.close()

    with Holder(database) as holder:
        waiting, failures = in_thread(second)
        waiting.join(0.5)
        assert waiting.is_alive(), failures  # still waiting for its turn, not failed
    waiting.join(HOLD)

    assert holder.failure is None and failures == []
    assert notes(database) == ["first", "second"]


def test_the_turn_is_given_back_by_a_rollback_and_by_a_close(
    database: Path, turn: threading.Lock
) -> None:
    db = DatabaseWrapper(settings_for(database), "turns-one")
    begin(db)
    write(db, "undone")
    assert turn.locked()
    end(db, commit=False)
    assert not turn.locked()

    begin(db)
    write(db, "lost")
    db.close()  # a connection closed in the middle of a transaction (it broke)
    assert not turn.locked()
    assert notes(database) == []


def test_a_writer_that_waited_its_timeout_leaves_the_rest_to_sqlite(
    database: Path, turn: threading.Lock
) -> None:
    """A transaction that does not end (here: held open by another thread) holds up the others
    for the database's timeout, then SQLite answers them as it always has."""

    def impatient() -> None:
        db = DatabaseWrapper(settings_for(database, timeout=0.2), "turns-impatient")
        try:
            begin(db)
        finally:
            db.close()

    with Holder(database):
        waiting, failures = in_thread(impatient)
        waiting.join(HOLD)
        assert not waiting.is_alive()
        assert [(type(f), str(f)) for f in failures] == [(OperationalError, "database is locked")]
        assert turn.locked()  # still the holder's
    assert notes(database) == ["first"]
