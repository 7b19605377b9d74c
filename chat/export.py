"""A conversation as JSON (DESIGN.md, "Finding and moving conversations"): the single export
of GET /api/conversations/<id>/export?format=json; several conversations are a list of them.

The conversation's fields as the API gives them, with the id of its current message, and
every message oldest first with the API's message fields (`parent` and `siblings` make the
tree: every branch is there, not only the current one), under a format name and version an
importer can check.
"""

from __future__ import annotations

from typing import Any

from chat.models import Conversation
from chat.replies import store
from chat.tree import Tree

FORMAT = "chat-site-conversation"
VERSION = 1


def conversation_export(conv: Conversation) -> dict[str, Any]:
    messages = list(conv.messages.all())  # Meta: oldest first
    tree = Tree((m.pk, m.parent_id) for m in messages)
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    data.update(store.conversation_dict(conv))
    data["current"] = conv.current_id
    data["messages"] = [store.message_dict(m, tree.siblings(m.pk)) for m in messages]
    return data


def conversations_export(convs: Any) -> list[dict[str, Any]]:
    return [conversation_export(c) for c in convs.prefetch_related("messages")]
