"""Import: this site's JSON export (chat/export.py) or ChatGPT's `conversations.json`.

The file is read and checked whole before anything is stored, and stored in one transaction:
a bad file is refused with its reason (400) and imports nothing, never half.

ChatGPT keeps each conversation as a tree (`mapping`: nodes with `parent` and `children`),
with `current_node` the leaf shown. Its branches stay branches here, and the path to
`current_node` becomes the current branch. Only user and assistant messages with text are
kept (system, tool and hidden nodes are left out; their children hang from the nearest kept
ancestor). Imported messages are written in their original order; their own timestamps are
not kept, the conversations' are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import Message

MAX_CONVERSATIONS = 10_000
MAX_MESSAGES = 200_000
MAX_TEXT = 1_000_000  # characters of one message
_STATUSES = {s.value for s in Message.Status}
_UNFINISHED = {Message.Status.PENDING.value, Message.Status.STREAMING.value}


@dataclass
class NewMessage:
    ref: str
    parent: str | None
    role: str
    content: str
    reasoning: str = ""
    status: str = Message.Status.COMPLETE
    error: str = ""
    model: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str = ""
    html: str = ""  # filled in by the caller (the content rendered)


@dataclass
class NewConversation:
    title: str
    model: str
    system_prompt: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    messages: list[NewMessage] = field(default_factory=list)  # parents before children
    current: str | None = None


def refuse(reason: str) -> ApiError:
    return ApiError(_("This file cannot be imported: %(reason)s") % {"reason": reason})


def _clean(text: str) -> str:
    """Text as the database can store it: NUL and lone surrogates become U+FFFD."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _text(value: object, what: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refuse(_("%(what)s must be text.") % {"what": what})
    if len(value) > limit:
        raise refuse(_("%(what)s is too long.") % {"what": what})
    return _clean(value)


def _stamp(value: object) -> datetime | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            stamp = datetime.fromisoformat(value)
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _ordered(messages: dict[str, NewMessage]) -> list[NewMessage]:
    """Parents before children, each level in the file's order; a cycle is refused."""
    children: dict[str | None, list[NewMessage]] = {}
    for m in messages.values():
        children.setdefault(m.parent, []).append(m)
    ordered, level = [], children.get(None, [])
    while level:
        ordered += level
        level = [c for m in level for c in children.get(m.ref, [])]
    if len(ordered) != len(messages):
        raise refuse(_("its messages' parents form a loop."))
    return ordered


