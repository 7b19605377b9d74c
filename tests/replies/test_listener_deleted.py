"""A listener that finds its reply deleted (with its conversation) ends the stream with an
`end` numbered after the last piece it sent, as every end is: a browser that reconnects with
the end's id must not be taken for one that is still owed that piece."""

from __future__ import annotations

import asyncio

import pytest

from chat.models import Conversation, Message
from chat.replies.listener import Listener
from tests.support.rows import streaming_reply

pytestmark = pytest.mark.django_db(transaction=True)


async def deleted_reply(conversation: Conversation) -> Message:
    reply = await asyncio.to_thread(streaming_reply, conversation, None)
    await Conversation.objects.filter(pk=conversation.pk).adelete()
    return reply


@pytest.mark.parametrize(("last", "end_id"), [(7, 8), (None, 1)])
async def test_the_end_of_a_deleted_reply_comes_after_the_last_piece_sent(
    conversation: Conversation, last: int | None, end_id: int
) -> None:
    listener = Listener(await deleted_reply(conversation), last, flow=None)  # type: ignore[arg-type]

    frame = await listener._check_database()

    assert frame is not None
    assert frame.startswith(f"id: {end_id}\nevent: end\n".encode())
    assert b'"error_kind":"deleted"' in frame
