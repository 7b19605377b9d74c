"""Upstream endpoints added by administrators (beside those configured by environment)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EndpointQuerySet(models.QuerySet["Endpoint"]):
    def enabled(self) -> EndpointQuerySet:
        return self.filter(enabled=True)


class Endpoint(models.Model):
    """An upstream added by an administrator at runtime, beside those set in the environment."""

    class Protocol(models.TextChoices):
        OPENAI = "openai", _("OpenAI Chat Completions (or compatible)")
        OPENAI_COMPLETIONS = "openai_completions", _("OpenAI legacy Completions")
        ANTHROPIC = "anthropic", _("Anthropic Messages")
        GEMINI = "gemini", _("Google Gemini")
        SPARK = "spark", _("iFlytek Spark (WebSocket)")

    label = models.CharField(_("label"), max_length=100, help_text=_("Shown in the picker."))
    protocol = models.CharField(_("protocol"), max_length=32, choices=Protocol.choices)
    base_url = models.CharField(
        _("base URL"),
        max_length=500,
        help_text=_("e.g. http://127.0.0.1:11434/v1 for Ollama; the Spark wss:// URL for Spark."),
    )
    api_key = models.CharField(_("API key"), max_length=500, blank=True)
    api_secret = models.CharField(
        _("API secret"), max_length=500, blank=True, help_text=_("Spark only.")
    )
    app_id = models.CharField(_("app id"), max_length=100, blank=True, help_text=_("Spark only."))
    model_names = models.TextField(
        _("model ids"), help_text=_("Comma-separated upstream model ids (Spark: its domain).")
    )
    context_tokens = models.PositiveIntegerField(
        _("context size (tokens)"),
        null=True,
        blank=True,
        help_text=_(
            "The context window of these models, in tokens; empty: the protocol's default. "
            "Older messages are left out of what is sent to fit it."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["label", "id"]
        verbose_name = _("upstream endpoint")
        verbose_name_plural = _("upstream endpoints")

    def __str__(self) -> str:
        return self.label

    @property
    def model_ids(self) -> list[str]:
        return [m.strip() for m in self.model_names.split(",") if m.strip()]
