"""The moderation hook's parts on their own: the word list's matching (case, word boundaries,
CJK), and a streamed reply's review in batches (never per delta, words split between
batches, the rest checked at the end)."""

from __future__ import annotations

import asyncio

import pytest

from chat.moderation import Verdict, WordList
from chat.replies.review import Review

WORDS = WordList(["bad", "Forbidden thing", "暴力", "c++", " "])  # a blank entry is ignored


@pytest.mark.parametrize(
    "text",
    [
        "This is bad.",
        "BAD",
        "(bad)",
        "a Forbidden thing",
        "这是暴力内容",
        "暴力",
        "这是bad内容",  # a latin word between CJK characters: CJK needs no spaces
        "bad的",
        "I like c++!",
    ],
)
def test_a_listed_word_matches(text: str) -> None:
    assert WORDS.search(text)


def test_the_listed_word_is_reported_in_lower_case() -> None:
    assert WORDS.search("So, a FORBIDDEN THING") == "forbidden thing"


@pytest.mark.parametrize(
    "text", ["badge", "a badly made", "sinbad", "bad_name", "forbidden things", "暴", "力量", "c+"]
)
def test_a_word_inside_another_does_not_match(text: str) -> None:
    assert WORDS.search(text) is None


class Recorder:
    def __init__(self, hit: str | None = None) -> None:
        self.hit = hit
        self.checked: list[str] = []

    async def __call__(self, text: str, kind: str) -> Verdict | None:
        self.checked.append(text)
        await asyncio.sleep(0)
        return Verdict(f"word {self.hit}") if self.hit and self.hit in text else None


async def test_deltas_are_checked_per_sentence_not_per_delta() -> None:
    recorder = Recorder()
    review = Review(recorder, 300, lambda v: None).start()
    for piece in ["Hel", "lo", " there", ". How", " are", " you", "?", " Fine"]:
        review.feed(piece)
        await asyncio.sleep(0)
    assert await review.finish() is None
    # Each batch comes with the end of the text before it (here, all of it).
    assert recorder.checked == [
        "Hello there. How",
        "Hello there. How are you?",
        "Hello there. How are you? Fine",
    ]
    assert review.checks == 3


async def test_without_sentence_ends_a_batch_is_cut_every_few_hundred_characters() -> None:
    recorder = Recorder()
    review = Review(recorder, 100, lambda v: None).start()
    for _ in range(100):
        review.feed("word ")  # 500 characters, no sentence end: 5 batches of 100
        await asyncio.sleep(0)
    await review.finish()
    assert review.checks == 5


async def test_a_word_split_between_batches_is_still_seen() -> None:
    recorder = Recorder("forbidden")
    flags: list[Verdict] = []
    review = Review(recorder, 20, flags.append).start()
    for piece in ["x" * 16, "forb", "idden", " and more text after it"]:
        review.feed(piece)
        await asyncio.sleep(0)
    verdict = await review.finish()
    assert verdict == Verdict("word forbidden")
    assert flags == [verdict]


async def test_what_is_left_at_the_end_is_checked_before_finish_returns() -> None:
    recorder = Recorder("forbidden")
    review = Review(recorder, 300, lambda v: None).start()
    review.feed("no sentence end, and then forbidden")
    assert await review.finish() == Verdict("word forbidden")


async def test_batches_cut_during_a_slow_check_are_checked_together() -> None:
    gate = asyncio.Event()
    checked: list[str] = []

    async def slow(text: str, kind: str) -> Verdict | None:
        checked.append(text)
        await gate.wait()
        return None

    review = Review(slow, 300, lambda v: None).start()
    review.feed("One.")
    await asyncio.sleep(0.01)  # the first check is running
    for piece in [" Two.", " Three.", " Four."]:
        review.feed(piece)
    gate.set()
    await review.finish()
    assert checked == ["One.", "One. Two. Three. Four."]
