"""The browser leg's SSE framing (chat/sse.py): exact bytes of every kind of frame."""

from __future__ import annotations

import json

from chat import sse
from chat.providers.sse import SSEParser


def parse(raw: bytes) -> list[tuple[str, str, str]]:
    """What a spec-exact client (a browser) makes of the bytes: (event, id, data)."""
    return [(e.event, e.id, e.data) for e in SSEParser().feed(raw)]


def test_delta_frame_has_id_event_and_one_data_line() -> None:
    assert sse.frame("delta", {"text": "Hello"}, 3) == (
        b'id: 3\nevent: delta\ndata: {"text":"Hello"}\n\n'
    )


def test_frame_without_an_id_has_no_id_line() -> None:
    assert sse.frame("snapshot", {"text": ""}) == b'event: snapshot\ndata: {"text":""}\n\n'


def test_id_zero_is_still_written() -> None:
    assert sse.frame("snapshot", {"text": "x"}, 0).startswith(b"id: 0\n")


def test_newlines_and_carriage_returns_stay_inside_one_data_line() -> None:
    raw = sse.frame("delta", {"text": "line one\nline two\r\nthree\rfour"}, 7)

    assert raw == (
        b'id: 7\nevent: delta\ndata: {"text":"line one\\nline two\\r\\nthree\\rfour"}\n\n'
    )
    assert raw.count(b"\n") == 4
    assert b"\r" not in raw


def test_line_separator_characters_are_kept_and_do_not_split_the_event() -> None:
    text = "a\u2028b\u2029c\x85d"

    raw = sse.frame("delta", {"text": text}, 1)

    assert raw == 'id: 1\nevent: delta\ndata: {"text":"a\u2028b\u2029c\x85d"}\n\n'.encode()
    assert parse(raw) == [("delta", "1", '{"text":"a\u2028b\u2029c\x85d"}')]


def test_chinese_and_emoji_are_sent_as_utf8_not_escapes() -> None:
    raw = sse.frame("delta", {"text": "你好，世界 🌏"}, 2)

    assert raw == 'id: 2\nevent: delta\ndata: {"text":"你好，世界 🌏"}\n\n'.encode()
    assert b"\\u" not in raw


def test_frames_never_start_with_a_byte_order_mark() -> None:
    frames = [
        sse.retry(1000),
        sse.PING,
        sse.frame("delta", {"text": "\ufeffstarts with a BOM"}, 1),
    ]

    for raw in frames:
        assert not raw.startswith(b"\xef\xbb\xbf")
    assert frames[2] == 'id: 1\nevent: delta\ndata: {"text":"\ufeffstarts with a BOM"}\n\n'.encode()


def test_end_frame_carries_the_whole_payload_on_one_line() -> None:
    payload = {
        "status": "complete",
        "content": "# Title\n\n- one",
        "html": "<h1>Title</h1>\n<ul>\n<li>one</li>\n</ul>",
        "error": "",
        "usage": {"input_tokens": 3, "output_tokens": 5},
        "finish_reason": "stop",
    }

    raw = sse.frame("end", payload, 12)

    head, data_line, blank, tail = raw.split(b"\n", 3)
    assert head == b"id: 12"
    assert data_line == b"event: end"
    assert blank.startswith(b"data: ")
    assert json.loads(blank[len(b"data: ") :]) == payload
    assert tail == b"\n"


def test_retry_and_ping_are_exact() -> None:
    assert sse.retry(1000) == b"retry: 1000\n\n"
    assert sse.PING == b": ping\n\n"


def test_a_client_reads_back_exactly_what_was_framed() -> None:
    texts = ["plain", "two\nlines", "cr\ronly", "\u2028", "中文", "", " leading space"]
    raw = b"".join(sse.frame("delta", {"text": t}, n) for n, t in enumerate(texts, 1))

    events = parse(raw)

    assert [(e, i) for e, i, _ in events] == [("delta", str(n)) for n in range(1, 8)]
    assert [json.loads(d)["text"] for _, _, d in events] == texts


def test_a_ping_between_frames_is_not_an_event() -> None:
    raw = sse.frame("delta", {"text": "a"}, 1) + sse.PING + sse.frame("delta", {"text": "b"}, 2)

    assert parse(raw) == [
        ("delta", "1", '{"text":"a"}'),
        ("delta", "2", '{"text":"b"}'),
    ]


def test_a_text_frame_is_the_frame_of_its_text_and_reasoning() -> None:
    """text_frame (a reply's pieces) writes exactly what frame() writes for the same data."""
    texts = ["", "Hello", '"quoted" \\ back', "a\nb\r\nc\rd\t\x00\x1f\x7f", "a\u2028b\u2029c\x85d"]
    texts += ["你好，世界 🌏", "</script><b>&amp;", "\ufeffBOM", "é" * 1000]
    for text in texts:
        for reasoning in ("", "想一想\n", '"why"'):
            data = {"text": text, "reasoning": reasoning} if reasoning else {"text": text}
            for event in ("delta", "snapshot"):
                expected = sse.frame(event, data, 42)
                assert sse.text_frame(event, text, reasoning, 42) == expected
