"""A user may hold CHAT_MAX_STREAMS_PER_USER event streams open at once in a process; past
that an event stream is refused with 429, and a closed stream frees its place."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import pytest
from django.contrib.auth.models import User

from tests.support.clients import SiteClient, login_session
from tests.support.daphne import Daphne
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

EVENT_STREAM = {"Accept": "text/event-stream"}


def test_event_streams_past_the_cap_are_refused_until_one_closes(
    start_site: Callable[..., Daphne], live_user: User, other_user: User
) -> None:
    d = start_site(CHAT_MAX_STREAMS_PER_USER="2")
    site, other = (SiteClient(d.url, login_session(u)) for u in (live_user, other_user))
    _reply, url = site.ask("openai:oa-slow")

    def status_of_another() -> int:
        with site.http.stream("GET", url, headers=EVENT_STREAM) as response:
            return response.status_code

    with ExitStack() as held:
        first = held.enter_context(site.http.stream("GET", url, headers=EVENT_STREAM))
        with site.http.stream("GET", url, headers=EVENT_STREAM) as second:
            # Both open and sending (their readers kept: dropping one closes its stream).
            readers = [response.iter_bytes() for response in (first, second)]
            assert [r.status_code for r in (first, second)] == [200, 200]
            assert all(next(reader).startswith(b"retry:") for reader in readers)

            refused = site.http.get(url, headers=EVENT_STREAM)
            assert refused.status_code == 429
            assert refused.json() == {
                "error": "Too many live connections are open for your account; close some tabs."
            }
            # Another user is not held to this user's count.
            _, other_url = other.ask("openai:oa-slow")
            with other.http.stream("GET", other_url, headers=EVENT_STREAM) as theirs:
                assert theirs.status_code == 200

        # The second one closed: once the server has seen it go, its place is free.
        wait_for(lambda: status_of_another() == 200, 10, "a freed place")
    site.close()
    other.close()
