from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from chat.preferences import theme_of


def chat_settings(request: HttpRequest) -> dict[str, Any]:
    return {
        "signup_enabled": settings.CHAT_ALLOW_SIGNUP,
        "max_message_chars": settings.CHAT_MAX_MESSAGE_CHARS,
        "max_system_prompt_chars": settings.CHAT_MAX_SYSTEM_PROMPT_CHARS,
        # Read only by pages that draw it (base.html), one query then.
        "theme": SimpleLazyObject(lambda: theme_of(getattr(request, "user", None))),
    }
