"""Fixtures of the providers' tests: an administrator's client, and a port nothing answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def admin(transactional_db: None) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "unused")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port whose accept queue is full: a TCP connect to it never completes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    probe = socket.socket()
    probe.settimeout(0.3)
    with pytest.raises(TimeoutError):  # the queue is full indeed
        probe.connect(("127.0.0.1", port))
    probe.close()
    yield port
    filler.close()
    listener.close()
