"""Per-user limits on replies: concurrent replies, messages per minute and the daily token
quota (chat/quota.py).

Defaults come from settings; an administrator can override them per user (UserLimits).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import Conversation, Message, UsageRecord, UserLimits
from chat.quota import check_quota, daily_allowance


def unfinished_replies(user: User, conv: Conversation) -> tuple[int, bool]:
    """How many of the user's replies are being written, and whether one of them is in
    `conv`: one statement. Sync."""
    counts = (
        Message.objects.for_user(user)
        .unfinished()
        .aggregate(running=Count("pk"), here=Count("pk", filter=Q(conversation=conv)))
    )
    return counts["running"], counts["here"] > 0


def check_can_start_reply(user: User, running: int | None = None) -> None:
    """Raise ApiError(429) when the user may not start another reply now; `running`: the
    number of the user's replies being written, if the caller has counted them. Sync."""
    override = UserLimits.objects.filter(user=user).first()
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
    since = timezone.now() - timedelta(minutes=1)
    if running is None:
        running = Message.objects.for_user(user).unfinished().count()
    # Sends are counted in the usage ledger, which deleting a conversation does not touch.
    recent = UsageRecord.objects.for_user(user).filter(created_at__gte=since).count()
    if running >= concurrent:
        raise ApiError(
            _("You already have %(n)d replies being written; wait for one to finish.")
            % {"n": running},
            status=429,
        )
    if recent >= per_minute:
        raise ApiError(
            _("You have sent %(n)d messages in the last minute; wait a moment.") % {"n": recent},
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
