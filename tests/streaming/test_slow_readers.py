"""A reader that stops reading: the server writes nothing more to it until it reads again,
then sends what it missed as one event (chat/server/flow.py, chat/replies/listener.py), so its
memory does not grow with what the generation produces meanwhile."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from chat.models import Message
from chat.providers.sse import SSEParser
from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.events import Event
from tests.support.fakes.openai_scenarios import FLOOD_PIECES, FLOOD_TEXT
from tests.support.waiting import wait_finished, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def open_stalled_stream(site: SiteClient, url: str) -> tuple[socket.socket, bytes]:
    """A raw HTTP/1.1 GET of the event stream whose reader takes in only a few KB, then
    nothing until the test reads. Returns once the first delta has come, so the stream is
    surely following the reply (not opened after its end, on a slow machine), with the
    bytes read so far."""
    base = urlsplit(site.base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    sock.connect((base.hostname, base.port))
    cookies = "; ".join(f"{k}={v}" for k, v in site.http.cookies.items())
    request = (
        f"GET {url} HTTP/1.1\r\nHost: {base.netloc}\r\nAccept: text/event-stream\r\n"
        f"Cookie: {cookies}\r\n\r\n"
    )
    sock.sendall(request.encode())
    sock.settimeout(30)
    received = b""
    while b"event: delta" not in received:
        data = sock.recv(1024)
        assert data, "the stream closed before its first delta"
        received += data
    return sock, received


def read_events(sock: socket.socket, received: bytes) -> list[Event]:
    """Every event until `end`, after the bytes already `received`."""
    head = received
    while b"\r\n\r\n" not in head:
        head += sock.recv(65536)
    head, _, body = head.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    # The body is chunked: take the chunks apart before parsing events.
    raw, parser = body, SSEParser()
    events: list[Event] = []
    while True:
        while True:
            size_line, sep, rest = raw.partition(b"\r\n")
            if not sep:
                break
            size = int(size_line, 16)
            if len(rest) < size + 2:
                break
            for sse in parser.feed(rest[:size]):
                events.append(Event.read(sse))
            raw = rest[size + 2 :]
            if events and events[-1].event == "end":
                return events
        data = sock.recv(65536)
        assert data, "the stream closed before its end event"
        raw += data


def stall_then_read(
    writer: SiteClient,
    reader: SiteClient,
    stall_chars: int | None = None,
    model: str = "openai:oa-flood",
) -> list[dict[str, object]]:
    """Ask through `writer`, watch through `reader` without reading until the reply's saved
    text has `stall_chars` characters (None: until the reply is saved); then read. Checks the
    text and the ids; returns the data of the events before `end`."""
    reply, url = writer.ask(model)
    sock, received = open_stalled_stream(reader, url)
    try:
        if stall_chars is None:  # the generation runs to its end while this reader reads nothing
            assert wait_finished(reply["id"], timeout=60).content == FLOOD_TEXT
            time.sleep(0.5)
        else:
            # Far past what the buffers hold, however fast this machine writes it.
            wait_for(
                lambda: len(Message.objects.get(pk=reply["id"]).content) >= stall_chars,
                60,
                f"{stall_chars} characters written",
            )
        events = read_events(sock, received)
    finally:
        sock.close()
    deltas = [e.data for e in events if e.event != "end"]
    assert "".join(str(d["text"]) for d in deltas) == FLOOD_TEXT
    ids = [int(e.id) for e in events]
    assert ids == sorted(ids) and ids[-2] == len(FLOOD_PIECES)
    assert events[-1].event == "end" and events[-1].data["content"] == FLOOD_TEXT
    return deltas


def test_a_stalled_reader_gets_what_it_missed_as_one_event(site: SiteClient) -> None:
    deltas = stall_then_read(site, site)

    # While it was not reading, the server wrote only until its buffers filled (about 200 KB:
    # the socket's, the reader's window and Twisted's 64 KB), then paused; what came meanwhile
    # went out as one event once it read again. Writing every delta would have been about
    # one event per chunk.
    assert len(deltas) < len(FLOOD_PIECES) / 2, len(deltas)
    assert any(len(str(d["text"])) > 100 * len(FLOOD_PIECES[0]) for d in deltas)


@pytest.mark.scaleout
@pytest.mark.usefixtures("postgres_and_redis")
def test_a_stalled_reader_in_another_process_catches_up_in_one_event(
    daphne_factory: type[Daphne], live_user: User
) -> None:
    """Through Redis, a paused listener leaves the published messages in its inbox, which
    fills (capacity 100 here) and drops the rest, and once it reads again (here while the reply is
    still being written: at a third of its 3,000 chunks, which take 9 s) the gap is caught up
    in one event. (A reply that ends while the reader stalls ends its stream with `end`, whose
    content is the whole reply.)"""
    env = {"CHAT_CHANNEL_CAPACITY": "100"}
    session = login_session(live_user)
    writing, reading = daphne_factory(env=env), daphne_factory(env=env)
    writer, reader = SiteClient(writing.url, session), SiteClient(reading.url, session)
    try:
        deltas = stall_then_read(
            writer, reader, stall_chars=len(FLOOD_TEXT) // 3, model="openai:oa-flood-slow"
        )
    finally:
        writer.close()
        reader.close()

    # The rest streams live once it reads again; the catch-up alone spans over 100 chunks.
    assert any(len(str(d["text"])) > 100 * len(FLOOD_PIECES[0]) for d in deltas)
    assert "an inbox is full (100); deltas dropped" in reading.logs()
