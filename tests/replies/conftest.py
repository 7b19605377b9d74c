"""Fixtures of the tests of a reply's parts: an open feed, and three running replies' feeds
whose heartbeats are five minutes old."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation
from chat.replies import checkpoints
from chat.replies.feed import Feed
from tests.support.rows import streaming_reply


@pytest.fixture
def feed() -> Iterator[Feed]:
    feed = Feed(4242).open()
    yield feed
    feed.abandon()


@pytest.fixture
def feeds(conversation: Conversation) -> Iterator[list[Feed]]:
    made: list[Feed] = []
    # A heartbeat a second old: in the past, yet fresh to the sweeper of any daphne serving
    # the test database (which would otherwise end these replies under the test's feet).
    stale = timezone.now() - timedelta(seconds=1)
    for _ in range(3):
        reply = streaming_reply(conversation, stale)
        made.append(Feed(reply.pk).open())
    yield made
    for feed in made:
        checkpoints.forget(feed.reply_id)
        feed.abandon()
