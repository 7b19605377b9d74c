"""Fixtures of the several-process tests: two daphne processes sharing PostgreSQL and Redis,
and a client of each."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne


@pytest.fixture(scope="module")
def pair(postgres_and_redis: None, daphne_factory: type[Daphne]) -> Iterator[tuple[Daphne, Daphne]]:
    """Two processes of the site. The fake upstream shares the test's process, which is busy
    when hundreds of replies run at once: it gets more time to answer than in other tests."""
    env = {"CHAT_CONNECT_TIMEOUT": "10", "CHAT_FIRST_BYTE_TIMEOUT": "15", "CHAT_IDLE_TIMEOUT": "15"}
    a, b = daphne_factory(env=env), daphne_factory(env=env)
    yield a, b
    for d in (a, b):
        d.stop(signal.SIGINT, timeout=15)


@pytest.fixture
def clients(pair: tuple[Daphne, Daphne], live_user: User) -> Iterator[list[SiteClient]]:
    """live_user's clients of the two processes, sharing one session."""
    session = login_session(live_user)
    both = [SiteClient(d.url, session) for d in pair]
    yield both
    for c in both:
        c.close()
