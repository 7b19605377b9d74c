"""Failed logins lock an account-and-address pair for a while (django-axes, chat/accounts.py),
with a clear message; other pairs are untouched; an administrator lifts a lock."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from tests.support.clients import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def attempt(client: Client, username: str, password: str, ip: str, path: str = LOGIN) -> int:
    response = client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)
    return response.status_code


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, username: str, ip: str, times: int, path: str = LOGIN) -> list[int]:
    return [attempt(client, username, "wrong-password", ip, path) for _ in range(times)]


def test_after_five_failures_even_the_right_password_is_refused(user: User) -> None:
    client = Client()
    # The form again four times; the fifth failure locks the pair.
    assert fail(client, "alice", "10.0.0.1", 5) == [200, 200, 200, 200, 429]

    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 429
    assert "too many failed logins from your address" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert not logged_in(client)


def test_the_lock_is_explained_in_chinese_too(user: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    fail(client, "alice", "10.0.0.1", 5)

    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_locking_one_pair_locks_no_one_else(user: User, other_user: User) -> None:
    fail(Client(), "alice", "10.0.0.1", 5)

    same_user_elsewhere, other_user_here = Client(), Client()
    assert attempt(same_user_elsewhere, "alice", PASSWORD, "10.0.0.2") == 302
    assert attempt(other_user_here, "bob", PASSWORD, "10.0.0.1") == 302
    assert logged_in(same_user_elsewhere) and logged_in(other_user_here)


def test_the_admin_login_is_throttled_too(user: User) -> None:
    user.is_staff = True
    user.save()
    client = Client()
    fail(client, "alice", "10.0.0.3", 5, ADMIN_LOGIN)

    assert attempt(client, "alice", PASSWORD, "10.0.0.3", ADMIN_LOGIN) == 429


def test_a_success_before_the_limit_starts_the_count_again(user: User) -> None:
    client = Client()
    fail(client, "alice", "10.0.0.1", 4)
    assert attempt(client, "alice", PASSWORD, "10.0.0.1") == 302
    client.logout()
    fail(client, "alice", "10.0.0.1", 4)

    assert attempt(client, "alice", PASSWORD, "10.0.0.1") == 302


def test_an_administrator_lifts_a_lock_in_the_admin(user: User, admin_user: User) -> None:
    fail(Client(), "alice", "10.0.0.1", 5)
    attempt_row = AccessAttempt.objects.get(username="alice", ip_address="10.0.0.1")
    admin = Client()
    admin.force_login(admin_user)

    listed = admin.get("/admin/axes/accessattempt/")
    assert "alice" in listed.content.decode()
    admin.post(f"/admin/axes/accessattempt/{attempt_row.pk}/delete/", {"post": "yes"})

    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert attempt(Client(), "alice", PASSWORD, "10.0.0.1") == 302


def test_behind_a_proxy_the_address_it_saw_counts(user: User, settings: Settings) -> None:
    settings.CHAT_TRUSTED_PROXIES = 1
    client = Client()
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"):
        # The client can write what it likes before the proxy's entry; it does not help.
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9",
        )

    locked = client.post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    other_client = Client().post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert (locked.status_code, other_client.status_code) == (429, 302)
