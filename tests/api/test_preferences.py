"""GET and PATCH /api/preferences: the user's theme, kept on the server."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Preferences
from tests.support.clients import JsonApi

pytestmark = pytest.mark.django_db


def test_the_theme_follows_the_system_until_the_user_chooses(api: JsonApi, user: User) -> None:
    assert api.get("/api/preferences").json() == {"theme": "system"}
    response = api.patch("/api/preferences", {"theme": "dark"})
    assert (response.status_code, response.json()) == (200, {"theme": "dark"})
    assert Preferences.objects.get(user=user).theme == "dark"
    assert api.patch("/api/preferences", {"theme": "light"}).json() == {"theme": "light"}
    assert Preferences.objects.filter(user=user).count() == 1


def test_the_page_is_drawn_in_the_users_theme(api: JsonApi, auth_client: Client) -> None:
    api.patch("/api/preferences", {"theme": "dark"})
    html = auth_client.get("/").content.decode()
    assert '<html lang="en" data-theme="dark">' in html
    assert '<option value="dark" selected>' in html


@pytest.mark.parametrize("theme", ["blue", 3, None, ""])
def test_an_unknown_theme_is_refused_and_changes_nothing(
    api: JsonApi, user: User, theme: object
) -> None:
    response = api.patch("/api/preferences", {"theme": theme})
    assert response.status_code == 400
    assert response.json() == {"error": "The theme must be one of “system”, “light”, “dark”."}
    assert not Preferences.objects.filter(user=user).exists()


def test_preferences_need_a_login_and_a_csrf_token(
    anonymous_api: JsonApi, api: JsonApi, user: User
) -> None:
    assert anonymous_api.get("/api/preferences").status_code == 401
    assert api.patch("/api/preferences", {"theme": "dark"}, csrf=False).status_code == 403
    assert api.post("/api/preferences", {"theme": "dark"}).status_code == 405
    assert not Preferences.objects.filter(user=user).exists()
