"""Shared fixtures: users and clients, the fake upstream, and real daphne processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import Client

from chat.models import Conversation, Message
from chat.replies import store
from tests.fakes.scenarios import all_scenarios
from tests.fakes.upstream import FakeUpstream
from tests.sseclient import SiteClient
from tests.testenv import FAKE_PORT, free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-42"


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


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream(all_scenarios()).start(FAKE_PORT)
    yield server
    server.stop()


def _database_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"])}
    url = os.environ["DATABASE_URL"]
    base = url.rsplit("/", 1)[0]
    return {"DATABASE_URL": f"{base}/{db['NAME']}"}


class Daphne:
    """A daphne process serving the site against the test database."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / "test-artifacts" / f"daphne-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        full_env = {**os.environ, **_database_env(), **(env or {})}
        full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "chatsite.asgi:application",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("daphne did not start")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


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


def login_session(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or ""


@pytest.fixture
def live_user(transactional_db: None) -> User:
    return User.objects.create_user("carol", password=PASSWORD)


@pytest.fixture
def site(daphne: Daphne, live_user: User) -> Iterator[SiteClient]:
    """An HTTP client logged in as live_user on the shared daphne, with a CSRF token."""
    client = SiteClient(daphne.url, login_session(live_user))
    yield client
    client.close()


CSRF_TOKEN = "c" * 32


class JsonApi:
    """The Django test client speaking the JSON API: bodies as JSON, the CSRF header sent
    unless a test asks for a request without it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN

    def call(
        self, method: str, path: str, data: object = None, *, csrf: bool = True, raw: str = ""
    ) -> HttpResponse:
        body = raw if raw or data is None else json.dumps(data)
        headers = {"X-CSRFToken": CSRF_TOKEN} if csrf else {}
        return self.client.generic(
            method, path, body, content_type="application/json", headers=headers
        )

    def get(self, path: str) -> HttpResponse:
        return self.client.get(path)

    def post(self, path: str, data: object = None, **kwargs: Any) -> HttpResponse:
        return self.call("POST", path, data, **kwargs)

    def patch(self, path: str, data: object = None, **kwargs: Any) -> HttpResponse:
        return self.call("PATCH", path, data, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(auth_client: Client) -> JsonApi:
    """The JSON API as `user` (through auth_client, which enforces CSRF checks)."""
    return JsonApi(auth_client)


@pytest.fixture
def anonymous_api(db: None) -> JsonApi:
    return JsonApi(Client(enforce_csrf_checks=True))


@pytest.fixture
def other_conversation(other_user: User) -> Conversation:
    return Conversation.objects.create(owner=other_user, title="Not yours", model="demo")


def run_threads(targets: list[Callable[[], None]], timeout: float = 60.0) -> None:
    """Run callables in threads; re-raise the first failure in the test's thread."""
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported below, with its traceback
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    assert not any(t.is_alive() for t in threads), f"a thread was still running after {timeout} s"


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


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


def wait_finished(reply_id: object, timeout: float = 20.0) -> Message:
    """The reply from the database once it has ended (whatever the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = Message.objects.get(pk=reply_id)
        if reply.is_finished:
            return reply
        time.sleep(0.05)
    raise AssertionError(f"reply {reply_id} did not finish within {timeout} s")


@pytest.fixture
def fast_password_hashing(settings: Any) -> None:
    """For tests that make users and never log in through daphne (whose hashers differ): the
    default hasher's deliberate slowness is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def finished_exchange(conv: Conversation, text: str = "Hello") -> tuple[Message, Message]:
    """A user message and its complete reply, stored directly."""
    question = Message.objects.create(conversation=conv, role="user", content="Hi")
    reply = Message.objects.create(
        conversation=conv, role="assistant", content=text, html=f"<p>{text}</p>", model="demo"
    )
    return question, reply


def streaming_reply(conv: Conversation) -> Message:
    """A user message and a reply still being written (with no generation behind it)."""
    Message.objects.create(conversation=conv, role="user", content="Hi")
    return store.new_reply(conv, "")
