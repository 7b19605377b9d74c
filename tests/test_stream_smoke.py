import pytest

from tests.sseclient import SiteClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_plain_openai_reply_streams_exact_events(site: SiteClient) -> None:
    _reply, url = site.ask("openai:oa-plain")
    events = list(site.events(url))
    assert [(e.event, e.id) for e in events] == [
        ("delta", "1"),
        ("delta", "2"),
        ("delta", "3"),
        ("delta", "4"),
        ("delta", "5"),
        ("end", "6"),
    ]
    assert "".join(e.data["text"] for e in events[:-1]) == "Hello! 你好，世界 🌏"
    end = events[-1].data
    assert end["status"] == "complete"
    assert end["usage"] == {"input_tokens": 9, "output_tokens": 7}
