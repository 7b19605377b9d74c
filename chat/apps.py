from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")  # the admin's heading for the app, in the reader's language
    default_auto_field = "django.db.models.BigAutoField"
