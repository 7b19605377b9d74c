"""ASGI entry point, served by daphne: `daphne chatsite.asgi:application`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chat.flow import FlowControl  # noqa: E402
from chat.lifecycle import ProcessServices  # noqa: E402
from chat.threads import RequestThreads  # noqa: E402

site = ASGIStaticFilesHandler(django_app) if settings.CHAT_SERVE_STATIC else django_app
# Outermost first: FlowControl needs daphne's own `send`; ProcessServices starts the sweeper
# outside any request's context.
application = FlowControl(ProcessServices(RequestThreads(site)))
