"""The site's URLs and one view that fails: what a bug in a view looks like to a visitor."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from chatsite.urls import urlpatterns as site_urls


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


urlpatterns = [path("broken/", broken), *site_urls]
