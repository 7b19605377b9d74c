"""Search benchmark: 10,000 conversations and 100,000 messages, search p50 on SQLite and
PostgreSQL (the issue's target: 50 ms or less on both).

    .venv/bin/python -m bench.search                       # SQLite, in a temporary file
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.search                   # PostgreSQL, in a new database

Ten users own 1,000 conversations of ten messages each. The text is drawn from a vocabulary
of 5,000 made-up words and 400 two-character Chinese words with Zipf frequencies, 20 to 80
words a message, so some words are in most messages and most are rare. Each query is one
call of chat.search.search (the SQL, the rows and the snippets: what GET /api/search does
between reading the request and writing JSON) for a random user, timed with perf_counter;
queries of each kind are repeated and the median, 90th percentile and worst are printed.
A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS, CONVERSATIONS, MESSAGES = 10, 10_000, 100_000
LETTERS = "abcdefghijklmnopqrstuvwxyz"
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你"


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    words = sorted({"".join(rng.choices(LETTERS, k=rng.randint(3, 9))) for _ in range(5_200)})
    rng.shuffle(words)
    chinese = sorted({"".join(rng.choices(HANZI, k=2)) for _ in range(900)})
    rng.shuffle(chinese)
    return words[:5_000], chinese[:400]


def setup_database(url: str | None) -> str | None:
    """Point Django at a new, empty database; returns the PostgreSQL database to drop."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    if not url:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-search.sqlite3")
        return None
    import psycopg

    name = f"bench_search_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    return name


def fill(rng: random.Random) -> dict[str, list[str]]:
    from django.contrib.auth.models import User

    from chat.models import Conversation, Message

    words, chinese = vocabulary(rng)
    pool = words + chinese
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    rng.shuffle(weights)  # Chinese words are as frequent as any others
    users = User.objects.bulk_create([User(username=f"bench{n}") for n in range(USERS)])
    per_user = CONVERSATIONS // USERS
    convs = Conversation.objects.bulk_create(
        [
            Conversation(owner=u, title=" ".join(rng.choices(pool, weights, k=4)), model="demo")
            for u in users
            for _ in range(per_user)
        ],
        batch_size=2_000,
    )
    per_conv = MESSAGES // CONVERSATIONS
    batch: list[Message] = []
    for conv in convs:
        for n in range(per_conv):
            text = " ".join(rng.choices(pool, weights, k=rng.randint(20, 80)))
            batch.append(
                Message(conversation=conv, role="user" if n % 2 == 0 else "assistant", content=text)
            )
        if len(batch) >= 5_000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    by_weight = [w for _, w in sorted(zip(weights, pool, strict=True), reverse=True)]
    english = [w for w in by_weight if w[0] in LETTERS]
    hanzi = [w for w in by_weight if w[0] not in LETTERS]
    sample = Message.objects.order_by("?").values_list("content", flat=True)[:50]
    return {
        "common word": english[:20],
        "medium word": english[200:400],
        "rare word": english[3_000:3_500],
        "chinese 2 chars": hanzi[:100],
        "chinese 4 chars": [a + b for a, b in zip(hanzi[:50], hanzi[50:100], strict=True)],
        "phrase of 3 words": [" ".join(t.split()[5:8]) for t in sample],
        "no match": ["zzqqxx", "没有这个"],
    }


def measure(queries: dict[str, list[str]], rng: random.Random, repeats: int) -> list[str]:
    from django.contrib.auth.models import User

    from chat.search import search

    users = list(User.objects.filter(username__startswith="bench"))
    lines, everything = [], []
    for kind, candidates in queries.items():
        times = []
        for _ in range(repeats):
            user, q = rng.choice(users), rng.choice(candidates)
            start = time.perf_counter()
            search(user, q, None)
            times.append((time.perf_counter() - start) * 1000)
        everything += times
        lines.append(_line(kind, times))
    lines.append(_line("all", everything))
    return lines


def _line(kind: str, times: list[float]) -> str:
    times = sorted(times)
    p90 = times[int(len(times) * 0.9) - 1]
    return (
        f"  {kind:<18} n={len(times):<4} p50 {statistics.median(times):7.1f} ms"
        f"   p90 {p90:7.1f} ms   max {times[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=60, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("DATABASE_URL")
    dropped = setup_database(url)
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(args.seed)
        started = time.perf_counter()
        queries = fill(rng)
        filled = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        version = (
            connection.Database.sqlite_version
            if connection.vendor == "sqlite"
            else connection.pg_version
        )
        print(
            f"search on {connection.vendor} {version}: {CONVERSATIONS:,} conversations, "
            f"{MESSAGES:,} messages, {USERS} users (filled in {filled:.0f} s)"
        )
        for line in measure(queries, rng, args.repeats):
            print(line)
    finally:
        connection.close()
        if dropped and url:
            import psycopg

            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{dropped}"')


if __name__ == "__main__":
    main()
