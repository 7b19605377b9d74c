"""Database queries per reply, counted by the query log (bench/querylog.py).

Replies run one at a time, so every statement between a reply's POST and its `end` (plus a
short settle) belongs to it, except the sweeper's periodic scan, which is counted apart.
Replies of different lengths and paces show what the count depends on: the token count (same
duration, more tokens) or the duration (same pace, more tokens).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from bench.load import Site, relay_reply
from bench.site import new_conversations

CASES = [(50, 10.0), (200, 10.0), (1000, 10.0), (200, 1.0), (2000, 1.0)]  # (tokens, ms/token)
WRITES = ("INSERT", "UPDATE", "DELETE")
BACKGROUND = ("chat/replies/store.py:stale_replies",)


def _read_from(path: Path, offset: int) -> tuple[list[tuple[str, str]], int]:
    if not path.exists():
        return [], offset
    data = path.read_bytes()
    lines = data[offset:].decode().splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if "\t" in line], len(data)  # type: ignore[misc]


async def count_queries(site: Site, log: Path, repeats: int = 2) -> dict[str, object]:
    _, offset = _read_from(log, 0)
    cases = []
    background = 0
    started = time.monotonic()
    for tokens, delay in CASES:
        totals: list[int] = []
        writes: list[int] = []
        txns: list[int] = []
        origins: Counter[str] = Counter()
        duration = 0.0
        for _ in range(repeats):
            conversation = new_conversations(site.user_id, 1)[0]
            t0 = time.monotonic()
            fields = {"tokens": tokens, "delay_ms": delay}
            record = await relay_reply(site, conversation, fields, None, tokens * delay / 1e3 + 60)
            duration = time.monotonic() - t0
            await asyncio.sleep(0.3)
            rows, offset = _read_from(log, offset)
            mine = [(k, o) for k, o in rows if o not in BACKGROUND]
            background += len(rows) - len(mine)
            totals.append(len(mine))
            writes.append(sum(1 for k, _ in mine if k in WRITES))
            txns.append(sum(1 for k, _ in mine if k == "BEGIN"))
            origins = Counter(f"{k} {o}" for k, o in mine)
            if len(record.recv) != tokens:
                raise RuntimeError(f"reply delivered {len(record.recv)} of {tokens} chunks")
        cases.append(
            {
                "tokens": tokens,
                "delay_ms": delay,
                "duration_s": round(duration, 2),
                "queries": max(totals),
                "queries_min": min(totals),
                "writes": max(writes),
                "writes_min": min(writes),
                "transactions": max(txns),
                "by_origin": dict(origins.most_common()),
            }
        )
    elapsed = time.monotonic() - started
    return {"cases": cases, "background_per_minute": round(60 * background / elapsed, 1)}
