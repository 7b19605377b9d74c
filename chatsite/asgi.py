"""ASGI entry point, served by daphne: `daphne chatsite.asgi:application`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application() does

from chat.server.middleware import ASGIHandler  # noqa: E402

django_app = ASGIHandler()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chat.server.admission import Admission  # noqa: E402
from chat.server.eventstream import ReplyEventStreams  # noqa: E402
from chat.server.flow import FlowControl  # noqa: E402
from chat.server.lifecycle import ProcessServices  # noqa: E402
from chat.server.threads import RequestThreads  # noqa: E402

site = ASGIStaticFilesHandler(django_app) if settings.CHAT_SERVE_STATIC else django_app
# Outermost first: FlowControl needs daphne's own `send`; ProcessServices starts the sweeper
# outside any request's context; Admission answers CHAT_REQUEST_THREADS requests at a time, in
# the order they came; a reply's event stream is answered by ReplyEventStreams when it can be,
# on a request thread like any other request.
application = FlowControl(ProcessServices(Admission(RequestThreads(ReplyEventStreams(site)))))
