from django.urls import path

from chat import api, stream, views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("api/models", api.models, name="api-models"),
    path("api/conversations", api.conversations, name="api-conversations"),
    path("api/conversations/<int:pk>", api.conversation, name="api-conversation"),
    path("api/conversations/<int:pk>/messages", api.messages, name="api-messages"),
    path("api/replies/<int:pk>/events", stream.reply_events, name="reply-events"),
    path("api/replies/<int:pk>/stop", api.stop, name="api-stop"),
    path("api/replies/<int:pk>/regenerate", api.regenerate, name="api-regenerate"),
]
