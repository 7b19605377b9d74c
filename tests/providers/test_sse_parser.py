"""The SSE parser against the WHATWG rules (HTML section 9.2.6), byte by byte."""

from __future__ import annotations

import pytest

from chat.providers.sse import SSEEvent, SSEParser


def parse(*chunks: bytes) -> list[tuple[str, str, str]]:
    parser = SSEParser()
    return [(e.event, e.data, e.id) for chunk in chunks for e in parser.feed(chunk)]


def every_split(stream: bytes) -> list[list[bytes]]:
    """The stream cut in two at every position, and one byte per chunk."""
    cuts = [[stream[:i], stream[i:]] for i in range(len(stream) + 1)]
    return [*cuts, [stream[i : i + 1] for i in range(len(stream))]]


STREAM = (
    "\ufeff: comment\r\n"
    "event: greeting\r"
    "data: 你好 🌏\n"
    "data:second line\r\n"
    "id: 7\r\n"
    "\r\n"
    "data:  two spaces, one kept\r"
    "\r"
    ": a comment-only block\n"
    "\n"
    "data: after a comment\n"
    "\n"
).encode()
EXPECTED = [
    ("greeting", "你好 🌏\nsecond line", "7"),
    ("message", " two spaces, one kept", "7"),
    ("message", "after a comment", "7"),
]


@pytest.mark.parametrize("chunks", every_split(STREAM))
def test_every_split_of_a_mixed_stream_parses_the_same(chunks: list[bytes]) -> None:
    assert parse(*chunks) == EXPECTED


def test_a_cr_ending_one_read_and_a_lf_starting_the_next_are_one_line_end() -> None:
    # Were they two, the empty "line" between them would dispatch the event early.
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [("message", "a\nb", "")]


def test_a_cr_ending_one_read_followed_by_text_ends_the_line() -> None:
    assert parse(b"data: a\r", b"data: b\r\r") == [("message", "a\nb", "")]


def test_only_the_first_bom_is_stripped() -> None:
    assert parse(b"\xef\xbb\xbfdata: x\n\n\xef\xbb\xbfdata: y\n\n") == [("message", "x", "")]


def test_unicode_line_separators_are_not_line_ends() -> None:
    text = "a\u2028b\u2029c\u0085d\x0be\x0cf"
    assert parse(f"data: {text}\n\n".encode()) == [("message", text, "")]


def test_a_line_without_a_colon_is_a_field_with_an_empty_value() -> None:
    assert parse(b"data\ndata\ndata: x\n\n") == [("message", "\n\nx", "")]


def test_an_event_without_data_dispatches_nothing_and_resets_its_type() -> None:
    assert parse(b"event: ping\n\ndata: x\n\n") == [("message", "x", "")]
    assert parse(b"id: 3\n\n: keep-alive\n\ndata: x\n\n") == [("message", "x", "3")]


def test_an_id_with_nul_is_ignored_and_the_last_id_persists() -> None:
    assert parse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n") == [
        ("message", "a", "1"),
        ("message", "b", "1"),
    ]


def test_retry_is_not_data_and_unknown_fields_are_recorded() -> None:
    parser = SSEParser()
    events = list(parser.feed(b'retry: 100\nerror: {"code":400}\ndata: x\n\n'))
    assert events == [SSEEvent("message", "x", "")]
    assert parser.unknown_fields == [("error", '{"code":400}')]


def test_an_unterminated_last_event_is_discarded_but_can_be_looked_at() -> None:
    parser = SSEParser()
    assert list(parser.feed(b"data: one\n\ndata: [DONE]\n")) == [SSEEvent("message", "one", "")]
    assert parser.pending_data() == "[DONE]"
    parser = SSEParser()
    assert list(parser.feed(b"data: [DO")) == []
    assert parser.pending_data() == "[DO"


def test_a_character_split_between_reads_is_decoded_whole() -> None:
    encoded = "data: 汉字👩‍💻\n\n".encode()
    for i in range(len(encoded)):
        assert parse(encoded[:i], encoded[i:]) == [("message", "汉字👩‍💻", "")]


def test_an_unterminated_last_event_is_not_dispatched() -> None:
    parser = SSEParser()
    events = [
        e.data
        for byte in b"data: a\n\ndata: b\n\ndata: never dispatched\n"
        for e in parser.feed(bytes([byte]))
    ]
    assert events == ["a", "b"]


def test_whole_events_in_whole_reads_parse_as_the_same_bytes_one_at_a_time() -> None:
    """A read holding exactly one `data: ...` event takes a shorter path; in every state the
    parser can be in before it (a first line, an id, an event type, a pending CR) the events
    are the ones the bytes make when fed one by one."""
    reads = [
        "\ufeffdata: first\n\n",
        "data: 你好 🌏\n\n",
        "id: 3\n",
        "data: after an id\n\n",
        "event: typed\n",
        "data: with a type\n\n",
        "data: a\r",
        "data: b\n\n",
        "\n",
        "data: \n\n",
        "data:no space\n\n",
        "data: two\ndata: lines\n\n",
        "data: \u2028 not a line end\n\n",
    ]
    whole = [r.encode() for r in reads]
    one_by_one = [bytes([b]) for b in b"".join(whole)]
    assert parse(*whole) == parse(*one_by_one)
    assert parse(*whole)[:4] == [
        ("message", "first", ""),
        ("message", "你好 🌏", ""),
        ("message", "after an id", "3"),
        ("typed", "with a type", "3"),
    ]
