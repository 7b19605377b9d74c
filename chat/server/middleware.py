"""Django's stock middleware, with their hooks run on the event loop.

Under ASGI, Django runs every hook of a MiddlewareMixin (process_request, process_view,
process_response) through sync_to_async: a hop to a thread and back, about 45 µs of CPU
each on this machine, two or three per middleware per request. The middleware below run their
hooks inline when the hook cannot touch the database or block, with the same behaviour:

- SecurityMiddleware, LocaleMiddleware, CSPMiddleware (django-csp, only writes a header),
  CommonMiddleware, AuthenticationMiddleware (the user is loaded lazily, by the view) and
  XFrameOptionsMiddleware read headers and cookies, set headers and resolve URLs: always
  inline.
- SessionMiddleware makes a lazy session (inline) and saves it after the response only when
  it was changed: that save keeps Django's hop, a response that changed nothing has none.
- MessageMiddleware stores messages (in a cookie, overflowing into the session) only when a
  message was added or shown: that keeps its hop; the API's requests never do either.
- CsrfViewMiddleware reads the CSRF cookie and header (the session only with
  CSRF_USE_SESSIONS, which this site does not set); its check reads the form body of a POST,
  so a multipart body (an upload: parsing it could take a while) keeps the hop.

MIDDLEWARE keeps Django's own dotted paths (Django's checks, `check --deploy` included, look for
those), and ASGIHandler loads these subclasses in their place; the sync handler (the test
client, management commands) loads Django's as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from csp import middleware as csp
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core.handlers import asgi
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, locale, security


class _OnTheLoop:
    get_response: Any

    async def __acall__(self, request: HttpRequest) -> Any:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_thread(request, response):
                hook = sync_to_async(self.process_response, thread_sensitive=True)
                response = await hook(request, response)
            else:
                response = self.process_response(request, response)
        return response

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False


class SecurityMiddleware(_OnTheLoop, security.SecurityMiddleware):
    pass


class LocaleMiddleware(_OnTheLoop, locale.LocaleMiddleware):
    pass


class CSPMiddleware(_OnTheLoop, csp.CSPMiddleware):
    pass


class CommonMiddleware(_OnTheLoop, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(_OnTheLoop, csrf.CsrfViewMiddleware):
    async def process_view(  # type: ignore[override]  # Django awaits an async hook
        self, request: HttpRequest, *args: Any
    ) -> HttpResponseBase | None:
        check = super().process_view
        if request.content_type == "multipart/form-data":
            return await sync_to_async(check, thread_sensitive=True)(request, *args)
        return check(request, *args)


class SessionMiddleware(_OnTheLoop, sessions.SessionMiddleware):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class MessageMiddleware(_OnTheLoop, messages.MessageMiddleware):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


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
        SessionMiddleware,
        MessageMiddleware,
        AuthenticationMiddleware,
        XFrameOptionsMiddleware,
    )
}


class ASGIHandler(asgi.ASGIHandler):
    """Django's ASGI handler, with the middleware above in place of Django's, and a client's
    disconnect noted without an exception."""

    async def listen_for_disconnect(self, receive: Any) -> None:
        """Return when the client disconnects (Django then cancels the view, as it does on its
        RequestAborted). Django's raises RequestAborted, which `handle` ignores; but the
        exception, kept by its task, holds `handle`'s frame in its traceback, and that frame
        holds the task: the request, its response and everything they refer to stay alive in
        that cycle until the garbage collector's next full pass, which then frees tens of
        thousands of objects at once while every stream waits."""
        message = await receive()
        if message["type"] != "http.disconnect":  # as Django's: never happens
            raise AssertionError(f"Invalid ASGI message after request body: {message['type']}")

    def __init__(self) -> None:
        super().__init__()
        self._serving: dict[int, HttpRequest] = {}  # by id(scope): the requests being handled

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await super().handle(scope, receive, send)
        finally:
            request = self._serving.pop(id(scope), None)
            if request is not None:
                _unlink(request)

    def create_request(self, scope: Mapping[str, Any], body_file: Any) -> Any:
        made = super().create_request(scope, body_file)
        if made[0] is not None:
            self._serving[id(scope)] = made[0]  # for `handle`, which passes this same scope
        return made

    def load_middleware(self, is_async: bool = False) -> None:
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = [ON_THE_LOOP.get(path, path) for path in configured]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured


# What the middleware hang on a request that refers back to it (a closure, a partial, a message
# storage): each makes the request a cycle, freed only by the collector's passes.
_BACK_REFERENCES = ("user", "auser", "_cached_user", "_acached_user", "_messages", "csp_nonce")


def _unlink(request: HttpRequest) -> None:
    """Once the response is over, drop the attributes that make `request` a cycle: it and what
    it refers to are then freed at once, by reference counting."""
    for name in _BACK_REFERENCES:
        request.__dict__.pop(name, None)
