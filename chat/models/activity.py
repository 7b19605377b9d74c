"""Moderation flags, the per-user event rows that other tabs follow, and preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models.conversations import Conversation, Message


class ModerationFlag(models.Model):
    """A message or reply the moderation hook stopped (chat/moderation.py), for administrators
    only. A refused message is not stored as a message: its text is here. A moderated reply is
    saved without its text (the user sees only that it was moderated): its text is here."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("user message")
        REPLY = "reply", _("reply")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_flags"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"))
    reason = models.CharField(_("reason"), max_length=500)
    service_failed = models.BooleanField(
        _("service failed"),
        default=False,
        help_text=_("Stopped because the moderation service failed (CHAT_MODERATION_FAIL)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("flagged message")
        verbose_name_plural = _("flagged messages")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user} · {self.reason}"


class UserEvent(models.Model):
    """One change of a user's conversations, for their other tabs (GET /api/events,
    chat/user_events.py). Kept a short while only: long enough for a tab to reconnect and
    catch up from its Last-Event-ID."""

    class Kind(models.TextChoices):
        CONVERSATION = "conversation", _("conversation changed")
        CONVERSATION_DELETED = "conversation_deleted", _("conversation deleted")
        MESSAGE = "message", _("message")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    data = models.JSONField(_("data"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"], name="user_event_after")]
        verbose_name = _("user event")
        verbose_name_plural = _("user events")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.kind} · {self.pk}"


class Preferences(models.Model):
    """A user's choices about the site itself, kept on the server so that they follow the
    user from browser to browser."""

    class Theme(models.TextChoices):
        SYSTEM = "system", _("as the system")
        LIGHT = "light", _("light")
        DARK = "dark", _("dark")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_preferences"
    )
    theme = models.CharField(_("theme"), max_length=8, choices=Theme.choices, default=Theme.SYSTEM)

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)
