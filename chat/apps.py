from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _search_index(using: str = "default", **kwargs: Any) -> None:
    from chat.search import ensure_sqlite_index

    ensure_sqlite_index(connections[using])


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")  # the admin's heading for the app, in the reader's language

    def ready(self) -> None:
        # SQLite's search table and its triggers, made again after any migration that
        # rebuilt chat_message (chat/search.py).
        post_migrate.connect(_search_index, sender=self)
