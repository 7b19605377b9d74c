"""How each provider's failures are classified: whether retrying can help, and whether a 429
is a passing rate limit or an exhausted quota. (What the user reads is checked through the
site in the modules of each provider; these are the parts a saved reply does not show.)
"""

from __future__ import annotations

import json

import pytest

from chat.providers.anthropic import parse_anthropic_error
from chat.providers.errors import UpstreamError
from chat.providers.gemini import parse_gemini_error
from chat.providers.http import ErrorBody, ErrorParser, http_error
from chat.providers.openai import parse_openai_error
from chat.providers.spark import frame_error, parse_handshake_error
from tests.support.fakes.anthropic_scenarios import SCENARIOS as ANTHROPIC
from tests.support.fakes.compat_transcripts import TRANSCRIPTS as COMPAT
from tests.support.fakes.gemini_scenarios import SCENARIOS as GEMINI
from tests.support.fakes.openai_scenarios import SCENARIOS as OPENAI
from tests.support.fakes.upstream import Scenario


def classify(scenario: object, parser: ErrorParser) -> UpstreamError:
    """The error an HTTP provider makes of a fake scenario's status and body."""
    assert isinstance(scenario, Scenario)
    body = body_of(scenario, parser)
    return http_error("Upstream", scenario.status, body, "retry-after" in scenario.headers)


@pytest.mark.parametrize(
    ("scenario", "parser", "kind", "retryable"),
    [
        (OPENAI["oa-401"], parse_openai_error, "auth", False),
        (OPENAI["oa-403"], parse_openai_error, "auth", False),
        (OPENAI["oa-429"], parse_openai_error, "rate_limit", True),
        (OPENAI["oa-quota"], parse_openai_error, "quota", False),
        (OPENAI["oa-500"], parse_openai_error, "error", True),
        (COMPAT["oa-t-deepseek-402"][0], parse_openai_error, "quota", False),
        (COMPAT["oa-t-vllm-old-400"][0], parse_openai_error, "rejected", False),
        (COMPAT["oa-t-ollama-404"][0], parse_openai_error, "rejected", False),
        (ANTHROPIC["an-t-401"], parse_anthropic_error, "auth", False),
        (ANTHROPIC["an-t-429"], parse_anthropic_error, "rate_limit", True),
        (ANTHROPIC["an-t-credit"], parse_anthropic_error, "quota", False),
        (ANTHROPIC["an-t-529"], parse_anthropic_error, "error", True),
        (GEMINI["gm-t-400-key"], parse_gemini_error, "auth", False),
        (GEMINI["gm-t-429"], parse_gemini_error, "rate_limit", True),
        (GEMINI["gm-t-quota"], parse_gemini_error, "quota", False),
        (GEMINI["gm-t-503"], parse_gemini_error, "error", True),
        (GEMINI["gm-t-404"], parse_gemini_error, "rejected", False),
    ],
)
def test_http_failures_are_classified(
    scenario: Scenario, parser: ErrorParser, kind: str, retryable: bool
) -> None:
    error = classify(scenario, parser)
    assert (error.kind, error.retryable) == (kind, retryable)
    upstream_words = parser(json.loads(b"".join(scenario.body))).message
    assert upstream_words and upstream_words in error.message
    assert f"(HTTP {scenario.status})" in error.message


def body_of(scenario: object, parser: ErrorParser) -> ErrorBody:
    assert isinstance(scenario, Scenario)
    return parser(json.loads(b"".join(scenario.body)))


def test_the_upstreams_own_code_is_read() -> None:
    assert body_of(OPENAI["oa-quota"], parse_openai_error).code == "insufficient_quota"
    assert body_of(ANTHROPIC["an-t-529"], parse_anthropic_error).code == "overloaded_error"
    assert body_of(GEMINI["gm-t-429"], parse_gemini_error).code == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        (11200, "quota", False),
        (11201, "quota", False),
        (11202, "rate_limit", True),
        (11203, "rate_limit", True),
        (10013, "blocked", False),
        (10014, "blocked", False),
        (10007, "error", True),
        (10110, "error", True),
        (10907, "context_length", False),
        (10906, "rejected", False),
    ],
)
def test_spark_codes_are_classified(code: int, kind: str, retryable: bool) -> None:
    error = frame_error("Spark", code, "upstream words")
    assert (error.kind, error.retryable) == (kind, retryable)
    assert f"(code {code}): upstream words" in error.message


def test_a_spark_handshake_body_gives_its_message() -> None:
    body = parse_handshake_error({"message": "HMAC signature cannot be verified"})
    assert body.message == "HMAC signature cannot be verified"
    assert http_error("Spark", 401, body).kind == "auth"


def test_secrets_are_redacted_from_the_message() -> None:
    error = UpstreamError("Bad key sk-abcdef: key sk-abcdef refused", "auth")
    clean = error.redacted("sk-abcdef", "")
    assert (clean.message, clean.kind) == ("Bad key [redacted]: key [redacted] refused", "auth")


@pytest.mark.parametrize(
    ("status", "body", "parser"),
    [
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens. However, "
                    "your messages resulted in 130532 tokens. Please reduce the length.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            },
            parse_openai_error,
        ),
        (
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "prompt is too long: 208732 tokens > 200000 maximum",
                },
            },
            parse_anthropic_error,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "The input token count (1200000) exceeds the maximum number of "
                    "tokens allowed (1048576).",
                    "status": "INVALID_ARGUMENT",
                }
            },
            parse_gemini_error,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                }
            },
            parse_openai_error,
        ),
        (
            400,
            {"error": {"message": "Range of input length should be [1, 30720]", "code": "x"}},
            parse_openai_error,
        ),
    ],
)
def test_a_conversation_longer_than_the_context_is_told_apart(
    status: int, body: object, parser: ErrorParser
) -> None:
    error = http_error("Upstream", status, parser(body))
    assert (error.kind, error.retryable) == ("context_length", False)
    assert error.message.startswith(
        "Upstream refused the conversation as longer than the model's context; "
        "start a new conversation (HTTP 400): "
    )


def test_other_bad_requests_stay_rejected() -> None:
    body = parse_openai_error({"error": {"message": "Invalid value for 'temperature'."}})
    assert http_error("Upstream", 400, body).kind == "rejected"
