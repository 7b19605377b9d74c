"""Messages stored directly in the database, without the site making them."""

from __future__ import annotations

from chat.models import Conversation, Message
from chat.replies import store


def finished_exchange(conv: Conversation, text: str = "Hello") -> tuple[Message, Message]:
    """A user message and its complete reply, stored directly."""
    question = Message.objects.create(conversation=conv, role="user", content="Hi")
    reply = Message.objects.create(
        conversation=conv, role="assistant", content=text, html=f"<p>{text}</p>", model="demo"
    )
    return question, reply


def streaming_reply(conv: Conversation) -> Message:
    """A user message and a reply still being written (with no generation behind it)."""
    Message.objects.create(conversation=conv, role="user", content="Hi")
    return store.new_reply(conv, "")
