"""The admin's usage pages: model prices, the usage ledger, and a report per day, model and
user with charts and a CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from chat import usage
from chat.models import ModelPrice, UsageRecord
from chat.providers import available_models
from chat.usage_views import chart_blocks

REPORT_DAYS = (7, 30, 90, 365)
TOP_USERS = 10


def model_choices(current: str = "") -> list[tuple[str, str]]:
    """The known models as (id, "provider · label"), and `current` if it is no longer known."""
    choices = [(c.id, f"{c.provider} · {c.label}") for c in available_models()]
    if current and current not in {c for c, _ in choices}:
        choices.insert(0, (current, _("%(model)s (unavailable)") % {"model": current}))
    return choices


class ModelPriceForm(forms.ModelForm[ModelPrice]):
    class Meta:
        model = ModelPrice
        fields = ("model", "input_per_million", "output_per_million")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"] = forms.ChoiceField(
            label=_("model"), choices=model_choices(self.instance.model or "")
        )
        for name in ("input_per_million", "output_per_million"):
            self.fields[name].help_text = _("In %(currency)s.") % {
                "currency": settings.CHAT_CURRENCY
            }


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin[ModelPrice]):
    form = ModelPriceForm
    list_display = ("model", "input_per_million", "output_per_million", "updated_at")
    search_fields = ("model",)


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin[UsageRecord]):
    """The ledger, read-only; the report (its own page) sums it up."""

    list_display = (
        "created_at",
        "user",
        "model",
        "provider",
        "input_tokens",
        "output_tokens",
        "duration_ms",
        "outcome",
        "conversation",
    )
    list_filter = ("outcome", "model", "provider", "created_at")
    search_fields = ("user__username", "model")
    list_select_related = ("user", "conversation")
    date_hierarchy = "created_at"
    change_list_template = "admin/chat/usagerecord/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        report = self.admin_site.admin_view(self.report_view)
        return [path("report/", report, name="chat_usage_report"), *super().get_urls()]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        raw = request.GET.get("days", "30")
        days = int(raw) if raw.isdigit() and int(raw) in REPORT_DAYS else 30
        first, last = usage.window(days)
        records = UsageRecord.objects.all()
        user_id = request.GET.get("user", "")
        if user_id.isdigit():
            records = records.filter(user_id=int(user_id))
        if request.GET.get("format") == "csv":
            return _csv(records, first, days)
        table = usage.prices()
        window = usage.in_window(records, first)
        per_model = sorted(
            usage.summarise(window, "model", table).values(), key=lambda r: -r.tokens
        )
        per_user = sorted(
            usage.summarise(window, ("user_id", "user__username"), table).values(),
            key=lambda r: -r.tokens,
        )[:TOP_USERS]
        per_day = usage.by_day(records, first, last)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Usage report"),
            "days": days,
            "day_choices": REPORT_DAYS,
            "charts": chart_blocks(per_day),
            "per_day": list(reversed(per_day)),
            "per_model": per_model,
            "per_user": per_user,
            "currency": settings.CHAT_CURRENCY,
            "user_filter": user_id if user_id.isdigit() else "",
            "filtered_user": get_user_model().objects.filter(pk=int(user_id)).first()
            if user_id.isdigit()
            else None,
            "csv_query": f"?days={days}&format=csv"
            + (f"&user={user_id}" if user_id.isdigit() else ""),
            "changelist_url": reverse("admin:chat_usagerecord_changelist"),
        }
        return TemplateResponse(request, "admin/chat/usage_report.html", context)


def _csv(records: Any, first: Any, days: int) -> HttpResponse:
    """One row per day, user and model: what a spreadsheet or an invoice starts from."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{days}-days.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["date", "user", "model", "replies", "input_tokens", "output_tokens", "cost", "currency"]
    )
    rows = usage.summarise(
        usage.in_window(records, first), ("day", "user__username", "model"), usage.prices()
    )
    for (day, username, model), row in sorted(rows.items(), key=lambda i: i[0]):
        cost = "" if row.cost is None else f"{row.cost:.6f}"
        writer.writerow(
            [
                day.isoformat(),
                _csv_safe(username),
                _csv_safe(model),
                row.replies,
                row.input_tokens,
                row.output_tokens,
                cost,
                settings.CHAT_CURRENCY,
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (user names are chosen by users)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
