"""Fixtures of the moderation tests: the hook set to each of its modes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.fakes.upstream import FakeUpstream


@pytest.fixture
def words_moderation(settings: Any) -> None:
    settings.CHAT_MODERATION = "words"
    settings.CHAT_MODERATION_WORDS = ["forbidden", "暴力"]


@pytest.fixture
def openai_moderation(settings: Any, fake_upstream: FakeUpstream) -> FakeUpstream:
    """OpenAI's moderation endpoint, faked: flags any text holding "forbidden"."""
    settings.CHAT_MODERATION = "openai"
    settings.CHAT_MODERATION_MODEL = "mod-test"
    return fake_upstream


@pytest.fixture(scope="module")
def words_site_process(daphne_factory: type[Daphne]) -> Iterator[Daphne]:
    """A daphne moderating with a word list."""
    d = daphne_factory(env={"CHAT_MODERATION": "words", "CHAT_MODERATION_WORDS": "forbidden"})
    yield d
    d.stop(signal.SIGINT, timeout=15)


@pytest.fixture(scope="module")
def openai_site_process(daphne_factory: type[Daphne]) -> Iterator[Daphne]:
    """A daphne moderating through the fake OpenAI moderation endpoint."""
    d = daphne_factory(env={"CHAT_MODERATION": "openai", "CHAT_MODERATION_MODEL": "mod-test"})
    yield d
    d.stop(signal.SIGINT, timeout=15)


@pytest.fixture
def words_site(words_site_process: Daphne, live_user: User) -> Iterator[SiteClient]:
    client = SiteClient(words_site_process.url, login_session(live_user))
    yield client
    client.close()


@pytest.fixture
def openai_site(openai_site_process: Daphne, live_user: User) -> Iterator[SiteClient]:
    client = SiteClient(openai_site_process.url, login_session(live_user))
    yield client
    client.close()
