"""Fixtures of the several-process tests (a pytest plugin, `-p tests.scaleout` in
pyproject.toml): the check that PostgreSQL and Redis are configured, and two daphne processes
sharing them."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def postgres_and_redis() -> None:
    """Selected without PostgreSQL and Redis, these tests fail: a skip would hide that the
    several-process behaviour went untested."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"the scale-out tests need {' and '.join(missing)} (PostgreSQL and Redis); "
            "run them as scripts/test.sh does, or deselect them with -m 'not scaleout'"
        )
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis")


@pytest.fixture(scope="module")
def pair(postgres_and_redis: None, daphne_factory: type) -> Iterator[tuple[object, object]]:
    """Two processes of the site. The fake upstream shares the test's process, which is busy
    when hundreds of replies run at once: it gets more time to answer than in other tests."""
    env = {"CHAT_CONNECT_TIMEOUT": "10", "CHAT_FIRST_BYTE_TIMEOUT": "15", "CHAT_IDLE_TIMEOUT": "15"}
    a, b = daphne_factory(env=env), daphne_factory(env=env)
    yield a, b
    for d in (a, b):
        d.stop(signal.SIGINT, timeout=15)
