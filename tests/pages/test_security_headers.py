"""Every response carries a strict Content-Security-Policy: scripts and connections from this
origin only, no inline script or eval, images from here (and the hosts an operator allows),
never framed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from chat.models import Conversation

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/models"])
def test_every_kind_of_page_has_the_policy(auth_client: Client, path: str) -> None:
    policy = directives(auth_client.get(path)["Content-Security-Policy"])

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def test_the_chat_page_has_no_inline_script(
    auth_client: Client, conversation: Conversation
) -> None:
    html = auth_client.get(f"/c/{conversation.pk}/").content.decode()

    # Only external modules and JSON data blocks, which the policy does not run.
    for tag in html.split("<script")[1:]:
        head = tag.split(">", 1)[0]
        assert 'src="' in head or 'type="application/json"' in head, head


def test_allowed_image_hosts_join_the_policy() -> None:
    code = (
        "from chatsite import settings; "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    env = {**os.environ, "CHAT_IMAGE_HOSTS": "img.example.com,.cdn.example.org"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)

    assert out.stdout.split() == [
        "'self'",
        "data:",
        "https://img.example.com",
        "https://*.cdn.example.org",
    ]
