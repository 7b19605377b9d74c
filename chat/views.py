"""HTML pages: the chat page and sign-up. Everything else the page does goes through the API."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from chat.api import conversation_page
from chat.forms import SignupForm
from chat.models import Conversation
from chat.providers import available_models, default_model


def _get_conversation_for_user(request: HttpRequest, pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.for_user(request.user), pk=pk)


def _chat_context(request: HttpRequest, conv: Conversation | None) -> dict[str, Any]:
    choices = available_models()
    groups = [(provider, list(items)) for provider, items in groupby(choices, lambda c: c.provider)]
    page = conversation_page(request.user, None)
    return {
        "conversation": conv,
        "messages": list(conv.messages.visible()) if conv else [],
        "model_groups": groups,
        "current_model": conv.model if conv else default_model(),
        "model_known": conv is None or any(c.id == conv.model for c in choices),
        "sidebar": page["conversations"],
        "sidebar_next": page["next"],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/chat.html", _chat_context(request, None))


@login_required
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    conv = _get_conversation_for_user(request, pk)
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
        login(request, user)
        return redirect("chat:home")
    return render(request, "registration/signup.html", {"form": form})
