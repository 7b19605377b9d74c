"""GET /api/events refuses what is not a logged-in event-stream GET (its events are tested
through daphne, tests/streaming/test_user_events.py)."""

from __future__ import annotations

import pytest

from tests.support.clients import JsonApi

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def test_the_user_event_stream_refuses_what_it_does_not_serve(
    api: JsonApi, anonymous_api: JsonApi
) -> None:
    response = api.client.get("/api/events", headers={"Accept": "*/*"})
    assert response.status_code == 406
    assert response.json() == {"error": "This endpoint serves text/event-stream only."}
    anonymous = anonymous_api.client.get("/api/events", headers={"Accept": "text/event-stream"})
    assert anonymous.status_code == 401
    assert api.post("/api/events").status_code == 405
    too_long = api.client.get(
        "/api/events", headers={"Accept": "text/event-stream", "Last-Event-ID": "9" * 40}
    )
    assert too_long.status_code == 400
