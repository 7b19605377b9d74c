"""Django's middleware, run on the event loop under daphne (chat/server/middleware.py), behave as
Django's own: security headers, CSRF, the language, the trailing slash, sessions saved when
changed, messages kept across a redirect."""

from __future__ import annotations

import re

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session

from chat.server import middleware
from tests.support.clients import SiteClient
from tests.support.daphne import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_asgi_handler_loads_the_inline_classes_in_place_of_djangos() -> None:
    handler = middleware.ASGIHandler()
    views = [m.__self__ for m in handler._view_middleware]  # type: ignore[attr-defined]
    assert [type(m) for m in views] == [middleware.CsrfViewMiddleware]
    for django_path in settings.MIDDLEWARE:
        if django_path.startswith("django."):  # all of Django's run inline when they can
            name = django_path.rsplit(".", 1)[1]
            assert middleware.ON_THE_LOOP[django_path] == f"chat.server.middleware.{name}"


def _form_token(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


PASSWORD = "a-long-unusual-passphrase-71"


def _log_in(client: httpx.Client, path: str, username: str) -> None:
    """Sign in through the login form at `path`, as a browser does."""
    token = _form_token(client, path)
    form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    login = client.post(path, data=form)
    assert login.status_code == 302, login.text[:500]


def test_a_login_and_a_logout_through_daphne_save_and_end_the_session(daphne: Daphne) -> None:
    User.objects.create_user("erin", password=PASSWORD)
    with httpx.Client(base_url=daphne.url) as client:
        _log_in(client, "/accounts/login/", "erin")
        key = client.cookies["sessionid"]
        assert Session.objects.filter(session_key=key).exists()  # saved by the middleware
        assert "erin" in client.get("/").text

        logout = client.post(
            "/accounts/logout/", headers={"X-CSRFToken": client.cookies["csrftoken"]}
        )
        assert logout.status_code == 302
        assert not Session.objects.filter(session_key=key).exists()
        assert client.get("/").headers["Location"].startswith("/accounts/login/")


def test_an_admin_message_survives_the_redirect_through_daphne(daphne: Daphne) -> None:
    User.objects.create_superuser("root", password=PASSWORD)
    with httpx.Client(base_url=daphne.url) as client:
        _log_in(client, "/admin/login/", "root")
        token = _form_token(client, "/admin/auth/group/add/")
        added = client.post(
            "/admin/auth/group/add/", data={"name": "Readers", "csrfmiddlewaretoken": token}
        )
        assert added.status_code == 302, added.text[:500]
        shown = client.get(added.headers["Location"])
        assert "Readers" in shown.text and 'class="success"' in shown.text
        again = client.get(added.headers["Location"])
        assert 'class="success"' not in again.text  # shown once, then gone


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
