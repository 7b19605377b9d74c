"""Usage and cost, read from the usage ledger (UsageRecord): tokens per day, model and user,
priced with the administrators' ModelPrice rows.

Cost is computed when it is read, from the prices as they are now: a price set today also
prices last month's tokens (a ledger written before any price was set still gets a cost).
Days are the site's days (TIME_ZONE), the same days the daily quota counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chat.models import ModelPrice, UsageRecord

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / MILLION


def prices() -> dict[str, Price]:
    return {
        p.model: Price(p.input_per_million, p.output_per_million) for p in ModelPrice.objects.all()
    }


@dataclass
class Row:
    """Tokens of one group (a day and model, a model, a user ...) and their cost (None when
    none of its models has a price)."""

    key: Any
    input_tokens: int = 0
    output_tokens: int = 0
    replies: int = 0
    cost: Decimal | None = None
    models: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: Row, price: Price | None) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.replies += other.replies
        if price is not None:
            self.cost = (self.cost or Decimal(0)) + price.cost(
                other.input_tokens, other.output_tokens
            )


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def window(days: int) -> tuple[date, date]:
    """The last `days` days, today included: (first, last)."""
    today = timezone.localdate()
    return today - timedelta(days=days - 1), today


def in_window(records: QuerySet[UsageRecord], first: date) -> QuerySet[UsageRecord]:
    return records.filter(created_at__gte=start_of_day(first))


def grouped(records: QuerySet[UsageRecord], *keys: str) -> list[dict[str, Any]]:
    """Sums of the ledger grouped by `keys` ("day", "model", "user_id", "user__username")."""
    zone = timezone.get_current_timezone()
    annotated = records.annotate(day=TruncDate("created_at", tzinfo=zone))
    return list(
        annotated.values(*keys, "model")
        .annotate(
            input_sum=Coalesce(Sum("input_tokens"), 0),
            output_sum=Coalesce(Sum("output_tokens"), 0),
            n=Count("id"),
        )
        .order_by()
    )


def summarise(
    records: QuerySet[UsageRecord], key: str | tuple[str, ...], table: dict[str, Price]
) -> dict[Any, Row]:
    """One Row per value of `key` (a field, or a tuple of fields), priced per model."""
    keys = (key,) if isinstance(key, str) else key
    rows: dict[Any, Row] = {}
    for g in grouped(records, *[k for k in keys if k != "model"]):
        k = g[keys[0]] if len(keys) == 1 else tuple(g[k] for k in keys)
        row = rows.setdefault(k, Row(k))
        row.models.add(g["model"])
        row.add(Row(k, g["input_sum"], g["output_sum"], g["n"]), table.get(g["model"]))
    return rows


def by_day(records: QuerySet[UsageRecord], first: date, last: date) -> list[Row]:
    """Every day from `first` to `last`, days without use included (as zeros)."""
    rows = summarise(in_window(records, first), "day", prices())
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [rows.get(d, Row(d)) for d in days]


def day_model_rows(records: QuerySet[UsageRecord], first: date) -> list[dict[str, Any]]:
    """The `days` of GET /api/usage: per day and model, oldest first."""
    table = prices()
    rows = summarise(in_window(records, first), ("day", "model"), table)
    out = []
    for (day, model), row in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1])):
        out.append(
            {
                "date": day.isoformat(),
                "model": model,
                "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
                "replies": row.replies,
                "cost": None if row.cost is None else str(round(row.cost, 6)),
            }
        )
    return out


def tokens_since(records: QuerySet[UsageRecord], since: datetime) -> int:
    total = records.filter(created_at__gte=since).aggregate(
        i=Coalesce(Sum("input_tokens"), 0), o=Coalesce(Sum("output_tokens"), 0)
    )
    return int(total["i"]) + int(total["o"])
