"""A conversation as JSON (DESIGN.md, "Finding and moving conversations"): the single export
of GET /api/conversations/<id>/export?format=json; several conversations are a list of them.

The conversation's fields as the API gives them, and every message oldest first with the
API's message fields (all of them: replies replaced by a retry, or on other branches, too),
under a format name and version an importer can check.
"""

from __future__ import annotations

from typing import Any

from chat.models import Conversation, Message
from chat.replies import store

FORMAT = "chat-site-conversation"
VERSION = 1


def message_export(m: Message) -> dict[str, Any]:
    data = store.message_dict(m)
    data["parent"] = getattr(m, "parent_id", None)  # null until messages form a tree
    return data


def conversation_export(conv: Conversation) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    data.update(store.conversation_dict(conv))
    data["messages"] = [message_export(m) for m in conv.messages.all()]  # Meta: oldest first
    return data


def conversations_export(convs: Any) -> list[dict[str, Any]]:
    return [conversation_export(c) for c in convs.prefetch_related("messages")]
