"""Fixtures of the streaming tests: a daphne with a short ping interval and a short stream
lifetime, and a client of it."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne


@pytest.fixture(scope="module")
def tuned(daphne_factory: type[Daphne]) -> Iterator[Daphne]:
    """A daphne with a short ping interval and a short stream lifetime."""
    d = daphne_factory(env={"CHAT_PING_INTERVAL": "0.3", "CHAT_STREAM_MAX_AGE": "1.5"})
    yield d
    d.stop(signal.SIGINT, timeout=15)


@pytest.fixture
def tuned_site(tuned: Daphne, live_user: User) -> Iterator[SiteClient]:
    client = SiteClient(tuned.url, login_session(live_user))
    yield client
    client.close()
