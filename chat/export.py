"""Export (DESIGN.md, "Finding and moving conversations"): a conversation as JSON, the single
export of GET /api/conversations/<id>/export?format=json (several conversations are a list of
them: GET /api/export, and the admin's download), or as Markdown for reading.

The JSON is the conversation's fields as the API gives them, with the id of its current
message, and every message oldest first with the API's message fields (`parent` and
`siblings` make the tree: every branch is there, not only the current one), under a format
name and version an importer can check (chat/importing.py reads it back).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chat.models import Conversation, Message
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


def all_of(user: Any) -> list[dict[str, Any]]:
    """Every conversation of the user, oldest first."""
    return conversations_export(Conversation.objects.for_user(user).order_by("created_at", "id"))


def conversation_markdown(conv: Conversation) -> str:
    """The branch shown, root to leaf, as a Markdown document; replies keep their markdown,
    and a user's text is quoted as it was written."""
    tree = Tree.of(conv.pk)
    path = tree.branch(conv.current_id)
    rows = conv.messages.in_bulk(path)
    lines = [f"# {conv.title or 'Untitled'}", ""]
    lines += [f"Model: `{conv.model}` · exported {timezone.now():%Y-%m-%d %H:%M} UTC", ""]
    if conv.system_prompt:
        lines += ["**System prompt**", "", *_quoted(conv.system_prompt), ""]
    for pk in path:
        m = rows[pk]
        if m.role == Message.Role.USER:
            lines += ["## You", "", *_quoted(m.content), ""]
        else:
            model = f" ({m.model})" if m.model else ""
            lines += [f"## Assistant{model}", "", m.content.rstrip(), ""]
            if m.error:
                lines += [f"*{m.status}: {m.error}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def _quoted(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in text.rstrip().splitlines()] or [">"]


def filename(conv: Conversation, extension: str) -> str:
    """An ASCII file name (any title is safe in it); the id keeps names apart."""
    words = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in conv.title.lower())
    stem = "-".join(part for part in words.split("-") if part)[:50] or "conversation"
    return f"{stem}-{conv.pk}.{extension}"
