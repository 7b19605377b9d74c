"""Administrators see what the moderation hook stopped, with the reason; others do not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Conversation, ModerationFlag
from tests.support.clients import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(user: User, conversation: Conversation) -> ModerationFlag:
    return ModerationFlag.objects.create(
        user=user,
        conversation=conversation,
        kind="reply",
        text="the <b>withheld</b> text",
        reason="word “forbidden”",
    )


def test_flagged_messages_are_listed_with_the_reason(flag: ModerationFlag) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password=PASSWORD))
    html = admin.get("/admin/chat/moderationflag/").content.decode()
    assert "word “forbidden”" in html
    assert "the &lt;b&gt;withheld&lt;/b&gt; text" in html  # escaped, never markup
    detail = admin.get(f"/admin/chat/moderationflag/{flag.pk}/change/").content.decode()
    assert "withheld" in detail
    assert "Save" not in detail  # read-only


def test_a_user_cannot_read_the_flags(auth_client: Client, flag: ModerationFlag) -> None:
    r = auth_client.get("/admin/chat/moderationflag/")
    assert r.status_code == 302
