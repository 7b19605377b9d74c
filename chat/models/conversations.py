"""Conversations and their messages: one row per message, the reply's whole life on its row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chat.providers.errors import RETRYABLE_KINDS

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ConversationQuerySet(models.QuerySet["Conversation"]):
    def for_user(self, user: User) -> ConversationQuerySet:
        return self.filter(owner=user)


class Conversation(models.Model):
    class TitleSource(models.TextChoices):
        FIRST_MESSAGE = "first_message", _("the first message")
        MODEL = "model", _("written by a model")
        USER = "user", _("set by the user")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    title_source = models.CharField(
        _("title from"),
        max_length=16,
        choices=TitleSource.choices,
        default=TitleSource.FIRST_MESSAGE,
        help_text=_("A title the user set is never replaced by a written one."),
    )
    model = models.CharField(
        _("model"), max_length=200, help_text=_("Model id as listed by /api/models.")
    )
    system_prompt = models.TextField(_("system prompt"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(
        _("last activity"), auto_now=True, help_text=_("Bumped by every new message.")
    )
    # The leaf of the branch shown and continued (chat/tree.py); null while it has no message.
    current = models.ForeignKey(
        "Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current message"),
        help_text=_("The last message of the branch shown; the branch runs up to the root."),
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at", "-id"], name="conv_sidebar")]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return self.title or _("Untitled conversation #%(id)s") % {"id": self.pk}


class MessageQuerySet(models.QuerySet["Message"]):
    def for_user(self, user: User) -> MessageQuerySet:
        return self.filter(conversation__owner=user)

    def unfinished(self) -> MessageQuerySet:
        return self.filter(status__in=Message.UNFINISHED)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("user")
        ASSISTANT = "assistant", _("assistant")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        STREAMING = "streaming", _("streaming")
        COMPLETE = "complete", _("complete")
        STOPPED = "stopped", _("stopped")
        ERROR = "error", _("error")
        INTERRUPTED = "interrupted", _("interrupted")

    TERMINAL = frozenset({Status.COMPLETE, Status.STOPPED, Status.ERROR, Status.INTERRUPTED})
    UNFINISHED = (Status.PENDING, Status.STREAMING)

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # The message this one answers or follows; null for a first message. Messages with the
    # same parent are siblings: a retry, or an edited question (chat/tree.py).
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    content = models.TextField(_("content"), blank=True)
    reasoning = models.TextField(
        _("reasoning"), blank=True, help_text=_("The model's thinking text, kept apart.")
    )
    html = models.TextField(
        _("rendered HTML"), blank=True, help_text=_("Sanitized; made by chat.render only.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COMPLETE
    )
    error = models.TextField(_("error"), blank=True)
    error_kind = models.CharField(
        _("error kind"),
        max_length=32,
        blank=True,
        help_text=_("What failed (chat.providers.base.ErrorKind): decides whether Retry helps."),
    )
    model = models.CharField(_("model"), max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(_("input tokens"), null=True, blank=True)
    output_tokens = models.PositiveIntegerField(_("output tokens"), null=True, blank=True)
    finish_reason = models.CharField(
        _("finish reason"),
        max_length=32,
        blank=True,
        help_text=_("Normalised: stop, length, content_filter, tool_calls or error."),
    )
    upstream_finish_reason = models.CharField(
        _("upstream finish reason"), max_length=64, blank=True
    )
    first_token_ms = models.PositiveIntegerField(
        _("time to first token (ms)"), null=True, blank=True
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    context_from = models.PositiveBigIntegerField(
        _("context from"),
        null=True,
        blank=True,
        help_text=_(
            "The first message of the branch sent with this reply, when older ones were left "
            "out to fit the model's context; empty: all of it was sent."
        ),
    )
    # Where the generation runs: the channel its process listens on for stop and sync
    # requests, and when that process last said it was alive.
    worker_channel = models.CharField(max_length=200, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    seq = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("Event sequence number of the saved text.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="msg_thread"),
            models.Index(fields=["status", "heartbeat_at"], name="msg_unfinished"),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.get_role_display()} #{self.pk}: {self.content[:60]}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def explained_error(self) -> str:
        """The error as the reader should see it: the site's own texts in their language."""
        from chat.replies.outcome import explain

        return explain(self.error_kind, self.error)

    @property
    def retryable(self) -> bool:
        """Whether retrying can help: a stopped or interrupted reply, or a failure that may
        pass (a failure of an unknown kind, from before kinds were kept, counts as one)."""
        if self.status in (self.Status.STOPPED, self.Status.INTERRUPTED):
            return True
        return self.status == self.Status.ERROR and (
            not self.error_kind
            or self.error_kind in RETRYABLE_KINDS
            or self.error_kind in ("server_failed", "moderation_failed")
        )
