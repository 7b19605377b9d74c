"""Per-user limits, model prices and the usage ledger (one row per reply)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation, Message

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class UserLimits(models.Model):
    """Per-user overrides of the reply limits in settings; empty fields take the default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_limits"
    )
    max_concurrent_replies = models.PositiveIntegerField(
        _("concurrent replies"),
        null=True,
        blank=True,
        help_text=_("Empty: CHAT_MAX_CONCURRENT_REPLIES."),
    )
    messages_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: CHAT_MESSAGES_PER_MINUTE."),
    )
    daily_tokens = models.PositiveIntegerField(
        _("tokens per day"),
        null=True,
        blank=True,
        help_text=_("Input and output tokens a day. Empty: CHAT_DAILY_TOKENS; 0: no limit."),
    )

    class Meta:
        verbose_name = _("user limits")
        verbose_name_plural = _("user limits")

    def __str__(self) -> str:
        return str(self.user)


class ModelPrice(models.Model):
    """What a model costs, set by an administrator; usage pages compute cost from it."""

    model = models.CharField(
        _("model"), max_length=200, unique=True, help_text=_("Model id as listed by /api/models.")
    )
    input_per_million = models.DecimalField(
        _("input price per million tokens"), max_digits=12, decimal_places=4
    )
    output_per_million = models.DecimalField(
        _("output price per million tokens"), max_digits=12, decimal_places=4
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["model"]
        verbose_name = _("model price")
        verbose_name_plural = _("model prices")

    def __str__(self) -> str:
        return self.model


class UsageRecordQuerySet(models.QuerySet["UsageRecord"]):
    def for_user(self, user: User) -> UsageRecordQuerySet:
        return self.filter(user=user)


class UsageRecord(models.Model):
    """The usage ledger: one row per reply, written when the reply starts and completed when
    it ends. It outlives the conversation (deleting one does not give a user back their sends):
    the per-minute limit counts it, and usage and cost are read from it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_records"
    )
    reply = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_record"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.CharField(_("model"), max_length=200)
    provider = models.CharField(_("provider"), max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(_("input tokens"), null=True, blank=True)
    output_tokens = models.PositiveIntegerField(_("output tokens"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=Message.Status.choices,
        default=Message.Status.STREAMING,
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)

    objects = UsageRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="usage_user_time")]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")

    def __str__(self) -> str:
        return f"{self.user} · {self.model} · {self.created_at:%Y-%m-%d %H:%M}"
