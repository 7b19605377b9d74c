"""Administrators read every conversation here, and manage upstream endpoints and limits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from chat.models import Conversation, Endpoint, Message, UserLimits

_MESSAGE_FIELDS = (
    "role",
    "status",
    "model",
    "content",
    "rendered",
    "error",
    "input_tokens",
    "output_tokens",
    "finish_reason",
    "first_token_ms",
    "duration_ms",
    "parent",
    "created_at",
)


@admin.display(description=_("rendered"))
def rendered(message: Message) -> str:
    # Stored HTML was made by chat.render (sanitized), so it is safe to show as it is.
    return mark_safe(f'<div class="chat-rendered">{message.html}</div>')


class MessageInline(admin.StackedInline[Message, Conversation]):
    model = Message
    extra = 0
    can_delete = False
    fields = _MESSAGE_FIELDS
    readonly_fields = _MESSAGE_FIELDS
    ordering = ["created_at", "id"]

    def rendered(self, message: Message) -> str:
        return rendered(message)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("__str__", "owner", "model", "message_count", "updated_at", "created_at")
    list_filter = ("model", "updated_at", "created_at", "messages__status")
    search_fields = ("title", "owner__username", "owner__email", "messages__content")
    list_select_related = ("owner",)
    readonly_fields = ("owner", "created_at", "updated_at")
    date_hierarchy = "updated_at"
    inlines = [MessageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        queryset: QuerySet[Conversation] = super().get_queryset(request)
        return queryset.annotate(n_messages=Count("messages"))

    @admin.display(description=_("messages"), ordering="n_messages")
    def message_count(self, conv: Conversation) -> int:
        count: int = conv.n_messages  # type: ignore[attr-defined]
        return count


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ("id", "conversation", "role", "status", "model", "short_error", "created_at")
    list_filter = ("status", "role", "model", "created_at")
    search_fields = ("content", "error", "conversation__title", "conversation__owner__username")
    list_select_related = ("conversation",)
    fields = ("conversation", *_MESSAGE_FIELDS, "upstream_finish_reason", "reasoning")
    readonly_fields = fields

    def rendered(self, message: Message) -> str:
        return rendered(message)

    @admin.display(description=_("error"))
    def short_error(self, message: Message) -> str:
        return message.error[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EndpointForm(forms.ModelForm[Endpoint]):
    """Keys are write-only: never rendered back; left empty on edit, the stored one is kept."""

    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only. Leave empty to keep the stored key."),
    )
    api_secret = forms.CharField(
        label=_("API secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Spark only. Write-only. Leave empty to keep the stored secret."),
    )

    class Meta:
        model = Endpoint
        fields = (
            "label",
            "protocol",
            "base_url",
            "api_key",
            "api_secret",
            "app_id",
            "model_names",
            "context_tokens",
            "enabled",
        )

    def _keep(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "")
        if not value and self.instance.pk:
            stored: str = getattr(Endpoint.objects.get(pk=self.instance.pk), name)
            return stored
        return value

    def clean_api_key(self) -> str:
        return self._keep("api_key")

    def clean_api_secret(self) -> str:
        return self._keep("api_secret")

    def clean(self) -> dict[str, Any]:
        """Catch what would otherwise only fail at the first reply: the URL scheme each
        protocol speaks, Spark's extra credentials, at least one model id."""
        data = super().clean() or {}
        protocol, url = data.get("protocol"), (data.get("base_url") or "").strip()
        spark = protocol == Endpoint.Protocol.SPARK
        schemes = ("ws://", "wss://") if spark else ("http://", "https://")
        if url and not url.lower().startswith(schemes):
            self.add_error(
                "base_url",
                _("This protocol needs a URL starting with %(schemes)s.")
                % {"schemes": " or ".join(schemes)},
            )
        if spark:
            for name in ("app_id", "api_key", "api_secret"):
                if not data.get(name):
                    self.add_error(name, _("Spark needs an app id, an API key and a secret."))
        if "model_names" in data and not [m for m in data["model_names"].split(",") if m.strip()]:
            self.add_error("model_names", _("List at least one model id."))
        return data


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin[Endpoint]):
    form = EndpointForm
    list_display = ("label", "protocol", "base_url", "model_names", "enabled", "has_key")
    list_filter = ("protocol", "enabled")
    search_fields = ("label", "base_url", "model_names")

    @admin.display(description=_("key set"), boolean=True)
    def has_key(self, endpoint: Endpoint) -> bool:
        return bool(endpoint.api_key)


@admin.register(UserLimits)
class UserLimitsAdmin(admin.ModelAdmin[UserLimits]):
    list_display = ("user", "max_concurrent_replies", "messages_per_minute")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


admin.site.site_header = _("Chat administration")
