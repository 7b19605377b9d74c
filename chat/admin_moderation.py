"""The admin's list of what the moderation hook stopped, with the reason and the text."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chat.models import ModerationFlag


@admin.register(ModerationFlag)
class ModerationFlagAdmin(admin.ModelAdmin[ModerationFlag]):
    list_display = (
        "created_at",
        "kind",
        "user",
        "reason",
        "excerpt",
        "service_failed",
        "conversation",
    )
    list_filter = ("kind", "service_failed", "created_at")
    search_fields = ("text", "reason", "user__username")
    list_select_related = ("user", "conversation")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "kind",
        "user",
        "conversation",
        "message",
        "reason",
        "service_failed",
        "text",
    )
    readonly_fields = fields

    @admin.display(description=_("text"))
    def excerpt(self, flag: ModerationFlag) -> str:
        return flag.text[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
