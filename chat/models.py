"""Conversations and their messages: one row per message, the reply's whole life on its row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
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
