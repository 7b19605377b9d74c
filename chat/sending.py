"""Starting replies: a message sent (continuing the current branch, or editing and resending
an earlier one), a reply regenerated, and the branch a conversation shows. Sync functions,
each one transaction, called by the API through in_request_thread; they answer the API's
JSON for the rows they made."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils.translation import gettext as _

from chat.access import get_conversation_for_user, get_reply_for_user
from chat.apiutil import ApiError, text_field
from chat.limits import Standing, check_can_start_reply, standing
from chat.models import Conversation, Message
from chat.providers import provider_label
from chat.replies import store
from chat.replies.start import Prepared, prepare_early
from chat.tree import Tree


def lock_user(user: Any) -> None:
    """Serialise the start of one user's replies, up to the commit of the new rows: the
    checks (no reply being written in the conversation, the per-user limits) must not all
    pass for two requests sent at once. SQLite's IMMEDIATE transactions serialise anyway (no
    statement needed); on PostgreSQL this row lock does."""
    if connection.features.has_select_for_update:
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()


def require_available(model: str) -> str:
    """The label of the provider serving `model`; ApiError if none does."""
    label = provider_label(model)
    if not label:
        # The same sentence as chat.providers.errors.MODEL_UNAVAILABLE, translated.
        raise ApiError(
            _("The model “%(model)s” is not available; pick another one.") % {"model": model}
        )
    return label


def _require_idle(user: Any, conv: Conversation) -> Standing:
    """Refuse (409) while a reply is being written in the conversation; else the user's
    standing, for check_can_start_reply (one statement for both)."""
    counted = standing(user, conv)
    if counted.here:
        raise ApiError(_("A reply is still being written in this conversation."), status=409)
    return counted


def _parent(data: dict[str, Any], conv: Conversation, tree: Tree) -> int | None:
    """Where the new message goes: after the current leaf, or (edit and resend) under the
    `parent` named, beside that parent's other children. A question follows a reply (or
    starts the conversation), never another question."""
    if "parent" not in data:
        return conv.current_id
    parent = data["parent"]
    if parent is None:
        return None
    if not isinstance(parent, int) or isinstance(parent, bool) or parent not in tree:
        raise ApiError(_("“parent” must be the id of a reply in this conversation, or null."))
    if Message.objects.filter(pk=parent, role=Message.Role.USER).exists():
        raise ApiError(_("“parent” must be the id of a reply in this conversation, or null."))
    return parent


def described(tree: Tree, *rows: Message) -> list[dict[str, object]]:
    return [store.message_dict(m, tree.siblings(m.pk)) for m in rows]


@transaction.atomic
def start_exchange(
    user: Any, pk: int, data: dict[str, Any], channel: str
) -> tuple[dict[str, object], dict[str, object], Message, Prepared | None]:
    """The question and its reply as the API shows them, the reply to generate and what to
    send upstream for it."""
    lock_user(user)
    conv = get_conversation_for_user(user, pk)
    content = text_field(data, "content", settings.CHAT_MAX_MESSAGE_CHARS, required=True)
    tree = Tree.of(conv.pk)
    parent = _parent(data, conv, tree)
    provider = require_available(conv.model)
    check_can_start_reply(user, _require_idle(user, conv))
    user_msg, reply = store.create_exchange(conv, content, channel, parent, provider)
    tree.add(user_msg.pk, parent)
    tree.add(reply.pk, user_msg.pk)
    question, answer = described(tree, user_msg, reply)
    return question, answer, reply, prepare_early(reply, tree, (user_msg,))


@transaction.atomic
def regenerate(
    user: Any, pk: int, channel: str
) -> tuple[dict[str, object], Message, Prepared | None]:
    """A new reply beside a finished one (complete, stopped or failed), with the same
    parent; it becomes the current leaf. The old one stays, as an earlier sibling."""
    lock_user(user)
    old = get_reply_for_user(user, pk)
    if not old.is_finished:
        raise ApiError(_("This reply is still being written."), status=409)
    conv = old.conversation
    provider = require_available(conv.model)
    check_can_start_reply(user, _require_idle(user, conv))
    reply = store.new_reply(conv, channel, old.parent_id, provider)
    tree = Tree.of(conv.pk)
    return described(tree, reply)[0], reply, prepare_early(reply, tree)


def branch(conv: Conversation) -> list[dict[str, object]]:
    """The current branch, root to leaf, each message with its siblings."""
    tree = Tree.of(conv.pk)
    path = tree.branch(conv.current_id)
    rows = conv.messages.in_bulk(path)
    return described(tree, *(rows[pk] for pk in path))


def all_messages(conv: Conversation) -> list[dict[str, object]]:
    """Every message of the conversation, every branch, oldest first."""
    tree = Tree.of(conv.pk)
    return described(tree, *conv.messages.order_by("created_at", "id"))


def select_branch(conv: Conversation, value: object) -> None:
    """Show the branch through message `value`, down to its newest leaf."""
    tree = Tree.of(conv.pk)
    if not isinstance(value, int) or isinstance(value, bool) or value not in tree:
        raise ApiError(_("“current” must be the id of a message in this conversation."))
    conv.current_id = tree.newest_leaf(value)
