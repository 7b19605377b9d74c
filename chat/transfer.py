"""The export and import endpoints (DESIGN.md, "Finding and moving conversations"):
chat/export.py writes the files, chat/importing.py reads and checks them, and here an import
is stored, all of it in one transaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from chat import export, importing, user_events
from chat.access import get_conversation_for_user
from chat.apiutil import ApiError, api
from chat.importing import NewConversation
from chat.models import Conversation, Message
from chat.providers import default_model
from chat.render import render_plain
from chat.server import renderer
from chat.server.process import in_request_thread
from chat.tree import Tree

RENDER_AT_ONCE = 16


def _download(body: str | bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@api("GET")
def export_conversation(request: HttpRequest, user: Any, pk: int) -> HttpResponse:
    conv = get_conversation_for_user(user, pk)
    kind = request.GET.get("format", "json")
    if kind == "markdown":
        return _download(
            export.conversation_markdown(conv),
            "text/markdown; charset=utf-8",
            export.filename(conv, "md"),
        )
    if kind != "json":
        raise ApiError(_("The format must be markdown or json."))
    body = json.dumps(export.conversation_export(conv), ensure_ascii=False, indent=1)
    return _download(body, "application/json", export.filename(conv, "json"))


@api("GET")
def export_all(request: HttpRequest, user: Any) -> HttpResponse:
    body = json.dumps(export.all_of(user), ensure_ascii=False, indent=1)
    return _download(body, "application/json", "conversations.json")


@api("POST")
async def import_file(request: HttpRequest, user: Any) -> JsonResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(_("Choose a file to import."))
    data = await in_request_thread(upload.read)()
    conversations = await in_request_thread(importing.read)(data)
    await _render(conversations)
    ids = await in_request_thread(_store)(user, conversations)
    return JsonResponse({"imported": len(ids), "conversations": ids}, status=201)


async def _render(conversations: list[NewConversation]) -> None:
    """Replies' markdown through the render workers (bounded in time, chat/server/renderer.py),
    a few at once; a user's text as plain text, as the site shows it."""
    replies = [m for c in conversations for m in c.messages if m.role == Message.Role.ASSISTANT]
    for start in range(0, len(replies), RENDER_AT_ONCE):
        batch = replies[start : start + RENDER_AT_ONCE]
        for m, html in zip(
            batch, await asyncio.gather(*(renderer.render(m.content) for m in batch)), strict=True
        ):
            m.html = html
    for c in conversations:
        for m in c.messages:
            if m.role == Message.Role.USER:
                m.html = render_plain(m.content)


@transaction.atomic
def _store(user: Any, conversations: list[NewConversation]) -> list[int]:
    model = default_model()
    ids = []
    for new in conversations:
        conv = Conversation.objects.create(
            owner=user, title=new.title, model=new.model or model, system_prompt=new.system_prompt
        )
        rows: dict[str, Message] = {}
        # Parents come before children (importing._ordered): each level in one insert.
        level = [m for m in new.messages if m.parent is None]
        while level:
            made = Message.objects.bulk_create(
                [
                    Message(
                        conversation=conv,
                        parent=rows[m.parent] if m.parent is not None else None,
                        role=m.role,
                        content=m.content,
                        html=m.html,
                        reasoning=m.reasoning,
                        status=m.status,
                        error=m.error,
                        model=m.model,
                        input_tokens=m.input_tokens,
                        output_tokens=m.output_tokens,
                        finish_reason=m.finish_reason,
                    )
                    for m in level
                ]
            )
            rows.update({m.ref: row for m, row in zip(level, made, strict=True)})
            refs = {m.ref for m in level}
            level = [m for m in new.messages if m.parent in refs]
        tree = Tree.of(conv.pk)
        if new.current is not None:
            conv.current = rows[new.current]
        elif rows:
            conv.current_id = tree.newest_leaf(tree.children[None][-1])
        conv.save(update_fields=["current"])
        stamps = {
            k: v for k, v in (("created_at", new.created_at), ("updated_at", new.updated_at)) if v
        }
        if stamps:
            Conversation.objects.filter(pk=conv.pk).update(**stamps)
            conv.refresh_from_db(fields=["created_at", "updated_at"])
        user_events.conversation_changed(conv)
        ids.append(conv.pk)
    return ids
