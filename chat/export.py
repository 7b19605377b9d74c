"""Export: one conversation as Markdown (its current branch, for reading) or as this site's
JSON (every message of every branch, for import here), and all of a user's conversations as a
JSON list of the same. The JSON is what chat/importing.py reads back."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chat.models import Conversation, Message
from chat.tree import Tree

FORMAT = "chat-site-conversation/1"


def _message(m: Message) -> dict[str, object]:
    return {
        "id": m.pk,
        "parent": m.parent_id,
        "role": m.role,
        "content": m.content,
        "reasoning": m.reasoning,
        "status": m.status,
        "error": m.error,
        "model": m.model,
        "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
        "finish_reason": m.finish_reason,
        "created_at": m.created_at.isoformat(),
    }


def conversation_json(conv: Conversation) -> dict[str, object]:
    return {
        "format": FORMAT,
        "id": conv.pk,
        "title": conv.title,
        "model": conv.model,
        "system_prompt": conv.system_prompt,
        "created_at": conv.created_at.isoformat(),
        "updated_at": conv.updated_at.isoformat(),
        "current": conv.current_id,
        "messages": [_message(m) for m in conv.messages.order_by("created_at", "id")],
    }


def all_json(user: Any) -> list[dict[str, object]]:
    return [
        conversation_json(c)
        for c in Conversation.objects.for_user(user).order_by("created_at", "id")
    ]


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