def read(data: bytes) -> list[NewConversation]:
    """The conversations of an uploaded file, checked; ApiError(400) with the reason."""
    if len(data) > settings.CHAT_IMPORT_MAX_BYTES:
        raise refuse(
            _("it is larger than %(limit)s MB.")
            % {"limit": settings.CHAT_IMPORT_MAX_BYTES // 1_000_000}
        )
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise refuse(_("it is not JSON.")) from None
    except RecursionError:
        raise refuse(_("it is nested too deeply.")) from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or not all(isinstance(i, dict) for i in items):
        raise refuse(_("it is not an export of this site or of ChatGPT."))
    if len(items) > MAX_CONVERSATIONS:
        raise refuse(_("it holds more than %(n)d conversations.") % {"n": MAX_CONVERSATIONS})
    if all("mapping" in i for i in items):
        conversations = [_chatgpt(i) for i in items]
    elif all(isinstance(i.get("messages"), list) for i in items):
        conversations = [_site(i) for i in items]
    else:
        raise refuse(_("it is not an export of this site or of ChatGPT."))
    if sum(len(c.messages) for c in conversations) > MAX_MESSAGES:
        raise refuse(_("it holds more than %(n)d messages.") % {"n": MAX_MESSAGES})
    return conversations


def _site(item: dict[str, Any]) -> NewConversation:
    messages: dict[str, NewMessage] = {}
    for raw in item["messages"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int | str):
            raise refuse(_("a message has no id."))
        ref = str(raw["id"])
        parent = raw.get("parent")
        if ref in messages:
            raise refuse(_("two messages have the id %(id)s.") % {"id": ref})
        if raw.get("role") not in (Message.Role.USER, Message.Role.ASSISTANT):
            raise refuse(_("a message's role is neither user nor assistant."))
        status = raw.get("status", Message.Status.COMPLETE)
        if status not in _STATUSES:
            raise refuse(_("a message has an unknown status."))
        usage_raw = raw.get("usage")
        usage: dict[str, object] = usage_raw if isinstance(usage_raw, dict) else {}
        messages[ref] = NewMessage(
            ref=ref,
            parent=None if parent is None else str(parent),
            role=raw["role"],
            content=_text(raw.get("content"), _("A message")),
            reasoning=_text(raw.get("reasoning"), _("A message's reasoning")),
            # A reply still being written when it was exported is over here.
            status=Message.Status.INTERRUPTED if status in _UNFINISHED else status,
            error=_text(raw.get("error"), _("A message's error"), 10_000),
            model=_text(raw.get("model"), _("A message's model"), 200),
            input_tokens=_count(usage.get("input_tokens")),
            output_tokens=_count(usage.get("output_tokens")),
            finish_reason=_text(raw.get("finish_reason"), _("A finish reason"), 32),
        )
    for m in messages.values():
        if m.parent is not None and m.parent not in messages:
            raise refuse(_("a message's parent is not in the file."))
    current = item.get("current")
    current = None if current is None else str(current)
    if current is not None and current not in messages:
        raise refuse(_("its current message is not in the file."))
    return NewConversation(
        title=_text(item.get("title"), _("A title"), 200),
        model=_text(item.get("model"), _("A model"), 200),
        system_prompt=_text(
            item.get("system_prompt"), _("A system prompt"), settings.CHAT_MAX_SYSTEM_PROMPT_CHARS
        ),
        created_at=_stamp(item.get("created_at")),
        updated_at=_stamp(item.get("updated_at")),
        messages=_ordered(messages),
        current=current,
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _chatgpt_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if not isinstance(content, dict):
        return ""
    if content.get("content_type") not in ("text", "multimodal_text"):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        return ""
    return "\n\n".join(p for p in parts if isinstance(p, str) and p.strip())


def _chatgpt(item: dict[str, Any]) -> NewConversation:
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise refuse(_("a ChatGPT conversation has no message tree."))
    nodes = {str(k): v for k, v in mapping.items() if isinstance(v, dict)}
    kept: dict[str, NewMessage] = {}
    order: dict[str, float] = {}
    for ref, node in nodes.items():
        message = node.get("message")
        if not isinstance(message, dict):
            continue
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        text = _chatgpt_text(message)
        if role not in ("user", "assistant") or not text:
            continue
        metadata = message.get("metadata")
        slug = metadata.get("model_slug") if isinstance(metadata, dict) else None
        kept[ref] = NewMessage(
            ref=ref,
            parent=None,
            role=role,
            content=_text(text, _("A message")),
            model=_text(slug, _("A message's model"), 200) if isinstance(slug, str) else "",
        )
        created = message.get("create_time")
        order[ref] = created if isinstance(created, int | float) else 0.0
    for ref, m in kept.items():
        m.parent = _kept_ancestor(nodes, nodes[ref].get("parent"), kept)
    current_node = item.get("current_node")
    current = _kept_ancestor(nodes, current_node, kept) if isinstance(current_node, str) else None
    # Siblings in the order they were written (ChatGPT's `children` lists are not always).
    by_time = dict(sorted(kept.items(), key=lambda pair: order[pair[0]]))
    return NewConversation(
        title=_text(item.get("title"), _("A title"), 10_000)[:200],
        model="",
        created_at=_stamp(item.get("create_time")),
        updated_at=_stamp(item.get("update_time")),
        messages=_ordered(by_time),
        current=current,
    )


def _kept_ancestor(nodes: dict[str, Any], ref: object, kept: dict[str, NewMessage]) -> str | None:
    """`ref` if kept, else its nearest kept ancestor (None at the root); loops end."""
    seen: set[str] = set()
    while isinstance(ref, str) and ref in nodes and ref not in seen:
        if ref in kept:
            return ref
        seen.add(ref)
        ref = nodes[ref].get("parent")
    return None
