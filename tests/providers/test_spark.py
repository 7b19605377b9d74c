"""iFlytek Spark over WebSocket, streamed through the real site, against a real WebSocket server.

Every transcript is replayed frame by frame, each frame fragmented one byte per WebSocket
frame, and one UTF-8 character per frame; the saved reply must hold what the transcript does.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import time
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from chat.models import Endpoint
from chat.providers.base import ChatRequest, TextDelta, Timeouts, Turn
from chat.providers.spark import SparkProvider, chat_url, sign_url
from tests.support.clients import SiteClient
from tests.support.fakes.spark_scenarios import TRANSCRIPTS
from tests.support.fakes.spark_upstream import LOGGER, REFUSALS, SparkUpstream
from tests.support.fakes.wire import failed
from tests.support.reply_checks import SPLITS, ask_and_read, check_reply
from tests.support.testenv import SPARK_PORT, TEST_KEYS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(TRANSCRIPTS))
def test_transcript_becomes_the_saved_reply(
    site: SiteClient, spark_upstream: SparkUpstream, name: str, split: str
) -> None:
    _scenario, expected = TRANSCRIPTS[name]
    check_reply(ask_and_read(site, f"spark:{name}{split}"), expected)


# --- The signed URL -------------------------------------------------------------------------

VECTOR_KEY = "ffeeddccbbaa99887766554433221100"
VECTOR_SECRET = "ZG9jLWV4YW1wbGUtc2VjcmV0LW5vdC1yZWFs"
VECTOR_DATE = "Mon, 03 Feb 2025 08:00:00 GMT"
# PROTOCOLS.md section 6, computed with Python's hmac and checked with openssl.
VECTOR_URL = (
    "wss://spark-api.xf-yun.com/v1.1/chat?authorization=YXBpX2tleT0iZmZlZWRkY2NiYmFhOTk4ODc3Nj"
    "Y1NTQ0MzMyMjExMDAiLCBhbGdvcml0aG09ImhtYWMtc2hhMjU2IiwgaGVhZGVycz0iaG9zdCBkYXRlIHJlcXVlc3Qt"
    "bGluZSIsIHNpZ25hdHVyZT0iUVRMRnlYbG1valZjT0t3MkRKd29QZUNKeGkrdGhYdEhPZWh1bE41SHhLUT0i"
    "&date=Mon%2C+03+Feb+2025+08%3A00%3A00+GMT&host=spark-api.xf-yun.com"
)


def openssl_signature(secret: str, message: str) -> str:
    """HMAC-SHA256 in base64, computed by openssl rather than by Python."""
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret, "-binary"],
        input=message.encode(),
        capture_output=True,
        check=True,
    ).stdout
    return base64.b64encode(digest).decode()


def test_signed_url_matches_the_reference_vector() -> None:
    assert sign_url(VECTOR_URL.split("?")[0], VECTOR_KEY, VECTOR_SECRET, VECTOR_DATE) == VECTOR_URL


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("wss://spark-api.xf-yun.com/v3.5/chat", "spark-api.xf-yun.com", "/v3.5/chat"),
        ("wss://spark-api.xf-yun.com/chat/max-32k", "spark-api.xf-yun.com", "/chat/max-32k"),
        ("ws://127.0.0.1:8123/v4.0/chat", "127.0.0.1:8123", "/v4.0/chat"),
    ],
)
def test_signed_url_carries_an_openssl_computed_signature(url: str, host: str, path: str) -> None:
    date = "Tue, 11 Mar 2025 17:05:09 GMT"
    signed = urlsplit(sign_url(url, "k-123", "s3cr3t/+=", date))
    query = parse_qs(signed.query)
    assert (signed.netloc, signed.path) == (host, path)
    assert query["date"] == [date] and query["host"] == [host]
    expected = openssl_signature("s3cr3t/+=", f"host: {host}\ndate: {date}\nGET {path} HTTP/1.1")
    assert base64.b64decode(query["authorization"][0]).decode() == (
        'api_key="k-123", algorithm="hmac-sha256", headers="host date request-line", '
        f'signature="{expected}"'
    )


def test_a_url_without_a_path_takes_the_path_of_its_domain() -> None:
    assert chat_url("wss://spark-api.xf-yun.com", "4.0Ultra") == (
        "wss://spark-api.xf-yun.com/v4.0/chat"
    )
    assert chat_url("wss://spark-api.xf-yun.com/", "lite") == "wss://spark-api.xf-yun.com/v1.1/chat"
    assert chat_url("ws://127.0.0.1:1/x/chat", "lite") == "ws://127.0.0.1:1/x/chat"


def test_every_connection_is_signed_for_now_and_for_its_host(
    site: SiteClient, spark_upstream: SparkUpstream
) -> None:
    check_reply(ask_and_read(site, "spark:sp-plain"), TRANSCRIPTS["sp-plain"][1])
    rec = spark_upstream.requests_for("sp-plain")[-1]
    assert rec.path == "/v3.5/chat"
    assert rec.query["host"] == rec.host == f"127.0.0.1:{SPARK_PORT}"
    age = time.time() - parsedate_to_datetime(rec.query["date"]).timestamp()
    assert -5 < age < 60


# --- Refused handshakes ----------------------------------------------------------------------


def spark_endpoint(path: str, secret: str | None = None) -> Endpoint:
    return Endpoint.objects.create(
        label="Spark here",
        protocol=Endpoint.Protocol.SPARK,
        base_url=f"ws://127.0.0.1:{SPARK_PORT}{path}",
        api_key=TEST_KEYS["SPARK_API_KEY"],
        api_secret=secret or TEST_KEYS["SPARK_API_SECRET"],
        app_id="5f3a9c1e",
        model_names="sp-plain",
    )


@pytest.mark.parametrize(
    ("path", "lead"),
    [
        ("/refuse/401/chat", "refused the credentials (HTTP 401)"),
        ("/refuse/403/chat", "refused the credentials (HTTP 403)"),
        ("/refuse/404/chat", "rejected the request (HTTP 404)"),
        ("/refuse/429/chat", "rate limiting requests; try again in a moment (HTTP 429)"),
        ("/refuse/500/chat", "failed (HTTP 500)"),
    ],
)
def test_a_refused_handshake_is_reported_with_its_body(
    site: SiteClient, spark_upstream: SparkUpstream, path: str, lead: str
) -> None:
    endpoint = spark_endpoint(path)
    status = int(path.split("/")[2])
    saved = ask_and_read(site, f"ep{endpoint.pk}:sp-plain")
    check_reply(saved, failed("Spark here", lead, REFUSALS[status]))


def test_a_wrong_secret_fails_the_real_signature_check(
    site: SiteClient, spark_upstream: SparkUpstream
) -> None:
    endpoint = spark_endpoint("/v3.5/chat", secret="bm90LXRoZS1yaWdodC1zZWNyZXQ=")
    saved = ask_and_read(site, f"ep{endpoint.pk}:sp-plain")
    check_reply(saved, failed("refused the credentials (HTTP 401)", REFUSALS[401]))
    assert "bm90LXRoZS1yaWdodC1zZWNyZXQ" not in str(saved["error"])


# --- The request frame -----------------------------------------------------------------------


def test_the_conversation_goes_out_in_sparks_frame(
    site: SiteClient, spark_upstream: SparkUpstream
) -> None:
    conv = site.new_conversation("spark:sp-single", system_prompt="只用中文回答。")
    for question in ("第一个问题", "Second question"):
        sent = site.send(conv["id"], question)
        site.stream_text(sent["stream_url"])
    frame = spark_upstream.requests_for("sp-single")[-1].frame
    assert frame["header"]["app_id"] == "5f3a9c1e"  # type: ignore[index]
    assert len(frame["header"]["uid"]) == 32  # type: ignore[index,arg-type]
    assert frame["parameter"] == {"chat": {"domain": "sp-single", "max_tokens": 4096}}
    assert frame["payload"] == {
        "message": {
            "text": [
                {"role": "system", "content": "只用中文回答。"},
                {"role": "user", "content": "第一个问题"},
                {"role": "assistant", "content": "一次说完。All at once."},
                {"role": "user", "content": "Second question"},
            ]
        }
    }


def test_stop_closes_the_websocket(site: SiteClient, spark_upstream: SparkUpstream) -> None:
    reply, url = site.ask("spark:sp-slow")
    events = list(site.events(url, limit=2))
    assert events[0].event in ("delta", "snapshot")
    r = site.http.post(f"/api/replies/{reply['id']}/stop")
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        recs = spark_upstream.requests_for("sp-slow")
        if recs and recs[-1].client_closed is not None:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the WebSocket to Spark was never closed")
    saved = site.reply(reply["id"])
    assert saved["status"] == "stopped"
    assert saved["content"].startswith("word0 ")


# --- The signature stays out of the logs -----------------------------------------------------


def spark_provider() -> SparkProvider:
    return SparkProvider(
        "Spark",
        f"ws://127.0.0.1:{SPARK_PORT}/v3.5/chat",
        "5f3a9c1e",
        TEST_KEYS["SPARK_API_KEY"],
        TEST_KEYS["SPARK_API_SECRET"],
    )


async def test_the_provider_never_logs_the_signed_url(
    spark_upstream: SparkUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything the provider's loggers emit, whatever the site's logging configuration.
    caplog.set_level(logging.DEBUG, logger="chat")
    logging.getLogger("chat").addHandler(caplog.handler)
    request = ChatRequest("sp-plain", [Turn("user", "Hi")])
    try:
        logging.getLogger("chat.providers.spark").debug("probe: debug records are captured")
        events = [e async for e in spark_provider().events(request, Timeouts(2, 3, 3))]
    finally:
        logging.getLogger("chat").removeHandler(caplog.handler)
    assert (
        "".join(e.text for e in events if isinstance(e, TextDelta))
        == TRANSCRIPTS["sp-plain"][1].text
    )
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != LOGGER)
    assert "probe: debug records are captured" in ours
    assert "authorization" not in ours.lower()
    for secret in (TEST_KEYS["SPARK_API_KEY"], TEST_KEYS["SPARK_API_SECRET"]):
        assert secret not in ours
