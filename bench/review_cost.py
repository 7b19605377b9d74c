"""What moderating a streamed reply with a word list adds per delta, measured alone.

The relay's own benchmark (`python -m bench.run`, with CHAT_MODERATION=words in the
environment) shows the whole relay, whose CPU per delta varies by several percent between
runs on a shared machine. This isolates the part moderation adds: the pump's hand-off of each
delta (`Review.feed`) and the batch checks on their own task (chat/replies/review.py), on the
benchmark's own chunks (`<seq>:<time_ns>|`, no sentence ends, so a batch every
CHAT_MODERATION_BATCH characters), against the same loop without a review. Each round runs
both, alternately; the report is the median and range per delta over the rounds.

    python -m bench.review_cost [--deltas 4000] [--rounds 21] [--batch 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

WORDS = "forbidden,violence,暴力,badword,kill"


async def _relay(pieces: list[str], review: object | None) -> float:
    """The pump's shape: append each piece, hand it to the review, yield to the loop."""
    from chat.replies.review import Review

    parts: list[str] = []
    started = time.perf_counter()
    for piece in pieces:
        parts.append(piece)
        if isinstance(review, Review):
            review.feed(piece)
        await asyncio.sleep(0)  # the pump awaits the next chunk between deltas
    if isinstance(review, Review):
        await review.finish()
    return (time.perf_counter() - started) / len(pieces) * 1e6


async def _measure(deltas: int, rounds: int, batch: int) -> tuple[list[float], list[float], int]:
    from chat import moderation
    from chat.replies.review import Review

    pieces = [f"{i}:{time.time_ns()}|" for i in range(deltas)]
    off: list[float] = []
    on: list[float] = []
    checks = 0
    for _ in range(rounds):
        off.append(await _relay(pieces, None))
        review = Review(moderation.check, batch, lambda verdict: None).start()
        on.append(await _relay(pieces, review))
        checks = review.checks
    return off, on, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deltas", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--batch", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    os.environ["CHAT_MODERATION"] = "words"
    os.environ.setdefault("CHAT_MODERATION_WORDS", WORDS)
    import django

    django.setup()
    off, on, checks = asyncio.run(_measure(args.deltas, args.rounds, args.batch))
    added = [b - a for a, b in zip(off, on, strict=True)]

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<18} {statistics.median(values):6.2f} µs/delta "
            f"[{min(values):.2f}–{max(values):.2f}]"
        )

    print(f"{args.deltas} deltas × {args.rounds} rounds, a check every {args.deltas / checks:.1f}")
    print(line("without review", off))
    print(line("with words review", on))
    print(line("added", added))


if __name__ == "__main__":
    main()
