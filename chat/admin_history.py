"""Conversations in the admin: a transcript rendered as on the site, with a compact table of
each message's metadata; filters by owner, model, status and date; message text search; the
model chosen from the known models; a JSON download of the selected conversations. And links
from each user to their conversations, usage and limits."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from chat.admin_usage import model_choices
from chat.export import conversations_export
from chat.models import Conversation, Message, ModerationFlag, UserLimits
from chat.tree import Tree


class ConversationForm(forms.ModelForm[Conversation]):
    class Meta:
        model = Conversation
        fields = ("title", "model", "system_prompt")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"] = forms.ChoiceField(
            label=_("model"), choices=model_choices(self.instance.model or "")
        )


MAX_DEPTH = 4  # deeper branches are indented no further


def transcript(conv: Conversation) -> list[dict[str, Any]]:
    """Every message of every branch, depth first: a message, then its replies oldest first,
    each with its version among its siblings, whether it is on the conversation's current
    branch, how many forks lie above it (its indentation), and what moderation stopped."""
    messages = {m.pk: m for m in conv.messages.all()}
    tree = Tree((m.pk, m.parent_id) for m in messages.values())
    current = set(tree.branch(conv.current_id))
    flags: dict[int, list[ModerationFlag]] = {}
    for flag in ModerationFlag.objects.filter(conversation=conv, message__isnull=False):
        flags.setdefault(flag.message_id or 0, []).append(flag)
    rows: list[dict[str, Any]] = []
    stack: list[tuple[int, int]] = [(pk, 0) for pk in reversed(tree.children.get(None, []))]
    while stack:
        pk, depth = stack.pop()
        siblings = tree.siblings(pk)
        parent = tree.parent_of.get(pk)
        rows.append(
            {
                "m": messages[pk],
                "flags": flags.get(pk, []),
                "parent": parent,
                "fork": bool(rows) and rows[-1]["m"].pk != parent and parent is not None,
                "version": (siblings.index(pk) + 1, len(siblings)) if len(siblings) > 1 else None,
                "current": pk in current,
                "depth": min(depth, MAX_DEPTH),
            }
        )
        children = tree.children.get(pk, [])
        # The first reply continues at this depth; each later version is one fork deeper.
        for i, child in reversed(list(enumerate(children))):
            stack.append((child, depth + (1 if i else 0)))
    return rows


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    form = ConversationForm
    list_display = ("__str__", "owner", "model", "message_count", "updated_at", "created_at")
    list_filter = (
        ("owner", admin.RelatedOnlyFieldListFilter),
        "model",
        "messages__status",
        "created_at",
        "updated_at",
    )
    search_fields = ("title", "owner__username", "owner__email", "messages__content")
    search_help_text = _("Searches titles, owners and the text of every message.")
    list_select_related = ("owner",)
    fields = ("owner", "title", "model", "system_prompt", "created_at", "updated_at")
    readonly_fields = ("owner", "created_at", "updated_at")
    date_hierarchy = "updated_at"
    actions = ["download_json"]
    change_form_template = "admin/chat/conversation/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        queryset: QuerySet[Conversation] = super().get_queryset(request)
        return queryset.annotate(n_messages=Count("messages", distinct=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # conversations are made by their owners

    @admin.display(description=_("messages"), ordering="n_messages")
    def message_count(self, conv: Conversation) -> int:
        count: int = conv.n_messages  # type: ignore[attr-defined]
        return count

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        conv = self.get_object(request, object_id)
        extra = {"transcript": transcript(conv) if conv else []}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    @admin.action(description=_("Download the selected conversations as JSON"))
    def download_json(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> HttpResponse:
        body = json.dumps(
            conversations_export(queryset.order_by("pk")), ensure_ascii=False, indent=1
        )
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="conversations-{stamp}.json"'
        return response


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    """Messages one by one (the conversation's page reads better); kept for searching errors."""

    list_display = ("id", "conversation", "role", "status", "model", "short_error", "created_at")
    list_filter = ("status", "role", "model", "created_at")
    search_fields = ("content", "error", "conversation__title", "conversation__owner__username")
    list_select_related = ("conversation",)

    @admin.display(description=_("error"))
    def short_error(self, message: Message) -> str:
        return message.error[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def user_links(user: Any) -> str:
    """Links from a user to their conversations, usage, limits and flagged messages."""
    if user.pk is None:
        return ""
    limits = UserLimits.objects.filter(user=user).first()
    limits_url = (
        reverse("admin:chat_userlimits_change", args=[limits.pk])
        if limits
        else reverse("admin:chat_userlimits_add") + f"?user={user.pk}"
    )
    links = [
        (
            reverse("admin:chat_conversation_changelist") + f"?owner__id__exact={user.pk}",
            _("conversations"),
        ),
        (reverse("admin:chat_usage_report") + f"?user={user.pk}", _("usage")),
        (limits_url, _("limits") if limits else _("set limits")),
        (
            reverse("admin:chat_moderationflag_changelist") + f"?user__id__exact={user.pk}",
            _("flagged messages"),
        ),
    ]
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


User = get_user_model()


class ChatUserAdmin(UserAdmin):  # type: ignore[type-arg]
    # Django's own columns, and the links.
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "chat")
    readonly_fields = ("chat",)
    # The links right under the name, above the long permission lists.
    fieldsets = (
        *(UserAdmin.fieldsets or ())[:1],
        (_("Chat"), {"fields": ("chat",)}),
        *(UserAdmin.fieldsets or ())[1:],
    )

    @admin.display(description=_("chat"))
    def chat(self, user: Any) -> str:
        return user_links(user) or format_html("{}", "–")


admin.site.unregister(User)
admin.site.register(User, ChatUserAdmin)
