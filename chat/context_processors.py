from typing import Any

from django.conf import settings
from django.http import HttpRequest


def chat_settings(request: HttpRequest) -> dict[str, Any]:
    return {
        "signup_enabled": settings.CHAT_ALLOW_SIGNUP,
        "max_message_chars": settings.CHAT_MAX_MESSAGE_CHARS,
    }
