"""The daily token quota: CHAT_DAILY_TOKENS input and output tokens a user may spend per day
(the site's day, TIME_ZONE), 0 for none; an administrator can override it per user
(UserLimits.daily_tokens, where 0 also means none).

A reply is counted when it ends (its tokens are known then), so a send is refused only once
the day's finished replies have reached the quota; a reply already running always finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import UsageRecord, UserLimits
from chat.usage import start_of_day, tokens_since

# Below this share of the quota left, the page says how much is left.
LOW_SHARE = 0.2


@dataclass(frozen=True)
class Quota:
    daily_tokens: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.daily_tokens - self.used, 0)

    @property
    def low(self) -> bool:
        return self.remaining <= self.daily_tokens * LOW_SHARE

    def as_dict(self) -> dict[str, Any]:
        return {
            "daily_tokens": self.daily_tokens,
            "used": self.used,
            "remaining": self.remaining,
            "low": self.low,
            "resets_at": self.resets_at.isoformat(),
        }


def daily_allowance(user: Any, override: UserLimits | None = None, *, loaded: bool = False) -> int:
    """The user's daily tokens (0: no limit). `loaded`: `override` is their UserLimits row as
    already read (None if they have none), which saves a query."""
    if not loaded:
        override = UserLimits.objects.filter(user=user).first()
    value = override.daily_tokens if override is not None else None
    return int(settings.CHAT_DAILY_TOKENS if value is None else value)


def quota_for(user: Any, allowance: int | None = None) -> Quota | None:
    """The user's quota today, or None when they have no limit. Sync."""
    if allowance is None:
        allowance = daily_allowance(user)
    if allowance == 0:
        return None
    today = timezone.localdate()
    used = tokens_since(UsageRecord.objects.for_user(user), start_of_day(today))
    return Quota(allowance, used, start_of_day(today + timedelta(days=1)))


def check_quota(user: Any, allowance: int) -> None:
    """Raise ApiError(429) when the user has spent today's `allowance` of tokens. Sync."""
    quota = quota_for(user, allowance)
    if quota is None or quota.remaining > 0:
        return
    local = timezone.localtime(quota.resets_at)
    raise ApiError(
        _(
            "You have used your %(quota)s tokens for today. The allowance resets at "
            "%(time)s (%(zone)s)."
        )
        % {
            "quota": formats.number_format(quota.daily_tokens, force_grouping=True),
            "time": formats.time_format(local, "H:i"),
            "zone": timezone.get_current_timezone_name(),
        },
        status=429,
    )
