"""Fixtures of the JSON API's tests: a finished reply of `user`'s and one of `other_user`'s."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from tests.support.rows import finished_exchange


@pytest.fixture
def reply(conversation: Conversation) -> Message:
    return finished_exchange(conversation)[1]


@pytest.fixture
def other_reply(other_conversation: Conversation) -> Message:
    return finished_exchange(other_conversation)[1]
