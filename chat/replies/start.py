"""What a generation sends upstream: the provider serving the reply's model and the request,
the conversation's branch as much as fits. Made in the transaction that creates the reply,
where the rows are at hand (chat/sending.py), or else by the generation when it starts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from django.conf import settings

from chat.models import Message
from chat.providers import resolve
from chat.providers.base import ChatRequest, Provider
from chat.providers.errors import UpstreamError
from chat.replies import store
from chat.tree import Tree

Prepared = tuple[Provider, ChatRequest]


def prepare(reply: Message, tree: Tree | None = None, known: Iterable[Message] = ()) -> Prepared:
    """The provider and request for `reply` (its conversation loaded); `tree`: the
    conversation's, and `known`: messages of its branch, if the caller has them. Sync: touches
    the DB. UpstreamError when the model is not served or the reply's question is gone."""
    provider, model, context = resolve(reply.model or reply.conversation.model)
    max_output = settings.CHAT_MAX_OUTPUT_TOKENS
    request, _fitted = store.history_request(reply, max_output, context, tree, known)
    return provider, replace(request, model=model)


def prepare_early(
    reply: Message, tree: Tree | None = None, known: Iterable[Message] = ()
) -> Prepared | None:
    """`prepare`, or None if it fails: the generation then tries again and ends the reply
    with the failure, as for any reply."""
    try:
        return prepare(reply, tree, known)
    except UpstreamError:
        return None
