"""Django's stock middleware, with their hooks run on the event loop.

Under ASGI, Django runs every hook of a MiddlewareMixin (process_request, process_response)
through sync_to_async: a hop to a thread and back, about a tenth of a millisecond each, two per
middleware per request. The middleware below never touch the database or block (they read
headers and cookies, set headers, resolve URLs), so their hooks run inline, with the same
behaviour (CSPMiddleware, from django-csp, only writes a header). SessionMiddleware and
MessageMiddleware keep their hops: saving a session, or
messages that overflow their cookie into the session, is database work. (CsrfViewMiddleware
reads the session only with CSRF_USE_SESSIONS, which this site does not set; its process_view
keeps Django's hop.)

MIDDLEWARE keeps Django's own dotted paths (Django's checks, `check --deploy` included, look for
those), and ASGIHandler loads these subclasses in their place; the sync handler (the test
client, management commands) loads Django's as they are.
"""

from __future__ import annotations

from typing import Any

from csp import middleware as csp
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.core.handlers import asgi
from django.http import HttpRequest
from django.middleware import clickjacking, common, csrf, locale, security


class _OnTheLoop:
    get_response: Any

    async def __acall__(self, request: HttpRequest) -> Any:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class SecurityMiddleware(_OnTheLoop, security.SecurityMiddleware):
    pass


class LocaleMiddleware(_OnTheLoop, locale.LocaleMiddleware):
    pass


class CSPMiddleware(_OnTheLoop, csp.CSPMiddleware):
    pass


class CommonMiddleware(_OnTheLoop, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(_OnTheLoop, csrf.CsrfViewMiddleware):
    pass


class AuthenticationMiddleware(_OnTheLoop, auth.AuthenticationMiddleware):
    pass


class XFrameOptionsMiddleware(_OnTheLoop, clickjacking.XFrameOptionsMiddleware):
    pass


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# Django's dotted path -> ours, for each class above.
ON_THE_LOOP = {
    _path(cls.__bases__[1]): _path(cls)
    for cls in (
        SecurityMiddleware,
        LocaleMiddleware,
        CSPMiddleware,
        CommonMiddleware,
        CsrfViewMiddleware,
        AuthenticationMiddleware,
        XFrameOptionsMiddleware,
    )
}


class ASGIHandler(asgi.ASGIHandler):
    """Django's ASGI handler, with the middleware above in place of Django's."""

    def load_middleware(self, is_async: bool = False) -> None:
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = [ON_THE_LOOP.get(path, path) for path in configured]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured
