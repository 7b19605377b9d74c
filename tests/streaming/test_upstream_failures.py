"""Every way an upstream fails, through a real daphne process: the reply ends as `error` with a
message the user can act on (the upstream's own words included), its partial text is kept, and
no API key ever shows, in an answer, an event or the server's log."""

from __future__ import annotations

import pytest

from chat.models import Endpoint, Message
from tests.support.clients import SiteClient, live_text
from tests.support.daphne import Daphne
from tests.support.events import Event
from tests.support.fakes.openai_scenarios import ECHOED_KEY_PREFIX
from tests.support.fakes.upstream import FakeUpstream
from tests.support.testenv import TEST_KEYS, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def failed_reply(site: SiteClient, model: str) -> tuple[list[Event], dict[str, object]]:
    """Stream a reply to its end; return its events and the reply as the API shows it."""
    reply, url = site.ask(model)
    _text, events = site.stream_text(url)
    return events, site.reply(reply["id"])


def assert_failed(
    events: list[Event], shown: dict[str, object], partial: str, *phrases: str
) -> None:
    end = events[-1]
    assert end.event == "end"
    assert (end.data["status"], end.data["content"], end.data["finish_reason"]) == (
        "error",
        partial,
        "error",
    )
    error = str(end.data["error"])
    for phrase in phrases:
        assert phrase in error
    assert (shown["status"], shown["content"], shown["error"]) == ("error", partial, error)
    saved = Message.objects.get(pk=shown["id"])
    assert (saved.status, saved.content, saved.error, saved.worker_channel) == (
        "error",
        partial,
        error,
        "",
    )


@pytest.mark.parametrize(
    ("model", "phrases"),
    [
        (
            "oa-401",
            ["credentials", "(HTTP 401)", "Incorrect API key provided: sk-te**********."],
        ),
        ("oa-403", ["credentials", "(HTTP 403)", "Country, region, or territory not supported"]),
        (
            "oa-429",
            [
                "rate limiting requests; try again in a moment (HTTP 429)",
                "Rate limit reached for gpt-4o-mini on requests per min (RPM)",
            ],
        ),
        (
            "oa-quota",
            [
                "quota is exhausted; retrying will not help (HTTP 429)",
                "You exceeded your current quota, please check your plan and billing details.",
            ],
        ),
        (
            "oa-500",
            [
                "failed (HTTP 500)",
                "The server had an error while processing your request. Sorry about that!",
            ],
        ),
    ],
)
def test_an_upstream_refusal_ends_the_reply_with_its_reason(
    site: SiteClient, model: str, phrases: list[str]
) -> None:
    events, shown = failed_reply(site, f"openai:{model}")

    assert [e.event for e in events] == ["end"]
    assert_failed(events, shown, "", "OpenAI", *phrases)


def test_a_rate_limit_and_an_exhausted_quota_read_differently(site: SiteClient) -> None:
    rate_events, _ = failed_reply(site, "openai:oa-429")
    quota_events, _ = failed_reply(site, "openai:oa-quota")

    rate, quota = str(rate_events[-1].data["error"]), str(quota_events[-1].data["error"])
    assert "try again" in rate
    assert "will not help" not in rate
    assert "will not help" in quota
    assert "try again" not in quota
    # Retry is offered for the rate limit only: the stored kind decides.
    assert (rate_events[-1].data["retryable"], quota_events[-1].data["retryable"]) == (True, False)
    kinds = Message.objects.filter(error__contains="HTTP 429").values_list("error_kind", flat=True)
    assert sorted(kinds) == ["quota", "rate_limit"]


def test_an_unreachable_upstream_ends_the_reply_with_an_error(site: SiteClient) -> None:
    endpoint = Endpoint.objects.create(
        label="Closed box",
        protocol="openai",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        api_key="sk-closed-box-secret-5e4d",
        model_names="m1",
    )

    events, shown = failed_reply(site, f"ep{endpoint.pk}:m1")

    assert_failed(events, shown, "", "Could not connect to Closed box", "unreachable")
    assert "127.0.0.1" not in str(shown["error"])


