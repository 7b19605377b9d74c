"""Every object is fetched for its owner: another user's id answers 404, like a missing one.
Pages, the JSON API and the event stream all go through these."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from chat import rows
from chat.models import Conversation, Message


def get_conversation_for_user(user: Any, pk: int) -> Conversation:
    """The user's conversation `pk` (read without a query built each time: every send reads
    it before its reply starts, chat/rows.py)."""
    conv = rows.get(Conversation, pk, owner_id=user.pk)
    if conv is None:
        raise Http404
    return conv


def get_reply_for_user(user: Any, pk: int, *, with_conversation: bool = True) -> Message:
    """The user's reply `pk`, its conversation loaded with it unless `with_conversation` is
    False (an event stream, which needs none and keeps the reply for as long as it is open)."""
    replies = Message.objects.for_user(user)
    if with_conversation:
        replies = replies.select_related("conversation")
    return get_object_or_404(replies, pk=pk, role=Message.Role.ASSISTANT)
