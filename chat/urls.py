from django.urls import path, re_path, register_converter

from chat import api, apiutil, preferences, stream, transfer, usage_views, views


class IdConverter:
    """A database id: at most 18 digits (a bigint). A longer number names nothing, and
    would make PostgreSQL refuse the query."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<id:pk>/", views.conversation, name="conversation"),
    path("usage/", usage_views.usage_page, name="usage"),
    path("api/models", api.models, name="api-models"),
    path("api/usage", usage_views.api_usage, name="api-usage"),
    path("api/conversations", api.conversations, name="api-conversations"),
    path("api/conversations/<id:pk>", api.conversation, name="api-conversation"),
    path("api/conversations/<id:pk>/messages", api.messages, name="api-messages"),
    path("api/replies/<id:pk>/events", stream.reply_events, name="reply-events"),
    path("api/events", stream.user_events, name="api-events"),
    path("api/search", api.search, name="api-search"),
    path("api/conversations/<id:pk>/export", transfer.export_conversation, name="api-export-one"),
    path("api/export", transfer.export_all, name="api-export"),
    path("api/import", transfer.import_file, name="api-import"),
    path("api/replies/<id:pk>/stop", api.stop, name="api-stop"),
    path("api/replies/<id:pk>/regenerate", api.regenerate, name="api-regenerate"),
    path("api/preferences", preferences.preferences, name="api-preferences"),
    re_path(r"^api/(?P<rest>.*)$", apiutil.not_found),
]
