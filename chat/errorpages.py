"""The site's own "not found" and "server error" pages, in every mode.

With DEBUG off, Django's handlers render templates/404.html and 500.html. With DEBUG on (the
default of `make run`), Django answers with its technical pages instead, which show settings
and code and speak only English; this middleware puts the site's pages in their place for
everything but the JSON API (which answers JSON either way). The traceback of a 500 is logged
by Django (the `django.request` logger) before this runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import sync_and_async_middleware

TEMPLATES = {404: "404.html", 500: "500.html"}


def _replaced(request: HttpRequest, response: HttpResponse) -> HttpResponse | None:
    if not settings.DEBUG or response.status_code not in TEMPLATES:
        return None
    if request.path.startswith("/api/") or getattr(response, "streaming", False):
        return None
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    return render(request, TEMPLATES[response.status_code], status=response.status_code)


@sync_and_async_middleware
def site_error_pages(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            response: HttpResponse = await get_response(request)
            if not settings.DEBUG or response.status_code not in TEMPLATES:
                return response  # no hop to a thread for the usual answer
            page = await sync_to_async(_replaced)(request, response)
            return page or response

        return middleware

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = get_response(request)
        return _replaced(request, response) or response

    return sync_middleware


__all__ = ["site_error_pages"]
