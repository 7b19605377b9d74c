"""Database work of a reply's life, as small sync functions (called from the event loop
through in_db_thread or in_request_thread, chat/server/process.py). Every write of a reply
after its creation is conditional on the reply still being unfinished, so a late writer never
undoes an end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from chat import rows, user_events
from chat.context import Fitted, fit, part
from chat.models import Conversation, Message, ModerationFlag, UsageRecord
from chat.moderation import Verdict
from chat.providers.base import ChatRequest, Turn
from chat.providers.errors import UpstreamError
from chat.render import render_plain
from chat.replies import messages
from chat.replies.messages import EndMessage, EndPayload
from chat.replies.outcome import REPLY_DELETED
from chat.tree import Tree


def message_dict(m: Message, siblings: list[int]) -> dict[str, object]:
    """A message as the API shows it; `siblings` as chat.tree.Tree.siblings gives them."""
    return {
        "id": m.pk,
        "conversation": m.conversation_id,
        "parent": m.parent_id,
        "siblings": siblings,
        "role": m.role,
        "content": m.content,
        "reasoning": m.reasoning,
        "html": m.html,
        "status": m.status,
        "error": m.error,
        "error_kind": m.error_kind,
        "retryable": m.retryable,
        "model": m.model,
        "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
        "finish_reason": m.finish_reason,
        "first_token_ms": m.first_token_ms,
        "duration_ms": m.duration_ms,
        "context_from": m.context_from,
        "created_at": m.created_at.isoformat(),
    }


def conversation_dict(c: Conversation) -> dict[str, object]:
    return {
        "id": c.pk,
        "title": c.title,
        "title_source": c.title_source,
        "model": c.model,
        "system_prompt": c.system_prompt,
        "current": c.current_id,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


# The end of a reply deleted (with its conversation) while it was being written.
DELETED_END: EndPayload = {
    "status": Message.Status.ERROR,
    "error": REPLY_DELETED,
    "error_kind": "deleted",
    "retryable": False,
    "content": "",
    "reasoning": "",
    "html": "",
    "usage": None,
    "finish_reason": "error",
}


def end_message(m: Message) -> EndMessage:
    """The `reply.end` message listeners get: the final reply and its sequence number."""
    return messages.end_message(m.seq, end_payload(m))


def reply_exists(reply_id: int) -> bool:
    return Message.objects.filter(pk=reply_id).exists()


def end_payload(m: Message) -> EndPayload:
    payload: EndPayload = {
        "status": m.status,
        "content": m.content,
        "reasoning": m.reasoning,
        "html": m.html,
        "error": m.error,
        "error_kind": m.error_kind,
        "retryable": m.retryable,
        "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
        "finish_reason": m.finish_reason,
    }
    if m.context_from is not None:
        payload["context_from"] = m.context_from
    return payload


def history_request(
    reply: Message,
    max_output_tokens: int,
    context: int,
    tree: Tree | None = None,
    known: Iterable[Message] = (),
) -> tuple[ChatRequest, Fitted]:
    """The branch from the root to the reply's parent, in order, as much of it as fits in
    the model's `context` (chat/context.py): what the upstream is asked to continue. Failed
    or empty replies are left out; a stopped reply's partial text is kept. `tree`: the
    conversation's, and `known`: messages of the branch as saved, if the caller has them
    (the question just made: a conversation's first exchange reads no message back)."""
    conv = reply.conversation
    path = (tree or Tree.of(conv.pk)).branch(reply.parent_id)
    if not path:  # its question is gone: deleted with the conversation since it was made
        raise UpstreamError(REPLY_DELETED, "config")
    rows = {m.pk: m for m in known if m.pk in path}
    if missing := [pk for pk in path if pk not in rows]:
        rows.update(Message.objects.in_bulk(missing))
    parts = []
    for m in (rows[pk] for pk in path):
        if m.role == Message.Role.ASSISTANT and (
            m.status not in (Message.Status.COMPLETE, Message.Status.STOPPED) or not m.content
        ):
            continue
        reported = m.output_tokens if m.role == Message.Role.ASSISTANT else None
        parts.append(part(m.pk, Turn(m.role, m.content), reported))
    fitted = fit(parts, conv.system_prompt, context, max_output_tokens)
    request = ChatRequest(
        model="",
        messages=fitted.turns,
        system_prompt=conv.system_prompt,
        max_output_tokens=max_output_tokens,
    )
    if fitted.context_from is not None:
        Message.objects.unfinished().filter(pk=reply.pk).update(context_from=fitted.context_from)
    return request, fitted


@transaction.atomic(savepoint=False)  # within the API's transaction: no SAVEPOINT round trip
def create_exchange(
    conv: Conversation, content: str, worker_channel: str, parent: int | None, provider: str
) -> tuple[Message, Message]:
    """A user message under `parent` and its reply, which becomes the current leaf.
    `provider` is the label of the provider serving the conversation's model."""
    user_msg = Message.objects.create(
        conversation=conv,
        parent_id=parent,
        role=Message.Role.USER,
        content=content,
        html=render_plain(content),
        status=Message.Status.COMPLETE,
    )
    titled = not conv.title
    if titled:
        conv.title = " ".join(content.split())[:60]
    fields = ("title",) if titled else ()
    reply = new_reply(conv, worker_channel, user_msg.pk, provider, fields, announce=False)
    user_events.emit(
        conv.owner_id,
        user_events.message_event(user_msg),
        user_events.message_event(reply),
        user_events.conversation_event(conv),
    )
    return user_msg, reply


def new_reply(
    conv: Conversation,
    worker_channel: str,
    parent: int | None,
    provider: str,
    changed: tuple[str, ...] = (),
    *,
    announce: bool = True,
) -> Message:
    """A reply about to be generated under `parent`, now the conversation's current leaf
    (saved with the conversation's `changed` fields), and its row in the usage ledger;
    `announce`: and the user's events about both."""
    reply = Message.objects.create(
        conversation=conv,
        parent_id=parent,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        model=conv.model,
        worker_channel=worker_channel,
        heartbeat_at=timezone.now(),
    )
    UsageRecord.objects.create(
        user_id=conv.owner_id,
        reply=reply,
        conversation=conv,
        model=conv.model,
        provider=provider,
        created_at=reply.created_at,
    )
    conv.current = reply
    conv.save(update_fields=["current", "updated_at", *changed])
    if announce:
        user_events.emit(
            conv.owner_id, user_events.message_event(reply), user_events.conversation_event(conv)
        )
    return reply


def flag_reply(reply_id: int, text: str, verdict: Verdict) -> None:
    """Keep a moderated reply's text for administrators (the reply itself keeps none)."""
    reply = Message.objects.select_related("conversation").filter(pk=reply_id).first()
    if reply is None:
        return
    ModerationFlag.objects.create(
        user_id=reply.conversation.owner_id,
        conversation_id=reply.conversation_id,
        message_id=reply.pk,
        kind=ModerationFlag.Kind.REPLY,
        text=storable(text),
        reason=verdict.reason,
        service_failed=verdict.service_failed,
    )


def load_reply(reply_id: int) -> Message | None:
    return Message.objects.select_related("conversation").filter(pk=reply_id).first()


def storable(text: str) -> str:
    """Model text as the database can hold it: PostgreSQL refuses NUL in text, and a model
    can send one (JSON "\\u0000"). It becomes U+FFFD, the usual mark of a character lost."""
    return text.replace("\x00", "\ufffd")


@dataclass
class Progress:
    reply_id: int
    content: str
    reasoning: str
    seq: int


@transaction.atomic
def save_progress(grown: list[Progress], quiet: list[int]) -> set[int]:
    """Save the partial text of the replies in `grown` and the heartbeat of those in `quiet`,
    in one transaction. Returns the ids of those already ended (by a stop elsewhere, or by the
    sweeper): their generations must stop."""
    ended = {p.reply_id for p in grown if not checkpoint(p.reply_id, p.content, p.reasoning, p.seq)}
    now = timezone.now()
    for start in range(0, len(quiet), 500):
        ids = quiet[start : start + 500]
        if Message.objects.unfinished().filter(pk__in=ids).update(heartbeat_at=now) < len(ids):
            alive = Message.objects.unfinished().filter(pk__in=ids).values_list("pk", flat=True)
            ended |= set(ids) - set(alive)
    return ended


def checkpoint(reply_id: int, content: str, reasoning: str, seq: int) -> bool:
    """Save the partial text; False when the reply was ended meanwhile."""
    now = timezone.now()
    changes = {
        "content": storable(content),
        "reasoning": storable(reasoning),
        "seq": seq,
        "heartbeat_at": now,
        "updated_at": now,
    }
    return bool(rows.update(Message, changes, pk=reply_id, status=Message.UNFINISHED))


@dataclass
class Outcome:
    """What is saved of a reply when it ends."""

    status: Message.Status
    content: str
    html: str = ""  # the content rendered (chat/server/renderer.py)
    reasoning: str = ""
    error: str = ""
    error_kind: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str = ""
    upstream_finish_reason: str = ""
    first_token_ms: int | None = None
    duration_ms: int | None = None


@transaction.atomic
def finish(reply_id: int, outcome: Outcome, seq: int) -> Message | None:
    """Save the final reply (text rendered once), its ledger row and the user's events, all
    or nothing; None if something else ended it first."""
    # Each statement made once (chat/rows.py), not built by the ORM at every save.
    saved = {
        "status": outcome.status,
        "content": storable(outcome.content),
        "reasoning": storable(outcome.reasoning),
        "html": outcome.html,
        "error": storable(outcome.error),
        "error_kind": outcome.error_kind,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "finish_reason": outcome.finish_reason,
        "upstream_finish_reason": outcome.upstream_finish_reason,
        "first_token_ms": outcome.first_token_ms,
        "duration_ms": outcome.duration_ms,
        "seq": seq,
        "worker_channel": "",
        "heartbeat_at": None,
        "updated_at": timezone.now(),
    }
    if not rows.update(Message, saved, pk=reply_id, status=Message.UNFINISHED):
        return None
    ledger = {
        "outcome": outcome.status,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "duration_ms": outcome.duration_ms,
    }
    rows.update(UsageRecord, ledger, reply_id=reply_id)
    # The saved reply and its conversation, each read the same way; the conversation set on
    # the reply, for its title (chat/replies/titles.py).
    reply = rows.get(Message, reply_id)
    conv = rows.get(Conversation, reply.conversation_id) if reply is not None else None
    if reply is None or conv is None:  # not while this transaction holds the reply's row
        raise Message.DoesNotExist(f"reply {reply_id} is gone")
    reply.conversation = conv
    conv.updated_at = timezone.now()
    rows.update(Conversation, {"updated_at": conv.updated_at}, pk=conv.pk)
    user_events.emit(
        conv.owner_id, user_events.message_event(reply), user_events.conversation_event(conv)
    )
    return reply


def unfinished_reply(reply_id: int) -> Message | None:
    return Message.objects.unfinished().filter(pk=reply_id).first()


def end_unfinished(
    reply: Message, status: Message.Status, error: str, html: str = "", error_kind: str = ""
) -> Message | None:
    """End a reply from its last checkpoint (`reply`, as loaded), when its generation is gone
    (crash, lost stop). `html` is its content, rendered."""
    outcome = Outcome(
        status=status,
        content=reply.content,
        html=html,
        reasoning=reply.reasoning,
        error=error,
        error_kind=error_kind,
        finish_reason="error" if status == Message.Status.ERROR else "",
    )
    return finish(reply.pk, outcome, reply.seq + 1)


def ended_among(reply_ids: list[int]) -> set[int]:
    """Those of the replies that have ended, or are gone (deleted with their conversation)."""
    unfinished: set[int] = set()
    for start in range(0, len(reply_ids), 500):
        ids = reply_ids[start : start + 500]
        unfinished.update(
            Message.objects.unfinished().filter(pk__in=ids).values_list("pk", flat=True)
        )
    return set(reply_ids) - unfinished


def stale_replies(stale_after: float) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    return list(
        Message.objects.unfinished().filter(heartbeat_at__lt=cutoff).values_list("pk", flat=True)
    ) + list(
        Message.objects.unfinished()
        .filter(heartbeat_at__isnull=True, updated_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
