"""The JSON API under /api/ (DESIGN.md, "HTTP contract")."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from chat import sending, user_events
from chat.access import get_conversation_for_user, get_reply_for_user
from chat.apiutil import ApiError, api, json_body, text_field
from chat.limits import check_can_create_conversation, check_can_start_reply
from chat.models import Conversation, Message, UsageRecord
from chat.moderation import review_message
from chat.providers import available_models, default_model, model_exists
from chat.replies import store
from chat.replies.generation import spawn
from chat.replies.messages import new_worker_channel
from chat.replies.start import Prepared, prepare_early
from chat.replies.stopping import request_stop, stop_deleted
from chat.search import search as search_conversations
from chat.server.process import in_request_thread
from chat.server.process import state as process_state
from chat.tree import Tree

PAGE_SIZE = 30


def stream_url(reply: Message) -> str:
    return reverse("chat:reply-events", args=[reply.pk])


@api("GET")
def models(request: HttpRequest, user: Any) -> JsonResponse:
    choices = available_models()
    return JsonResponse(
        {
            "models": [{"id": c.id, "label": c.label, "provider": c.provider} for c in choices],
            "default": default_model(),
        }
    )


def _encode_cursor(conv: Conversation) -> str:
    raw = f"{conv.updated_at.isoformat()}|{conv.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        raise ApiError(_("The cursor is not valid.")) from None


def conversation_page(user: Any, cursor: str | None, size: int = PAGE_SIZE) -> dict[str, Any]:
    """Newest first, keyset-paginated on (updated_at, id): stable while chats move up."""
    qs = Conversation.objects.for_user(user)
    if cursor:
        stamp, pk = _decode_cursor(cursor)
        qs = qs.filter(Q(updated_at__lt=stamp) | Q(updated_at=stamp, pk__lt=pk))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {
        "conversations": [store.conversation_dict(c) for c in rows],
        "next": _encode_cursor(rows[-1]) if more else None,
    }


def _conversation_fields(data: dict[str, Any], conv: Conversation) -> None:
    if "title" in data:
        conv.title = text_field(data, "title", 200).strip()
        # The user's own title, never replaced by a written one (chat/replies/titles.py); an
        # empty one hands the naming back.
        conv.title_source = (
            Conversation.TitleSource.USER if conv.title else Conversation.TitleSource.FIRST_MESSAGE
        )
    if "system_prompt" in data:
        conv.system_prompt = text_field(
            data, "system_prompt", settings.CHAT_MAX_SYSTEM_PROMPT_CHARS
        )
    if "model" in data:
        model = text_field(data, "model", 200, required=True)
        if not model_exists(model):
            raise ApiError(_("Unknown model “%(model)s”.") % {"model": model})
        conv.model = model


@api("GET", "POST")
async def conversations(request: HttpRequest, user: Any) -> JsonResponse:
    """GET: the sidebar's pages. POST: a new conversation; with `content`, its first message
    too, and its reply starts: all of it, or (refused) nothing, so that a refused first send
    leaves no empty conversation behind."""
    if request.method == "GET":
        page = await in_request_thread(conversation_page)(user, request.GET.get("cursor"))
        return JsonResponse(page)
    data = json_body(request)
    if "content" not in data:
        conv = await in_request_thread(_create_conversation)(user, data)
        return JsonResponse(store.conversation_dict(conv), status=201)
    _refuse_when_draining()
    await review_message(user, data["content"], None)  # before anything is stored or sent
    channel = await new_worker_channel()
    conv, question, reply, prepared = await in_request_thread(_start_conversation)(
        user, data, channel
    )
    spawn(reply, channel, prepared)
    return JsonResponse(
        {
            "conversation": store.conversation_dict(conv),
            "message": store.message_dict(question, [question.pk]),
            "reply": store.message_dict(reply, [reply.pk]),
            "stream_url": stream_url(reply),
        },
        status=202,
    )


@transaction.atomic
def _create_conversation(user: Any, data: dict[str, Any]) -> Conversation:
    sending.lock_user(user)
    check_can_create_conversation(user)
    conv = Conversation(owner=user, model=default_model())
    _conversation_fields(data, conv)
    conv.save()
    user_events.conversation_changed(conv)
    return conv


@transaction.atomic
def _start_conversation(
    user: Any, data: dict[str, Any], channel: str
) -> tuple[Conversation, Message, Message, Prepared | None]:
    sending.lock_user(user)
    check_can_create_conversation(user)
    conv = Conversation(owner=user, model=default_model())
    _conversation_fields(data, conv)
    content = text_field(data, "content", settings.CHAT_MAX_MESSAGE_CHARS, required=True)
    provider = sending.require_available(conv.model)
    check_can_start_reply(user)
    conv.save()
    user_msg, reply = store.create_exchange(conv, content, channel, None, provider)
    return conv, user_msg, reply, prepare_early(reply, Tree([(user_msg.pk, None)]), (user_msg,))


@api("GET", "PATCH", "DELETE")
async def conversation(request: HttpRequest, user: Any, pk: int) -> HttpResponse:
    # Both run as the sync view they were, through `sync_to_async` as chat/apiutil.py runs sync
    # views: in_request_thread would close the request's database connection after each.
    if request.method == "DELETE":
        running = await sync_to_async(_delete_conversation)(user, pk)
        # Their generations are stopped now, wherever they run, not at their next checkpoint
        # (which finds them gone too, should a stop be lost).
        await stop_deleted(running)
        return HttpResponse(status=204)
    return await sync_to_async(_read_or_change_conversation)(request, user, pk)


def _delete_conversation(user: Any, pk: int) -> list[tuple[int, str]]:
    """Delete the conversation; returns its replies that were running (id, generation's
    channel). The ledger keeps them, as stopped."""
    conv = get_conversation_for_user(user, pk)
    running = list(
        Message.objects.unfinished().filter(conversation=conv).values_list("pk", "worker_channel")
    )
    UsageRecord.objects.filter(conversation=conv, outcome__in=Message.UNFINISHED).update(
        outcome=Message.Status.STOPPED
    )
    with transaction.atomic():
        conv.delete()
        user_events.conversation_deleted(user.pk, pk)
    return running


def _read_or_change_conversation(request: HttpRequest, user: Any, pk: int) -> HttpResponse:
    conv = get_conversation_for_user(user, pk)
    if request.method == "PATCH":
        data = json_body(request)
        _conversation_fields(data, conv)
        if "current" in data:
            sending.select_branch(conv, data["current"])
        with transaction.atomic():
            conv.save()
            user_events.conversation_changed(conv)
    answer = store.conversation_dict(conv)
    answer["messages"] = sending.branch(conv)
    return JsonResponse(answer)


def _all_messages(user: Any, pk: int) -> dict[str, object]:
    return {"messages": sending.all_messages(get_conversation_for_user(user, pk))}


def _refuse_when_draining() -> None:
    if process_state.draining:
        raise ApiError(_("The server is restarting; send your message again in a moment."), 503)


@api("GET", "POST")
async def messages(request: HttpRequest, user: Any, pk: int) -> JsonResponse:
    """GET: every message of every branch, oldest first (what the page switches between).
    POST: a message, continuing the current branch or (with `parent`) beside an earlier one."""
    if request.method == "GET":
        return JsonResponse(await in_request_thread(_all_messages)(user, pk))
    _refuse_when_draining()
    data = json_body(request)
    await review_message(user, data.get("content"), pk)  # before anything is stored or sent
    channel = await new_worker_channel()
    start = in_request_thread(sending.start_exchange)
    question, reply, made, prepared = await start(user, pk, data, channel)
    spawn(made, channel, prepared)
    return JsonResponse(
        {"message": question, "reply": reply, "stream_url": _stream_url_of(reply)}, status=202
    )


def _stream_url_of(reply: dict[str, object]) -> str:
    return reverse("chat:reply-events", args=[reply["id"]])


@api("POST")
async def stop(request: HttpRequest, user: Any, pk: int) -> JsonResponse:
    reply = await in_request_thread(get_reply_for_user)(user, pk)
    reply = await request_stop(reply)
    tree = await in_request_thread(Tree.of)(reply.conversation_id)
    return JsonResponse(store.message_dict(reply, tree.siblings(reply.pk)))


@api("POST")
async def regenerate(request: HttpRequest, user: Any, pk: int) -> JsonResponse:
    _refuse_when_draining()
    channel = await new_worker_channel()
    reply, made, prepared = await in_request_thread(sending.regenerate)(user, pk, channel)
    spawn(made, channel, prepared)
    return JsonResponse({"reply": reply, "stream_url": _stream_url_of(reply)}, status=202)


@api("GET")
def search(request: HttpRequest, user: Any) -> JsonResponse:
    """GET /api/search?q=: the user's own titles and messages holding q (chat/search.py)."""
    return JsonResponse(
        search_conversations(user, request.GET.get("q", ""), request.GET.get("cursor"))
    )
