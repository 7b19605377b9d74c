"""Every object is fetched for its owner: another user's id answers 404, like a missing one.
Pages, the JSON API and the event stream all go through these."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from chat.models import Conversation, Message


def get_conversation_for_user(user: Any, pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.for_user(user), pk=pk)


def get_reply_for_user(user: Any, pk: int, *, with_conversation: bool = True) -> Message:
    """The user's reply `pk`, its conversation loaded with it unless `with_conversation` is
    False (an event stream, which needs none and keeps the reply for as long as it is open)."""
    replies = Message.objects.for_user(user)
    if with_conversation:
        replies = replies.select_related("conversation")
    return get_object_or_404(replies, pk=pk, role=Message.Role.ASSISTANT)
