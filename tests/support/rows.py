"""Messages stored directly in the database, without the site making them."""

from __future__ import annotations

from datetime import datetime

from chat.models import Conversation, Message, UsageRecord
from chat.providers import provider_label
from chat.replies import store


def add_message(conversation: Conversation, **fields: object) -> Message:
    """A message at the end of the conversation's current branch, now its current leaf (or,
    with `parent=`, under that message)."""
    fields.setdefault("parent", conversation.current)
    message = Message.objects.create(conversation=conversation, **fields)
    conversation.current = message
    conversation.save(update_fields=["current"])
    return message


def finished_exchange(conv: Conversation, text: str = "Hello") -> tuple[Message, Message]:
    """A user message and its complete reply at the end of the current branch, stored
    directly, with the reply's row in the usage ledger as the site writes it."""
    question = add_message(conv, role="user", content="Hi")
    reply = add_message(conv, role="assistant", content=text, html=f"<p>{text}</p>", model="demo")
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
    question = add_message(conv, role="user", content="Hi")
    reply = store.new_reply(conv, "", question.pk, provider_label(conv.model))
    if heartbeat_at is not None:
        Message.objects.filter(pk=reply.pk).update(heartbeat_at=heartbeat_at)
        reply.heartbeat_at = heartbeat_at
    return reply


def ledger_row(
    user_id: int,
    model: str = "demo",
    input_tokens: int = 0,
    output_tokens: int = 0,
    at: datetime | None = None,
    outcome: str = Message.Status.COMPLETE,
) -> UsageRecord:
    """A row of the usage ledger (a finished reply's), at `at` (now by default)."""
    row = UsageRecord.objects.create(
        user_id=user_id,
        model=model,
        provider="Test",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        outcome=outcome,
    )
    if at is not None:
        UsageRecord.objects.filter(pk=row.pk).update(created_at=at)
    return row
