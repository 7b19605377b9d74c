"""Clients of the site under test: a logged-in HTTP client of a daphne process, with JSON
calls and event streams read event by event (with a spec-exact SSE parser, the same rules a
browser applies), and the Django test client speaking the JSON API."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import Client

from chat.providers.sse import SSEParser
from tests.support.events import Event

PASSWORD = "correct-horse-battery-42"
CSRF_TOKEN = "c" * 32  # the CSRF cookie and header of every client here


def login_session(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or ""


class SiteClient:
    def __init__(self, base_url: str, session_key: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url,
            cookies={"sessionid": session_key, "csrftoken": CSRF_TOKEN},
            headers={"X-CSRFToken": CSRF_TOKEN, "Referer": base_url + "/"},
            timeout=30,
        )
        self._reply_conv: dict[object, object] = {}

    def close(self) -> None:
        self.http.close()

    def new_conversation(self, model: str = "demo", **fields: object) -> dict[str, object]:
        r = self.http.post("/api/conversations", json={"model": model, **fields})
        assert r.status_code == 201, r.text
        return r.json()

    def send(self, conversation_id: object, content: str) -> dict[str, object]:
        r = self.http.post(
            f"/api/conversations/{conversation_id}/messages", json={"content": content}
        )
        assert r.status_code == 202, r.text
        return r.json()

    def reply(self, reply_id: object) -> dict[str, object]:
        conv = self.http.get(f"/api/conversations/{self.conversation_of(reply_id)}").json()
        return next(m for m in conv["messages"] if m["id"] == reply_id)

    def conversation_of(self, reply_id: object) -> object:
        return self._reply_conv[reply_id]

    def ask(self, model: str, content: str = "Hi") -> tuple[dict[str, object], str]:
        conv = self.new_conversation(model)
        sent = self.send(conv["id"], content)
        self._reply_conv[sent["reply"]["id"]] = conv["id"]
        return sent["reply"], sent["stream_url"]

    def events(
        self, url: str, last_event_id: str | None = None, limit: int | None = None
    ) -> Iterator[Event]:
        """Events until `end` (inclusive), or until `limit` events were read."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        count = 0
        with self.http.stream("GET", url, headers=headers, timeout=60) as response:
            assert response.status_code == 200, response.read()
            parser = SSEParser()
            for chunk in response.iter_raw():
                for sse in parser.feed(chunk):
                    yield Event.read(sse)
                    count += 1
                    if sse.event == "end" or (limit is not None and count >= limit):
                        return

    def stream_text(self, url: str) -> tuple[str, list[Event]]:
        """Read a whole stream the way the page does; return the shown text and the events."""
        text, seen = "", []
        for event in self.events(url):
            seen.append(event)
            if event.event == "delta":
                text += str(event.data["text"])
            elif event.event == "snapshot":
                text = str(event.data["text"])
            elif event.event == "end":
                text = str(event.data["content"])
        return text, seen


class PageView:
    """What the page shows, built from events the way chat.js applies them, checking on every
    event what must hold at any moment: ids only grow, and the text shown is always a prefix
    of the reply's final text (a duplicated, missing or foreign piece would break that)."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        self.text = ""
        self.live_text = ""  # what the deltas and snapshots built, before `end` replaced it
        self.last_id: int | None = None
        self.end: dict[str, object] | None = None
        self.kinds: list[str] = []
        self.ids: list[int] = []
        self.arrivals: list[float] = []  # time.monotonic() of each event
        self.connections = 0

    @property
    def last_event_id(self) -> str | None:
        return None if self.last_id is None else str(self.last_id)

    def apply(self, event: Event) -> None:
        assert self.end is None, f"an event after end: {event}"
        event_id = int(event.id)
        assert self.last_id is None or event_id > self.last_id, (
            f"event id {event_id} after {self.last_id} ({self.kinds[-3:]} then {event.event})"
        )
        self.last_id = event_id
        self.ids.append(event_id)
        self.arrivals.append(time.monotonic())
        self.kinds.append(event.event)
        if event.event == "delta":
            self.text += str(event.data["text"])
        elif event.event == "snapshot":
            self.text = str(event.data["text"])
        elif event.event == "end":
            self.live_text = self.text
            self.end = event.data
            self.text = str(event.data["content"])
        else:
            raise AssertionError(f"unexpected event {event}")
        assert self.expected.startswith(self.text), (
            f"shown text is not a prefix of the reply after {event.event} {event_id}: "
            f"{self.text[-80:]!r}"
        )

    def read(self, client: SiteClient, url: str, limit: int | None = None) -> None:
        """One connection: resume after the last event seen, read up to `limit` events."""
        self.connections += 1
        for event in client.events(url, last_event_id=self.last_event_id, limit=limit):
            self.apply(event)

    def finish(self, client: SiteClient, url: str, max_connections: int = 100) -> PageView:
        """Reconnect (as EventSource does) until `end`."""
        for _ in range(max_connections):
            if self.end is not None:
                return self
            self.read(client, url)
        raise AssertionError(f"no end after {max_connections} connections")


def live_text(events: list[Event]) -> str:
    """What the page shows before `end` replaces it: deltas appended, snapshots replacing."""
    text = ""
    for event in events:
        if event.event == "delta":
            text += str(event.data["text"])
        elif event.event == "snapshot":
            text = str(event.data["text"])
    return text


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


class UserEventsReader:
    """GET /api/events read in a thread of its own, as a tab would. Open (the site has
    answered, so it follows every change from now on) once constructed."""

    def __init__(self, base_url: str, session_key: str, last_event_id: str | None = None) -> None:
        self.events: list[Event] = []
        self.status = 0
        self._http = httpx.Client(base_url=base_url, cookies={"sessionid": session_key}, timeout=60)
        self._opened = threading.Event()
        self._closing = False
        self._socket: socket.socket | None = None
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self._thread.start()
        assert self._opened.wait(15), "the event stream did not answer"

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self._http.stream("GET", "/api/events", headers=headers) as response:
                self.status = response.status_code
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                self._opened.set()
                parser = SSEParser()
                for chunk in response.iter_raw():
                    for sse in parser.feed(chunk):
                        self.events.append(Event.read(sse))
        except Exception:
            if not self._closing:
                raise
        finally:
            self._opened.set()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Event]:
        """The first `count` events, once they have come."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.events) >= count, f"{len(self.events)} events, not {count}: {self.events}"
        return self.events[:count]

    def close(self) -> None:
        """Hang up, as a closed tab does (shutting the socket wakes the reading thread)."""
        self._closing = True
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._http.close()
        self._thread.join(5)
