"""Administrators manage upstream endpoints and limits here; conversations, usage and
moderation have modules of their own (admin_history, admin_usage, admin_moderation)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from chat import admin_history, admin_moderation, admin_usage  # noqa: F401 (they register pages)
from chat.models import Endpoint, UserLimits


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
    list_display = ("user", "max_concurrent_replies", "messages_per_minute", "daily_tokens")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


admin.site.site_header = _("Chat administration")
