"""GET /api/usage: the user's own tokens by day and model, their cost, and their quota."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from chat.models import Conversation, ModelPrice, UserLimits
from tests.support.clients import JsonApi
from tests.support.rows import finished_exchange, ledger_row

pytestmark = pytest.mark.django_db


def test_usage_is_grouped_by_day_and_model_oldest_first(
    api: JsonApi, user: User, demo_price: ModelPrice
) -> None:
    yesterday = timezone.now() - timedelta(days=1)
    ledger_row(user.pk, "demo", 1000, 500, at=yesterday)
    ledger_row(user.pk, "demo", 1000, 500)
    ledger_row(user.pk, "demo", 3000, 1500)
    ledger_row(user.pk, "openai:gpt-4o-mini", 10, 20)
    r = api.get("/api/usage")
    assert r.status_code == 200
    body = r.json()
    assert body["quota"] is None
    today = timezone.localdate()
    assert body["days"] == [
        {
            "date": (today - timedelta(days=1)).isoformat(),
            "model": "demo",
            "input_tokens": 1000,
            "output_tokens": 500,
            "replies": 1,
            "cost": "0.007000",
        },
        {
            "date": today.isoformat(),
            "model": "demo",
            "input_tokens": 4000,
            "output_tokens": 2000,
            "replies": 2,
            "cost": "0.028000",
        },
        {
            "date": today.isoformat(),
            "model": "openai:gpt-4o-mini",
            "input_tokens": 10,
            "output_tokens": 20,
            "replies": 1,
            "cost": None,
        },
    ]


def test_other_users_usage_is_not_counted(api: JsonApi, user: User, other_user: User) -> None:
    ledger_row(other_user.pk, "demo", 99, 99)
    assert api.get("/api/usage").json()["days"] == []


def test_usage_survives_deleting_the_conversation(api: JsonApi, conversation: Conversation) -> None:
    finished_exchange(conversation)
    assert len(api.get("/api/usage").json()["days"]) == 1
    assert api.delete(f"/api/conversations/{conversation.pk}").status_code == 204
    assert api.get("/api/usage").json()["days"][0]["replies"] == 1


def test_days_outside_the_window_are_left_out(api: JsonApi, user: User) -> None:
    ledger_row(user.pk, "demo", 5, 5, at=timezone.now() - timedelta(days=10))
    assert api.get("/api/usage?days=7").json()["days"] == []
    assert len(api.get("/api/usage?days=11").json()["days"]) == 1


@pytest.mark.parametrize("days", ["0", "-1", "x", "367"])
def test_a_bad_number_of_days_is_a_400(api: JsonApi, days: str) -> None:
    r = api.get(f"/api/usage?days={days}")
    assert r.status_code == 400
    assert "days" in r.json()["error"]


def test_the_quota_shows_what_is_left_today(api: JsonApi, user: User, settings: object) -> None:
    settings.CHAT_DAILY_TOKENS = 1000  # type: ignore[attr-defined]
    ledger_row(user.pk, "demo", 300, 600)
    ledger_row(user.pk, "demo", 5000, 5000, at=timezone.now() - timedelta(days=1))
    quota = api.get("/api/usage").json()["quota"]
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert quota["daily_tokens"] == 1000
    assert quota["used"] == 900
    assert quota["remaining"] == 100
    assert quota["low"] is True
    assert quota["resets_at"].startswith(tomorrow.isoformat() + "T00:00:00")


def test_a_per_user_override_of_zero_means_no_quota(
    api: JsonApi, user: User, settings: object
) -> None:
    settings.CHAT_DAILY_TOKENS = 1000  # type: ignore[attr-defined]
    UserLimits.objects.create(user=user, daily_tokens=0)
    assert api.get("/api/usage").json()["quota"] is None


def test_anonymous_gets_401(anonymous_api: JsonApi) -> None:
    assert anonymous_api.get("/api/usage").status_code == 401


def test_post_is_405(api: JsonApi) -> None:
    assert api.post("/api/usage", {}).status_code == 405
