"""A conversation's title, written by a model after its first exchange.

Until then a conversation is named after its first message (chat/replies/store.py). When its
first reply completes, a task of its own (never part of the reply, which has already been
saved and announced) asks CHAT_TITLE_MODEL, or the conversation's own model, for a short
title, and saves it only if the title still comes from the first message: a title the user
set meanwhile is never replaced (Conversation.title_source). A failed request is logged and
forgotten; the conversation keeps its first-message title. A saved title reaches the user's
tabs through their event stream (chat/user_events.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction

from chat import user_events
from chat.models import Conversation, Message
from chat.providers import resolve, timeouts
from chat.providers.base import ChatRequest, TextDelta, Turn
from chat.providers.errors import UpstreamError
from chat.replies.redaction import Redactor
from chat.server.process import in_db_thread

log = logging.getLogger(__name__)

INSTRUCTION = (
    "You name conversations. When asked, write a title of at most six words for the "
    "conversation so far, in the language the user wrote in. Answer with the title alone: no "
    "quotes, no markdown, no full stop."
)
ASK = "Write the title of this conversation now."
EXCERPT_CHARS = 2000  # of the message and of the reply: enough to name them
MAX_TITLE_CHARS = 80
MAX_OUTPUT_TOKENS = 40
TIME_LIMIT = 60.0  # seconds for the whole request

# The title tasks running in this process, kept referenced until they end (the event loop
# holds only weak references to tasks).
_running: set[asyncio.Task[None]] = set()


@dataclass(frozen=True, slots=True)
class TitleJob:
    conversation_id: int
    model_id: str
    request: ChatRequest


def after_reply(reply: Message) -> None:
    """Called once a reply is saved and announced: start writing the title if it was the
    conversation's first complete reply. Returns at once."""
    if reply.status != Message.Status.COMPLETE or settings.CHAT_TITLE_MODEL == "off":
        return
    task = asyncio.get_running_loop().create_task(
        write_title(reply.conversation_id, reply.pk), context=contextvars.Context()
    )
    _running.add(task)
    task.add_done_callback(_running.discard)


def title_job(conversation_id: int, reply_id: int) -> TitleJob | None:
    """What to ask, or None if this conversation needs no written title."""
    conv = Conversation.objects.filter(
        pk=conversation_id, title_source=Conversation.TitleSource.FIRST_MESSAGE
    ).first()
    if conv is None:
        return None
    # The conversation's first complete reply, to a first message (on any branch): asked
    # once, whether or not it succeeds.
    first = conv.messages.filter(role=Message.Role.ASSISTANT, status=Message.Status.COMPLETE)
    if list(first.order_by("pk").values_list("pk", flat=True)[:1]) != [reply_id]:
        return None
    reply = Message.objects.select_related("parent").get(pk=reply_id)
    question = reply.parent
    if question is None or question.role != Message.Role.USER or question.parent_id is not None:
        return None
    request = ChatRequest(
        model="",
        messages=[
            Turn("user", question.content[:EXCERPT_CHARS]),
            Turn("assistant", reply.content[:EXCERPT_CHARS]),
            Turn("user", ASK),
        ],
        system_prompt=INSTRUCTION,
        max_output_tokens=MAX_OUTPUT_TOKENS,
        purpose="title",
    )
    return TitleJob(conv.pk, settings.CHAT_TITLE_MODEL or conv.model, request)


def clean_title(text: str) -> str:
    """The model's answer as a title: one line, without markdown marks, quotes, a leading
    "Title:" or a final full stop."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*#*\s*(?:(?:title|标题)\s*[:：]\s*)?", "", line, flags=re.I)
    line = re.sub(r"[*_`#]+", "", line)
    quotes, stops = " \"'“”‘’「」《》", "。.!！"
    line = " ".join(line.split()).rstrip(stops).strip(quotes).rstrip(stops)
    if len(line) > MAX_TITLE_CHARS:
        line = line[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] or line[:MAX_TITLE_CHARS]
    return line


@transaction.atomic
def save_title(conversation_id: int, title: str) -> bool:
    """Store a written title unless the user named the conversation meanwhile, and tell the
    user's tabs (a `conversation` event on GET /api/events). The update is conditional, so a
    rename that lands first always wins; `updated_at` is left alone (a title does not move
    the conversation up the list)."""
    saved = Conversation.objects.filter(
        pk=conversation_id, title_source=Conversation.TitleSource.FIRST_MESSAGE
    ).update(title=title, title_source=Conversation.TitleSource.MODEL)
    if saved:
        user_events.conversation_changed(Conversation.objects.get(pk=conversation_id))
    return bool(saved)


async def _ask(job: TitleJob) -> str:
    provider, model, _context = await in_db_thread(resolve)(job.model_id)
    request = replace(job.request, model=model)
    keys = Redactor(provider.secrets)  # a key echoed back never becomes a title
    text = ""
    events = provider.events(request, timeouts())
    try:
        async with asyncio.timeout(TIME_LIMIT):
            async for event in events:
                if isinstance(event, TextDelta):
                    text += keys.feed(event.text)
                    if len(text) > 4 * MAX_TITLE_CHARS:
                        break
    finally:
        await events.aclose()
    return text + keys.flush()


async def write_title(conversation_id: int, reply_id: int) -> None:
    try:
        job = await in_db_thread(title_job)(conversation_id, reply_id)
        if job is None:
            return
        title = clean_title(await _ask(job))
        if not title:
            log.warning("conversation %s: the title model gave no title", conversation_id)
            return
        if await in_db_thread(save_title)(conversation_id, title):
            log.info("conversation %s titled", conversation_id)
    except asyncio.CancelledError:
        raise
    except UpstreamError as exc:
        log.warning("conversation %s: no title written: %s", conversation_id, exc)
    except TimeoutError:
        log.warning("conversation %s: no title written in %s s", conversation_id, TIME_LIMIT)
    except Exception:
        log.exception("conversation %s: no title written", conversation_id)