@pytest.mark.parametrize(
    ("model", "partial", "phrases"),
    [
        (
            "oa-midstream-error",
            "Partial answer",
            ["reported an error mid-reply", "The server had an error processing your request."],
        ),
        ("oa-malformed", "Fine so far", ["sent a malformed chunk"]),
        ("oa-truncated", "Cut off", ["closed the connection before the reply was finished"]),
        ("oa-truncated@bytes", "Cut off", ["closed the connection before the reply was finished"]),
    ],
)
def test_a_stream_that_breaks_keeps_its_partial_text(
    site: SiteClient, model: str, partial: str, phrases: list[str]
) -> None:
    events, shown = failed_reply(site, f"openai:{model}")

    assert partial.startswith(live_text(events))
    assert_failed(events, shown, partial, "OpenAI", *phrases)


def test_an_upstream_that_never_sends_a_byte_times_out(site: SiteClient) -> None:
    events, shown = failed_reply(site, "openai:oa-first-byte-timeout")

    assert_failed(events, shown, "", "OpenAI", "timed out")


def test_an_upstream_that_goes_quiet_mid_reply_times_out_keeping_its_text(
    site: SiteClient, fake_upstream: FakeUpstream
) -> None:
    events, shown = failed_reply(site, "openai:oa-idle-timeout")

    assert_failed(events, shown, "Then", "OpenAI", "timed out")
    assert fake_upstream.wait_closed("oa-idle-timeout").client_closed is not None


def test_no_api_key_shows_in_answers_events_or_the_log(
    site: SiteClient, daphne: Daphne, fake_upstream: FakeUpstream
) -> None:
    endpoint = Endpoint.objects.create(
        label="Closed box",
        protocol="openai",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        api_key="sk-closed-box-secret-5e4d",
        model_names="m1",
    )
    secrets = [*TEST_KEYS.values(), endpoint.api_key]
    seen: list[str] = []
    for model in (
        "openai:oa-key-in-error",
        "openai:oa-key-in-midstream-error",
        "openai:oa-401",
        "openai:oa-plain",
        f"ep{endpoint.pk}:m1",
    ):
        conv = site.new_conversation(model)
        sent = site.http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "Hi"})
        seen.append(sent.text)
        with site.http.stream(
            "GET", sent.json()["stream_url"], headers={"Accept": "text/event-stream"}
        ) as stream:
            seen.append(stream.read().decode())
        seen.append(site.http.get(f"/api/conversations/{conv['id']}").text)
        seen.append(site.http.post(f"/api/replies/{sent.json()['reply']['id']}/stop").text)
    seen.append(site.http.get("/api/models").text)
    seen.append(site.http.get("/api/conversations").text)
    seen.append(daphne.logs())
    seen += Message.objects.values_list("error", flat=True)

    echoed = fake_upstream.requests_for("oa-key-in-error")[-1]
    assert echoed.headers["authorization"] == f"Bearer {TEST_KEYS['OPENAI_API_KEY']}"
    assert any(ECHOED_KEY_PREFIX in text for text in seen)
    assert any("was revoked" in text for text in seen)
    for text in seen:
        for secret in secrets:
            assert secret not in text


def test_a_key_the_upstream_echoes_into_the_reply_is_never_streamed_or_stored(
    site: SiteClient, daphne: Daphne
) -> None:
    reply, url = site.ask("openai:oa-key-in-reply")
    text, events = site.stream_text(url)

    key = TEST_KEYS["OPENAI_API_KEY"]
    end = events[-1].data
    assert end["status"] == "complete"
    assert end["content"] == "Your header was Bearer [redacted]! Again: [redacted]. "
    assert end["reasoning"] == "thinking of [redacted]"
    assert text == end["content"]  # what streamed live was redacted too
    saved = Message.objects.get(pk=reply["id"])
    streamed = "".join(str(e.data) for e in events)
    third = len(key) // 3  # how the fake split it over three chunks
    for seen in (streamed, saved.content, saved.reasoning, saved.html, daphne.logs()):
        for piece in (key, key[:third], key[third : 2 * third], key[2 * third :]):
            assert piece not in seen
