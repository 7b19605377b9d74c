"""Connect, first-byte and idle timeouts apply to every provider, the WebSocket one included.

The test environment sets CHAT_CONNECT_TIMEOUT=2 and CHAT_FIRST_BYTE_TIMEOUT and
CHAT_IDLE_TIMEOUT to 3 seconds. The replies of one kind run side by side, so each test waits
for one timeout, not one per provider. After a timeout the upstream connection is closed.
"""

from __future__ import annotations

import socket
import time

import pytest

from chat.models import Endpoint
from tests.support.clients import SiteClient
from tests.support.fakes.openai_scenarios import IDLE_TEXT
from tests.support.fakes.spark_upstream import SparkUpstream
from tests.support.fakes.upstream import FakeUpstream
from tests.support.fakes.wire import failed
from tests.support.reply_checks import ask_and_read, check_reply
from tests.support.testenv import SPARK_PORT, TEST_KEYS

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = {
    "openai": "OpenAI",
    "openai-completions": "OpenAI Completions",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
    "spark": "iFlytek Spark",
}


def run_side_by_side(site: SiteClient, models: list[str]) -> dict[str, dict[str, object]]:
    """Start every reply first, then read each to its end: the saved replies by model."""
    started = [(model, *site.ask(model)) for model in models]
    saved = {}
    for model, reply, url in started:
        site.stream_text(url)
        saved[model] = site.reply(reply["id"])
    return saved


def closed_by_client(
    fake: FakeUpstream, spark: SparkUpstream, model: str, timeout: float = 5.0
) -> bool:
    source, _, name = model.partition(":")
    if source != "spark":
        return fake.wait_closed(name, timeout).client_closed is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := spark.requests_for(name)) and found[-1].client_closed is not None:
            return True
        time.sleep(0.02)
    return False


def test_no_first_byte_in_time_is_a_timeout(
    site: SiteClient, fake_upstream: FakeUpstream, spark_upstream: SparkUpstream
) -> None:
    models = [
        "openai:oa-first-byte-timeout",
        "openai-completions:cmp-header-timeout",
        "anthropic:an-first-byte-timeout",
        "gemini:gm-first-byte-timeout",
        "spark:sp-first-byte-timeout",
    ]
    for model, saved in run_side_by_side(site, models).items():
        label = LABELS[model.partition(":")[0]]
        check_reply(saved, failed(f"{label} stopped answering (timed out)."))
        assert closed_by_client(fake_upstream, spark_upstream, model), model


def test_silence_between_chunks_is_a_timeout_and_the_text_so_far_is_kept(
    site: SiteClient, fake_upstream: FakeUpstream, spark_upstream: SparkUpstream
) -> None:
    models = [
        "openai:oa-idle-timeout",
        "openai-completions:cmp-idle-timeout",
        "anthropic:an-idle-timeout",
        "gemini:gm-idle-timeout",
        "spark:sp-idle-timeout",
    ]
    for model, saved in run_side_by_side(site, models).items():
        label = LABELS[model.partition(":")[0]]
        check_reply(saved, failed(f"{label} stopped answering (timed out).", text="Then"))
        assert closed_by_client(fake_upstream, spark_upstream, model), model


def test_a_connection_not_made_in_time_is_a_timeout(
    site: SiteClient, spark_upstream: SparkUpstream, blackhole: int
) -> None:
    unreachable = f"http://127.0.0.1:{blackhole}"
    endpoints = [
        ("openai", f"{unreachable}/v1"),
        ("openai_completions", f"{unreachable}/v1"),
        ("anthropic", unreachable),
        ("gemini", f"{unreachable}/v1beta"),
        ("spark", f"ws://127.0.0.1:{SPARK_PORT}/hang/chat"),  # the handshake never answered
    ]
    models = []
    for protocol, base_url in endpoints:
        endpoint = Endpoint.objects.create(
            label=f"Slow {protocol}",
            protocol=protocol,
            base_url=base_url,
            api_key=TEST_KEYS["OPENAI_API_KEY"],
            api_secret=TEST_KEYS["SPARK_API_SECRET"],
            app_id="5f3a9c1e",
            model_names="sp-plain",
        )
        models.append(f"ep{endpoint.pk}:sp-plain")
    for (protocol, _), saved in zip(
        endpoints, run_side_by_side(site, models).values(), strict=True
    ):
        check_reply(saved, failed(f"Could not connect to Slow {protocol}: timed out."))


def test_an_unreachable_upstream_is_told_apart_from_a_slow_one(site: SiteClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    endpoint = Endpoint.objects.create(
        label="Gone",
        protocol="openai",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="sk-x",
        model_names="m",
    )
    check_reply(
        ask_and_read(site, f"ep{endpoint.pk}:m"),
        failed("Could not connect to Gone: it is unreachable."),
    )


def test_a_reply_that_outlasts_the_idle_timeout_is_not_cut_while_chunks_keep_coming(
    site: SiteClient,
) -> None:
    """oa-idle sends a chunk every 0.8 s for 3.2 s in all: longer than the 3 s idle timeout,
    which is measured from the chunk before, not from the first one."""
    saved = ask_and_read(site, "openai:oa-idle")
    assert saved["status"] == "complete", saved["error"]
    assert saved["content"] == IDLE_TEXT
