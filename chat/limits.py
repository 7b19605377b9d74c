"""Per-user limits on replies: concurrent replies, messages per minute and the daily token
quota (chat/quota.py).

Defaults come from settings; an administrator can override them per user (UserLimits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import Conversation, Message, UsageRecord, UserLimits
from chat.quota import check_quota, daily_allowance


@dataclass(frozen=True, slots=True)
class Standing:
    """What the limits on a user's next reply are checked against."""

    running: int  # the user's replies being written
    here: bool  # one of them is in the conversation the reply would go to
    recent: int  # the user's sends in the last minute (the usage ledger's rows)
    override: UserLimits | None  # their per-user limits (not saved: read with the rest)


OVERRIDES = ("max_concurrent_replies", "messages_per_minute", "daily_tokens")


@functools.cache
def _standing_sql() -> str:
    """The statement `standing` runs."""
    message, conversation = Message._meta.db_table, Conversation._meta.db_table
    usage, limits = UsageRecord._meta.db_table, UserLimits._meta.db_table
    statuses = ", ".join(["%s"] * len(Message.UNFINISHED))
    overrides = ", ".join(
        f"(SELECT l.{name} FROM {limits} l WHERE l.user_id = %s)" for name in OVERRIDES
    )
    return f"""
        SELECT
            (SELECT COUNT(*) FROM {message} m INNER JOIN {conversation} c
                ON c.id = m.conversation_id
                WHERE c.owner_id = %s AND m.status IN ({statuses})),
            (SELECT COUNT(*) FROM {message} m
                WHERE m.conversation_id = %s AND m.status IN ({statuses})),
            (SELECT COUNT(*) FROM {usage} u WHERE u.user_id = %s AND u.created_at >= %s),
            {overrides}
    """


def standing(user: User, conv: Conversation | None = None) -> Standing:
    """The user's standing against the reply limits, and whether a reply is being written in
    `conv`: one statement. Sync.

    Written in SQL because it runs before every reply, while the page waits for the first
    token: built by the ORM, the three queries it stands for took about 0.25 ms of Python
    each on this project's machine, and SQLite runs each in 0.01 to 0.02 ms."""
    since = timezone.now() - timedelta(minutes=1)
    unfinished = [status.value for status in Message.UNFINISHED]
    params = [
        user.pk,
        *unfinished,
        conv.pk if conv is not None else None,
        *unfinished,
        user.pk,
        connection.ops.adapt_datetimefield_value(since),
        *[user.pk] * len(OVERRIDES),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_standing_sql(), params)
        running, here, recent, *values = cursor.fetchone()
    override = None
    if any(value is not None for value in values):
        override = UserLimits(user_id=user.pk, **dict(zip(OVERRIDES, values, strict=True)))
    return Standing(running, here > 0, recent, override)


def check_can_start_reply(user: User, counted: Standing | None = None) -> None:
    """Raise ApiError(429) when the user may not start another reply now; `counted`: their
    standing, if the caller has read it. Sync."""
    if counted is None:
        counted = standing(user)
    override = counted.override
    # Only an empty override takes the default: zero is a limit (this user may not send).
    concurrent = _override_or(
        override.max_concurrent_replies if override else None,
        settings.CHAT_MAX_CONCURRENT_REPLIES,
    )
    per_minute = _override_or(
        override.messages_per_minute if override else None, settings.CHAT_MESSAGES_PER_MINUTE
    )
    if concurrent == 0 or per_minute == 0:
        raise ApiError(
            _("Your account may not start replies at the moment; ask an administrator."),
            status=429,
        )
    if counted.running >= concurrent:
        raise ApiError(
            _("You already have %(n)d replies being written; wait for one to finish.")
            % {"n": counted.running},
            status=429,
        )
    # Sends are counted in the usage ledger, which deleting a conversation does not touch.
    if counted.recent >= per_minute:
        raise ApiError(
            _("You have sent %(n)d messages in the last minute; wait a moment.")
            % {"n": counted.recent},
            status=429,
        )
    check_quota(user, daily_allowance(user, override, loaded=True))


def check_can_create_conversation(user: User) -> None:
    """Raise ApiError(429) past CHAT_CONVERSATIONS_PER_MINUTE new conversations. Counting the
    conversations that exist bounds what a flood can store; one deleted again stores
    nothing. Sync."""
    since = timezone.now() - timedelta(minutes=1)
    recent = Conversation.objects.for_user(user).filter(created_at__gte=since).count()
    if recent >= settings.CHAT_CONVERSATIONS_PER_MINUTE:
        raise ApiError(
            _("You have started %(n)d conversations in the last minute; wait a moment.")
            % {"n": recent},
            status=429,
        )


def _override_or(value: int | None, default: int) -> int:
    return default if value is None else value
