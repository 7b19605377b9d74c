"""Who a request is (chat/accounts.py, `signed_in_user`): the session's user read directly when
the session is plainly signed in, and Django's own get_user for everything else, so the API
answers as Django's authentication would."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings

from chat.accounts import signed_in_user
from tests.support.clients import JsonApi, login_session

pytestmark = pytest.mark.django_db(transaction=True)

OLD_SECRET = "an-older-secret-key-of-this-site-0123456789-abcdefghijklmnopqrstuvwxyz"


def session_of(user: User, **changed: Any) -> SessionStore:
    session = SessionStore(login_session(user))
    for key, value in changed.items():
        session[key] = value
    session.save()
    return SessionStore(session.session_key)


def api_as(session_key: str) -> JsonApi:
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = session_key
    return JsonApi(client)


def test_a_signed_in_session_gives_its_user(user: User) -> None:
    found = signed_in_user(session_of(user))
    assert found is not None and found.pk == user.pk and found.username == user.username
    assert found.date_joined == user.date_joined and found.is_active is True
    assert api_as(login_session(user)).get("/api/conversations").status_code == 200


def test_anything_else_gives_none_and_the_api_refuses_it(user: User) -> None:
    inactive = User.objects.create_user("carol", is_active=False)
    changed = User.objects.create_user("dave", password="first-passphrase-1")
    changed_key = login_session(changed)
    changed.set_password("second-passphrase-2")
    changed.save()
    refused = {
        "no user in it": SessionStore(),
        "an inactive user": session_of(inactive),
        "a password changed since": SessionStore(changed_key),
        "a user that is gone": session_of(user, **{SESSION_KEY: str(user.pk + 1000)}),
        "a user id that is no number": session_of(user, **{SESSION_KEY: "1 OR 1=1"}),
        "a backend not configured": session_of(user, **{BACKEND_SESSION_KEY: "x.Backend"}),
        "no hash": session_of(user, **{HASH_SESSION_KEY: ""}),
    }
    for why, session in refused.items():
        assert signed_in_user(session) is None, why
    for key in (changed_key, refused["an inactive user"].session_key):
        assert api_as(key or "").get("/api/conversations").status_code == 401


def test_a_session_of_an_older_secret_is_left_to_django_which_keeps_it(user: User) -> None:
    """Signed in under a secret since moved to SECRET_KEY_FALLBACKS: not read directly, and
    Django's get_user accepts it and moves its hash to the current secret."""
    with override_settings(SECRET_KEY=OLD_SECRET):
        key = login_session(user)
    with override_settings(SECRET_KEY_FALLBACKS=[OLD_SECRET]):
        assert signed_in_user(SessionStore(key)) is None
        response = api_as(key).get("/api/conversations")
        assert response.status_code == 200
        moved = SessionStore(response.cookies["sessionid"].value)
        assert signed_in_user(moved) is not None
