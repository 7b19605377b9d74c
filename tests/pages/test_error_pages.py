"""The site's own 404 and 500 pages, translated, with DEBUG on (as `make run` has it) and off;
the JSON API answers JSON either way."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from chat.models import Conversation
from tests.support.clients import login_session
from tests.support.daphne import Daphne

NOT_FOUND = {"en": "Page not found", "zh-CN": "找不到页面"}
FAILED = {"en": "Something went wrong", "zh-CN": "出错了"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_missing_page_is_the_sites_own_under_debug(
    daphne: Daphne, live_user: User, language: str
) -> None:
    other = Conversation.objects.create(owner=User.objects.create_user("eve"), model="demo")
    cookies = {"sessionid": login_session(live_user)}
    headers = {"Accept-Language": language}
    for path in (f"/c/{other.pk}/", "/no/such/page/", "/c/123456789/"):
        response = httpx.get(daphne.url + path, cookies=cookies, headers=headers)
        assert response.status_code == 404, path
        assert f"<h1>{NOT_FOUND[language]}</h1>" in response.text
        assert "Django" not in response.text and "DEBUG" not in response.text
    api = httpx.get(daphne.url + "/api/conversations/123456789", cookies=cookies, headers=headers)
    assert api.status_code == 404
    assert "error" in api.json()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_failing_page_is_the_sites_own(
    settings: Settings, client: Client, debug: bool, language: str
) -> None:
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "tests.support.failing_urls"
    client.raise_request_exception = False
    response = client.get("/broken/", headers={"Accept-Language": language})
    assert response.status_code == 500
    html = response.content.decode()
    assert f"<h1>{FAILED[language]}</h1>" in html
    assert "RuntimeError" not in html and "a bug in a view" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_missing_page_without_debug_is_the_sites_own(
    settings: Settings, client: Client, language: str
) -> None:
    settings.DEBUG = False
    response = client.get("/no/such/page/", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert f"<h1>{NOT_FOUND[language]}</h1>" in response.content.decode()
