"""Shared fixtures: users and clients, the fake upstreams, and real daphne processes."""

from __future__ import annotations

import inspect
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils.module_loading import import_string

from chat.models import Conversation
from chat.providers.http import close_upstream_session
from chat.replies.relay import close_relay
from tests.support.clients import PASSWORD, JsonApi, SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.scenarios import all_scenarios
from tests.support.fakes.spark_scenarios import SCENARIOS as SPARK_SCENARIOS
from tests.support.fakes.spark_upstream import SparkUpstream
from tests.support.fakes.upstream import FakeUpstream
from tests.support.testenv import FAKE_PORT, SPARK_PORT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # an async test's connections close with its event loop
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("loop_connections_closed")  # type: ignore[attr-defined]


@pytest.fixture
async def loop_connections_closed() -> AsyncIterator[None]:
    """The upstream connections and the reply relay's Redis connections of the test's loop."""
    yield
    await close_upstream_session()
    await close_relay()


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def auth_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def conversation(user: User) -> Conversation:
    return Conversation.objects.create(owner=user, title="First chat", model="demo")


@pytest.fixture
def other_conversation(other_user: User) -> Conversation:
    return Conversation.objects.create(owner=other_user, title="Not yours", model="demo")


@pytest.fixture
def api(auth_client: Client) -> JsonApi:
    """The JSON API as `user` (through auth_client, which enforces CSRF checks)."""
    return JsonApi(auth_client)


@pytest.fixture
def anonymous_api(db: None) -> JsonApi:
    return JsonApi(Client(enforce_csrf_checks=True))


@pytest.fixture
def fast_password_hashing(settings: Any) -> None:
    """For tests that make users and never log in through daphne (whose hashers differ): the
    default hasher's deliberate slowness is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Fake upstreams ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream(all_scenarios()).start(FAKE_PORT)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_upstream() -> Iterator[SparkUpstream]:
    """The fake Spark WebSocket server, on the port SPARK_URL names."""
    server = SparkUpstream(
        SPARK_SCENARIOS, os.environ["SPARK_API_KEY"], os.environ["SPARK_API_SECRET"]
    ).start(SPARK_PORT)
    yield server
    server.stop()


# --- The site in daphne processes --------------------------------------------------------------


@pytest.fixture(scope="session")
def daphne_factory(
    django_db_setup: None, django_db_blocker: object, fake_upstream: FakeUpstream
) -> Iterator[type[Daphne]]:
    started: list[Daphne] = []

    class _Factory(Daphne):
        def __init__(self, env: dict[str, str] | None = None) -> None:
            super().__init__(env)
            started.append(self)

    yield _Factory
    for d in started:
        d.stop()


@pytest.fixture(scope="session")
def daphne(daphne_factory: type[Daphne]) -> Daphne:
    """One daphne shared by the streaming tests of the session."""
    return daphne_factory()


@pytest.fixture(scope="session")
def titling_daphne(daphne_factory: type[Daphne]) -> Daphne:
    """A daphne whose conversations get titles written by their own model, as by default."""
    return daphne_factory(env={"CHAT_TITLE_MODEL": ""})


@pytest.fixture
def titling_site(titling_daphne: Daphne, live_user: User) -> Iterator[SiteClient]:
    """`site`, on the titling daphne."""
    client = SiteClient(titling_daphne.url, login_session(live_user))
    yield client
    client.close()


@pytest.fixture
def start_site(daphne_factory: type[Daphne]) -> Iterator[Callable[..., Daphne]]:
    """Dedicated daphne processes with settings of their own (`start_site(CHAT_X="1")`),
    ended with the test by SIGINT: no grace period, running replies saved as interrupted."""
    started: list[Daphne] = []

    def start(**env: str) -> Daphne:
        started.append(daphne_factory(env=env))
        return started[-1]

    yield start
    for d in started:
        d.stop(signal.SIGINT, timeout=15)


@pytest.fixture
def live_user(transactional_db: None) -> User:
    """The user of the tests through daphne. No password: hashing one costs 0.3 s, and these
    tests log in through the session alone."""
    return User.objects.create_user("carol")


@pytest.fixture
def site(daphne: Daphne, live_user: User) -> Iterator[SiteClient]:
    """An HTTP client logged in as live_user on the shared daphne, with a CSRF token."""
    client = SiteClient(daphne.url, login_session(live_user))
    yield client
    client.close()


@pytest.fixture(scope="module")
def postgres_and_redis() -> None:
    """Used by the tests of several processes (marked `scaleout`). Selected without PostgreSQL
    and Redis, they fail: a skip would hide that the several-process behaviour went untested."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"the scale-out tests need {' and '.join(missing)} (PostgreSQL and Redis); "
            "run them as scripts/test.sh does, or deselect them with -m 'not scaleout'"
        )
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    layer = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    assert issubclass(layer, RedisChannelLayer), layer
