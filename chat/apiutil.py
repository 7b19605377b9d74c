"""The JSON API's conventions in one place: login, methods, errors as {"error": "..."}."""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.accounts import signed_in_user

# Half of a UTF-16 surrogate pair: JSON can spell one ("\ud800"), no database can store it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(_("The request body is not valid JSON.")) from None
    except RecursionError:
        raise ApiError(_("The request body is nested too deeply.")) from None
    if not isinstance(data, dict):
        raise ApiError(_("The request body must be a JSON object."))
    return data


# What an error message calls each field: words a reader knows, in their language, never the
# JSON name ("system_prompt").
FIELD_NAMES = {
    "title": gettext_lazy("The title"),
    "system_prompt": gettext_lazy("The system prompt"),
    "content": gettext_lazy("The message"),
    "model": gettext_lazy("The model"),
}


def text_field(data: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    field = {"field": FIELD_NAMES.get(name, f"“{name}”")}
    if not isinstance(value, str):
        raise ApiError(_("%(field)s must be text.") % field)
    if required and not value.strip():
        raise ApiError(_("%(field)s must not be empty.") % field)
    if "\x00" in value:  # PostgreSQL cannot store it (Django's forms refuse it too)
        raise ApiError(_("%(field)s must not contain null characters.") % field)
    if _LONE_SURROGATE.search(value):
        raise ApiError(_("%(field)s contains characters that are not valid text.") % field)
    if len(value) > limit:
        raise ApiError(
            _("%(field)s is too long: %(length)d characters, the limit is %(limit)d.")
            % {**field, "length": len(value), "limit": limit},
            status=400,
        )
    return value


def api(*methods: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a view of the JSON API: allowed methods (405 otherwise), login (401), and
    ApiError / Http404 turned into JSON. Works for sync and async views; the view gets the
    user as its second argument."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        is_async = inspect.iscoroutinefunction(view)

        @functools.wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                refusal = error(_("Method not allowed."), 405)
                refusal["Allow"] = ", ".join(methods)
                return refusal
            # One hop to a thread for the session and the user (request.auser() takes two).
            user = await sync_to_async(_session_user)(request)
            if not user.is_authenticated:
                return error(_("Log in first."), 401)
            response: HttpResponse
            try:
                if is_async:
                    response = await view(request, user, *args, **kwargs)
                else:
                    response = await sync_to_async(view)(request, user, *args, **kwargs)
            except ApiError as exc:
                return error(exc.message, exc.status)
            except Http404:
                return error(_("Not found."), 404)
            except RequestDataTooBig:
                return error(_("The request is too large."), 413)
            return response

        return wrapper

    return decorate


def _session_user(request: HttpRequest) -> Any:
    """The request's user: read directly when the session is plainly signed in
    (chat.accounts.signed_in_user), else as Django's get_user answers (anonymous, a session
    to end or to move to the current secret)."""
    return signed_in_user(request.session) or get_user(request)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under /api/ that names nothing (a non-numeric id included): JSON, like the
    rest of the API, not Django's HTML page."""
    return error(_("Not found."), 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return error(_("CSRF check failed; reload the page and try again."), 403)
    from django.views.csrf import csrf_failure as default

    return default(request, reason)
