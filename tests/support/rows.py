"""Messages stored directly in the database, without the site making them."""

from __future__ import annotations

from datetime import datetime

from chat.models import Conversation, Message, UsageRecord
from chat.replies import store


def finished_exchange(conv: Conversation, text: str = "Hello") -> tuple[Message, Message]:
    """A user message and its complete reply, stored directly, with the reply's row in the
    usage ledger as the site writes it."""
    question = Message.objects.create(conversation=conv, role="user", content="Hi")
    reply = Message.objects.create(
        conversation=conv, role="assistant", content=text, html=f"<p>{text}</p>", model="demo"
    )
    UsageRecord.objects.create(
        user_id=conv.owner_id,
        reply=reply,
        conversation=conv,
        model="demo",
        provider="Demo",
        outcome=Message.Status.COMPLETE,
    )
    return question, reply


def streaming_reply(conv: Conversation, heartbeat_at: datetime | None = None) -> Message:
    """A user message and a reply still being written (with no generation behind it), its
    last heartbeat now or at `heartbeat_at`."""
    Message.objects.create(conversation=conv, role="user", content="Hi")
    reply = store.new_reply(conv, "")
    if heartbeat_at is not None:
        Message.objects.filter(pk=reply.pk).update(heartbeat_at=heartbeat_at)
        reply.heartbeat_at = heartbeat_at
    return reply
