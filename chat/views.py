"""HTML pages: the chat page and sign-up. Everything else the page does goes through the API."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat.access import get_conversation_for_user
from chat.api import conversation_page
from chat.forms import SignupForm
from chat.models import Conversation, Message
from chat.providers import ModelChoice, available_models, default_model
from chat.render import page_rules
from chat.replies.outcome import explanations
from chat.tree import Tree


def _model_groups(choices: list[ModelChoice]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(provider, [(id, label)]) for the picker; the offline demo is labelled as a demo in the
    user's language."""
    groups = []
    for provider, items in groupby(choices, lambda c: c.provider):
        if provider == "Demo":
            groups.append((_("Demo"), [(c.id, _("Demo (offline)")) for c in items]))
        else:
            groups.append((provider, [(c.id, c.label) for c in items]))
    return groups


def ui_strings() -> dict[str, object]:
    """Every text the page script shows, in the user's language (read through json_script)."""
    return {
        "untitled": _("Untitled"),
        "reconnecting": _("Connection lost; reconnecting…"),
        "stopped": _("Stopped."),
        "interrupted": _("The reply was interrupted."),
        "error": _("The reply failed."),
        "copy": _("Copy"),
        "copied": _("Copied"),
        "copy_failed": _("Copy failed"),
        "copy_message": _("Copy message"),
        "jump_latest": _("Jump to the latest"),
        "reply_finished": _("The reply is ready"),
        "reply_started": _("The assistant is writing a reply…"),
        "reply_complete": _("The reply is complete."),
        "reply_stopped": _("The reply was stopped."),
        "notify_denied": _("Notifications are blocked for this site in the browser."),
        "rename_prompt": _("New name for this conversation:"),
        "delete_confirm": _("Delete “%(title)s”? This cannot be undone."),
        "saved": _("Saved."),
        "saved_for_new": _("Saved; used when the conversation starts."),
        "network_error": _("The server could not be reached; check your connection."),
        "server_error": _("Something went wrong on the server (%(status)s)."),
        "too_long": _("%(length)s / %(limit)s characters: the message is too long."),
        "counter": _("%(length)s / %(limit)s"),
        "system_prompt_too_long": _(
            "The system prompt is too long: the limit is %(limit)s characters."
        ),
        "tokens": _("%(count)s tokens"),
        "placeholder_touch": _("Write a message…"),
        "hint_touch": _("Pick a model, write a message and tap Send."),
        "retry": _("Retry"),
        "regenerate": _("Regenerate"),
        "edit": _("Edit"),
        "cancel": _("Cancel"),
        "send_edit": _("Send"),
        "previous_version": _("Previous version"),
        "next_version": _("Next version"),
        "version": _("%(index)s / %(count)s"),
        "imported": _("Imported: %(count)s conversations."),
        "context_cut": _(
            "Earlier messages were not sent with the last reply: they no longer fit in the "
            "model's context."
        ),
        "explanations": explanations(),
        "quota_left": _(
            "%(remaining)s of your %(total)s tokens for today are left; the allowance resets "
            "at %(time)s."
        ),
        "quota_used_up": _(
            "You have used your %(total)s tokens for today; the allowance resets at %(time)s."
        ),
    }


def model_labels(choices: list[ModelChoice]) -> dict[str, str]:
    """What the page calls each model: its label, not its id (`openai:gpt-4o` is `gpt-4o`)."""
    return {c.id: _("Demo (offline)") if c.id == "demo" else c.label for c in choices}


def _branch(conv: Conversation) -> list[tuple[Message, str]]:
    """The current branch, each message with its siblings' ids (for the ‹2/3› switcher)."""
    tree = Tree.of(conv.pk)
    path = tree.branch(conv.current_id)
    rows = conv.messages.in_bulk(path)
    return [(rows[pk], ",".join(map(str, tree.siblings(pk)))) for pk in path]


def _chat_context(request: HttpRequest, conv: Conversation | None) -> dict[str, Any]:
    choices = available_models()
    page = conversation_page(request.user, None)
    labels = model_labels(choices)
    messages = _branch(conv) if conv else []
    for m, _siblings in messages:
        m.model_label = labels.get(m.model, m.model)  # type: ignore[attr-defined]
    return {
        "conversation": conv,
        "messages": messages,
        "model_groups": _model_groups(choices),
        "current_model": conv.model if conv else default_model(),
        "model_known": conv is None or any(c.id == conv.model for c in choices),
        "sidebar": page["conversations"],
        "sidebar_next": page["next"],
        "ui_strings": {**ui_strings(), "model_labels": labels},
        "render_rules": page_rules(settings.CHAT_IMAGE_HOSTS),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/chat.html", _chat_context(request, None))


@login_required
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    conv = get_conversation_for_user(request.user, pk)
    return render(request, "chat/chat.html", _chat_context(request, conv))


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.CHAT_ALLOW_SIGNUP:
        raise Http404
    if request.user.is_authenticated:
        return redirect("chat:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:home")
    return render(request, "registration/signup.html", {"form": form})
