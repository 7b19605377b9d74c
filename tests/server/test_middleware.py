"""Django's middleware, run on the event loop under daphne (chat/server/middleware.py), behave as
Django's own: security headers, CSRF, the language, the trailing slash."""

from __future__ import annotations

import httpx
import pytest

from chat.server import middleware
from tests.support.clients import SiteClient
from tests.support.daphne import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_asgi_handler_loads_the_inline_classes_in_place_of_djangos() -> None:
    handler = middleware.ASGIHandler()
    csrf = [m.func.__self__ for m in handler._view_middleware]  # type: ignore[attr-defined]
    assert [type(m) for m in csrf] == [middleware.CsrfViewMiddleware]


def test_pages_served_by_daphne_carry_the_security_headers(daphne: Daphne) -> None:
    page = httpx.get(daphne.url + "/accounts/login/")
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "csrftoken" in page.cookies


def test_csrf_is_enforced_by_daphne(site: SiteClient) -> None:
    without = httpx.post(
        site.base_url + "/api/conversations",
        json={"model": "demo"},
        cookies=dict(site.http.cookies),
    )
    assert without.status_code == 403
    assert without.headers["Content-Type"].startswith("application/json")
    assert site.http.post("/api/conversations", json={"model": "demo"}).status_code == 201


def test_the_language_comes_from_the_browser_and_the_slash_is_appended(daphne: Daphne) -> None:
    page = httpx.get(daphne.url + "/accounts/login/", headers={"Accept-Language": "zh-CN"})
    assert "登录" in page.text and page.headers["Content-Language"] == "zh-hans"
    assert httpx.get(daphne.url + "/accounts/login").status_code == 301
