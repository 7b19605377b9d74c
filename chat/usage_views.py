"""A user's own usage: the Usage page (tokens and cost per day, drawn as SVG on the server)
and GET /api/usage (DESIGN.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _

from chat import usage
from chat.apiutil import ApiError, api
from chat.charts import Chart, bar_chart
from chat.models import UsageRecord
from chat.quota import quota_for

DEFAULT_DAYS = 30
MAX_DAYS = 366


def chart_blocks(rows: list[usage.Row]) -> list[dict[str, Any]]:
    """The tokens chart, and the cost chart when any of the days has a cost: each a context
    for templates/chat/_bar_chart.html."""
    labels = [formats.date_format(r.key, "m-d") for r in rows]
    tokens: Chart = bar_chart(
        _("Tokens per day"),
        labels,
        [
            ("series-input", _("input"), [r.input_tokens for r in rows]),
            ("series-output", _("output"), [r.output_tokens for r in rows]),
        ],
    )
    blocks: list[dict[str, Any]] = [
        {
            "chart": tokens,
            "legend": [("series-input", _("input tokens")), ("series-output", _("output tokens"))],
            "empty_text": _("No tokens used in these days."),
        }
    ]
    if any(r.cost is not None for r in rows):
        cost = bar_chart(
            _("Cost per day (%(currency)s)") % {"currency": settings.CHAT_CURRENCY},
            labels,
            [("series-cost", _("cost"), [r.cost or 0 for r in rows])],
            fmt=lambda v: f"{v:,.4f}".rstrip("0").rstrip(".") if v else "0",
        )
        blocks.append({"chart": cost, "legend": None, "empty_text": _("No cost in these days.")})
    return blocks


def _days(request: HttpRequest) -> int:
    raw = request.GET.get("days", str(DEFAULT_DAYS))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise ApiError(_("“days” must be a whole number from 1 to %(max)d.") % {"max": MAX_DAYS})
    return int(raw)


@login_required
def usage_page(request: HttpRequest) -> HttpResponse:
    first, last = usage.window(DEFAULT_DAYS)
    user: Any = request.user
    records = UsageRecord.objects.for_user(user)
    rows = usage.by_day(records, first, last)
    table = usage.prices()
    per_model = sorted(
        usage.summarise(usage.in_window(records, first), "model", table).values(),
        key=lambda r: -r.tokens,
    )
    return render(
        request,
        "chat/usage.html",
        {
            "days": DEFAULT_DAYS,
            "charts": chart_blocks(rows),
            "per_model": per_model,
            "total": _total(rows),
            "quota": quota_for(user),
            "currency": settings.CHAT_CURRENCY,
        },
    )


def _total(rows: list[usage.Row]) -> usage.Row:
    total = usage.Row("total")
    for r in rows:
        total.input_tokens += r.input_tokens
        total.output_tokens += r.output_tokens
        total.replies += r.replies
        if r.cost is not None:
            total.cost = (total.cost or 0) + r.cost
    return total


@api("GET")
def api_usage(request: HttpRequest, user: Any) -> JsonResponse:
    first, _last = usage.window(_days(request))
    quota = quota_for(user)
    return JsonResponse(
        {
            "quota": quota.as_dict() if quota else None,
            "currency": settings.CHAT_CURRENCY,
            "days": usage.day_model_rows(UsageRecord.objects.for_user(user), first),
        }
    )
