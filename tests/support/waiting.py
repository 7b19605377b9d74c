"""Waiting for what happens elsewhere: in threads of the test, in the site's processes, in the
database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from chat.models import Message


def run_threads(targets: list[Callable[[], None]], timeout: float = 60.0) -> None:
    """Run callables in threads; re-raise the first failure in the test's thread."""
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported below, with its traceback
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    assert not any(t.is_alive() for t in threads), f"a thread was still running after {timeout} s"


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_finished(reply_id: object, timeout: float = 20.0) -> Message:
    """The reply from the database once it has ended (whatever the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = Message.objects.get(pk=reply_id)
        if reply.is_finished:
            return reply
        time.sleep(0.05)
    raise AssertionError(f"reply {reply_id} did not finish within {timeout} s")


async def until(condition: Callable[[], object]) -> None:
    """Wait on the test's event loop until `condition()` is true (10 s at most)."""
    deadline = time.monotonic() + 10.0
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("not within 10 s")
        await asyncio.sleep(0.01)
