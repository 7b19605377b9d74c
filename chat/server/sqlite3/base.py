"""Django's SQLite backend, with the write transactions of this process taking turns on a lock.

SQLite lets one connection write at a time. Every transaction here begins IMMEDIATE (it takes
the write lock at BEGIN), and a connection that finds the lock taken waits in SQLite's busy
handler: it sleeps 1, 2, 5, 10, 15, 20, 25 ms and more, and tries again after each sleep, so a
lock held for 3 ms can cost a waiting thread 8 ms or more. The request and database threads
of one daphne process wait on a lock of the process instead, which hands the turn to the next
thread the moment a transaction commits or rolls back. Another process (a management
command) still meets SQLite's own waiting, as does a single statement outside a transaction.

A thread waits for its turn at most as long as SQLite itself would (the `timeout` option),
then begins anyway and leaves the rest to SQLite: a transaction that never ends (a test
holding one open) cannot hang the others for longer than that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db.backends.sqlite3 import base

from chat.server.process import state


def turn_for(name: str) -> threading.Lock:
    """The lock whose holder may write to the database file `name`, in this process."""
    turn = state.sqlite_turns.get(name)
    if turn is None:  # setdefault: two threads asking at once get the same lock
        turn = state.sqlite_turns.setdefault(name, threading.Lock())
    return turn


class DatabaseWrapper(base.DatabaseWrapper):
    # The methods below are Django's own (django/db/backends/sqlite3/base.py and
    # base/base.py), which django-stubs leaves out as private: hence the ignores.

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn: threading.Lock | None = None  # while this connection holds it

    def _start_transaction_under_autocommit(self) -> None:
        turn = turn_for(str(self.settings_dict["NAME"]))
        if turn.acquire(timeout=float(self.settings_dict["OPTIONS"].get("timeout", 5))):
            self._turn = turn
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._give_turn()
            raise

    def _commit(self) -> None:
        self._then_give_turn(super()._commit)  # type: ignore[misc]

    def _rollback(self) -> None:
        self._then_give_turn(super()._rollback)  # type: ignore[misc]

    def _close(self) -> None:
        self._then_give_turn(super()._close)  # type: ignore[misc]

    def _then_give_turn(self, end: Callable[[], None]) -> None:
        """Run Django's `end` of the transaction or connection, then give the turn back."""
        try:
            end()
        finally:
            self._give_turn()

    def _give_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()
