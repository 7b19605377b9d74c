"""Asking a fake upstream's model through the real site, reading the reply's event stream to its
end, and checking the saved reply against what the transcript holds."""

from __future__ import annotations

from chat.models import Message
from tests.support.clients import SiteClient
from tests.support.fakes.wire import Expected
from tests.support.testenv import TEST_KEYS

SPLITS = ["", "@bytes", "@utf8"]


def ask_and_read(site: SiteClient, model_id: str, content: str = "Hi") -> dict[str, object]:
    """Ask model_id, read the reply's event stream to its end, return the saved reply."""
    reply, url = site.ask(model_id, content)
    shown, events = site.stream_text(url)
    assert events and events[-1].event == "end"
    saved = site.reply(reply["id"])
    assert shown == saved["content"]
    end = events[-1].data
    for field in ("status", "content", "error", "usage", "finish_reason"):
        assert end[field] == saved[field], field
    return saved


def check_reply(saved: dict[str, object], expected: Expected) -> None:
    assert saved["content"] == expected.text
    assert saved["status"] == expected.status, saved["error"]
    assert saved["usage"] == {
        "input_tokens": expected.usage[0],
        "output_tokens": expected.usage[1],
    }
    assert saved["finish_reason"] == expected.finish
    assert saved["reasoning"] == expected.reasoning
    error = str(saved["error"])
    for part in expected.error:
        assert part in error
    if not expected.error:
        assert error == ""
    # An error is for a user: no address, header or key in it.
    for secret in ("127.0.0.1", "http://", "ws://", "authorization", *TEST_KEYS.values()):
        assert secret.lower() not in error.lower()
    raw_finish = Message.objects.get(pk=saved["id"]).upstream_finish_reason
    assert raw_finish == expected.raw_finish
