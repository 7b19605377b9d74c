"""chat/providers/deadline.py: one lazily re-armed timer per body instead of one per read."""

from __future__ import annotations

import asyncio

import pytest

from chat.providers.deadline import ReadDeadline


async def read(deadline: ReadDeadline, limit: float, takes: float) -> str:
    """A read that takes `takes` seconds under `deadline`: "read", or "timeout"."""
    deadline.begin(limit)
    try:
        await asyncio.sleep(takes)
    except asyncio.CancelledError:
        if deadline.timed_out():
            return "timeout"
        raise
    finally:
        deadline.end()
    return "read"


async def test_a_read_past_its_limit_times_out() -> None:
    deadline = ReadDeadline()
    try:
        assert await read(deadline, 0.05, 0.5) == "timeout"
    finally:
        deadline.close()


async def test_many_quick_reads_then_a_slow_one() -> None:
    """Quick reads (and time spent between them) never trip the timer armed by the first."""
    deadline = ReadDeadline()
    try:
        for _ in range(10):
            assert await read(deadline, 0.1, 0.02) == "read"
            await asyncio.sleep(0.03)  # the consumer's own work, not a read
        assert await read(deadline, 0.1, 1.0) == "timeout"
    finally:
        deadline.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadline = ReadDeadline()
    task = asyncio.create_task(read(deadline, 0.05, 5.0))
    await asyncio.sleep(0.01)
    task.cancel()  # e.g. Stop, before the deadline
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline.close()


async def test_reads_may_move_to_another_task() -> None:
    """The body's last bytes are read by a background task once the reply has its text."""
    deadline = ReadDeadline()
    try:
        assert await read(deadline, 0.1, 0.01) == "read"
        assert await asyncio.create_task(read(deadline, 0.05, 1.0)) == "timeout"
    finally:
        deadline.close()
