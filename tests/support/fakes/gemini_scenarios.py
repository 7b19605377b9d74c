"""Google Gemini streamGenerateContent?alt=sse transcripts (PROTOCOLS.md section 5).

The live API frames events with CRLF and writes JSON with ": " after keys; the transcripts do
the same unless a framing variant says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.events import Event
from tests.support.fakes.upstream import Recorded, Scenario
from tests.support.fakes.wire import (
    CHINESE,
    CODE,
    PLAIN,
    Expected,
    data_only,
    failed,
    frame,
    framed_variants,
    json_body,
    pieces,
    raw,
    scenarios_of,
)

LIVE: dict[str, Any] = {"eol": "\r\n", "spacing": (",", ": ")}


def usage_meta(prompt: int, candidates: int | None = None, thoughts: int = 0) -> dict[str, object]:
    meta: dict[str, object] = {"promptTokenCount": prompt}
    if candidates is not None:
        meta["candidatesTokenCount"] = candidates
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    meta["totalTokenCount"] = prompt + (candidates or 0) + thoughts
    meta["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return meta


def response(
    parts: list[dict[str, object]] | None,
    finish: str | None = None,
    usage: dict[str, object] | None = None,
) -> dict[str, object]:
    candidate: dict[str, object] = {}
    if parts is not None:
        candidate["content"] = {"parts": parts, "role": "model"}
    if finish:
        candidate["finishReason"] = finish
    obj: dict[str, object] = {"candidates": [candidate]}
    if usage:
        obj["usageMetadata"] = usage
    obj["modelVersion"] = "gemini-2.0-flash"
    obj["responseId"] = "PL2LaPz6NNmvnvgPkqjV0Qo"
    return obj


def text_events(text: str, finish: str = "STOP", usage: tuple[int, int] = (5, 7)) -> list[Event]:
    *head, last = pieces(text)
    return [
        *(data_only(response([{"text": p}], usage=usage_meta(usage[0]))) for p in head),
        data_only(response([{"text": last}], finish, usage_meta(*usage))),
    ]


def _error(status: int, code: str, message: str, *details: dict[str, object]) -> Scenario:
    body = {"error": {"code": status, "message": message, "status": code, "details": list(details)}}
    return json_body(status, body, 2)


def _echo_key(rec: Recorded) -> Scenario:
    key = rec.headers["x-goog-api-key"]
    return _error(400, "INVALID_ARGUMENT", f"API key not valid: {key}")


_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_QUOTA = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21s"}


def _quota(quota_id: str) -> dict[str, object]:
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", "model": "gemini-2.0-flash"},
        "quotaValue": "15",
    }
    return {"@type": _QUOTA, "violations": [violation]}


# A recorded-style transcript: CRLF framing, ": " spacing, usage growing chunk by chunk.
_RECORDED = (
    'data: {"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"}}],'
    '"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5,"promptTokensDetails": '
    '[{"modality": "TEXT","tokenCount": 5}]},"modelVersion": "gemini-2.0-flash",'
    '"responseId": "PL2LaPz6NNmvnvgPkqjV0Qo"}\r\n\r\n'
    'data: {"candidates": [{"content": {"parts": [{"text": " world"}],"role": "model"},'
    '"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,'
    '"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 5}],'
    '"candidatesTokensDetails": [{"modality": "TEXT","tokenCount": 2}]},'
    '"modelVersion": "gemini-2.0-flash","responseId": "PL2LaPz6NNmvnvgPkqjV0Qo"}\r\n\r\n'
)

_BLOCKED = {
    "promptFeedback": {
        "blockReason": "SAFETY",
        "safetyRatings": [
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}
        ],
    },
    "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
    "modelVersion": "gemini-2.0-flash",
}

_SAFETY = {
    "candidates": [
        {
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                {
                    "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                    "probability": "HIGH",
                    "blocked": True,
                }
            ],
        }
    ],
    "usageMetadata": usage_meta(6, 0),
}

TRANSCRIPTS: dict[str, tuple[Scenario | Callable[[Recorded], Scenario], Expected]] = {
    **framed_variants(
        "gm-t-plain",
        text_events(PLAIN),
        Expected(PLAIN, usage=(5, 7), raw_finish="STOP"),
        **LIVE,
    ),
    "gm-t-lf": (
        Scenario(body=frame(text_events(PLAIN))),
        Expected(PLAIN, usage=(5, 7), raw_finish="STOP"),
    ),
    "gm-t-recorded": (raw(_RECORDED), Expected("Hello world", usage=(5, 2), raw_finish="STOP")),
    "gm-t-chinese": (
        Scenario(body=frame(text_events(CHINESE, usage=(4, 28)), **LIVE)),
        Expected(CHINESE, usage=(4, 28), raw_finish="STOP"),
    ),
    "gm-t-code": (
        Scenario(body=frame(text_events(CODE, usage=(4, 38)), **LIVE)),
        Expected(CODE, usage=(4, 38), raw_finish="STOP"),
    ),
    "gm-t-length": (
        Scenario(body=frame(text_events("It was the best", "MAX_TOKENS", (3, 4)), **LIVE)),
        Expected("It was the best", usage=(3, 4), finish="length", raw_finish="MAX_TOKENS"),
    ),
    "gm-t-thoughts": (
        Scenario(
            body=frame(
                [
                    data_only(response([{"text": "Thinking about it.", "thought": True}])),
                    data_only(
                        response([{"text": "Answer: "}, {"text": "42"}], usage=usage_meta(8))
                    ),
                    data_only(response([{"text": "."}], "STOP", usage_meta(8, 3, thoughts=20))),
                ],
                **LIVE,
            )
        ),
        Expected("Answer: 42.", usage=(8, 23), raw_finish="STOP", reasoning="Thinking about it."),
    ),
    "gm-t-legacy-stop": (
        Scenario(
            body=frame(
                [
                    data_only(response([{"text": "Every"}], "STOP", usage_meta(2, 1))),
                    data_only(response([{"text": " chunk"}], "STOP", usage_meta(2, 2))),
                    data_only(response([{"text": " stops"}], "STOP", usage_meta(2, 3))),
                ],
                **LIVE,
            )
        ),
        Expected("Every chunk stops", usage=(2, 3), raw_finish="STOP"),
    ),
    "gm-t-blocked": (
        Scenario(body=frame([data_only(_BLOCKED)], **LIVE)),
        failed("blocked the prompt (reason: SAFETY)"),
    ),
    "gm-t-safety": (
        Scenario(
            body=frame(
                [data_only(response([{"text": "Sure, here"}])), data_only(_SAFETY)],
                **LIVE,
            )
        ),
        Expected("Sure, here", usage=(6, 0), finish="content_filter", raw_finish="SAFETY"),
    ),
    "gm-t-midstream": (
        Scenario(
            body=frame(
                [
                    data_only(response([{"text": "Part"}])),
                    data_only(
                        {
                            "error": {
                                "code": 500,
                                "message": "An internal error has occurred.",
                                "status": "INTERNAL",
                            }
                        },
                    ),
                ],
                **LIVE,
            )
        ),
        failed("reported an error mid-reply: An internal error has occurred.", text="Part"),
    ),
    "gm-t-truncated": (
        Scenario(body=frame(text_events("No finish reason")[:-1], **LIVE)),
        failed("closed the connection before the reply was finished", text="No finish reaso"),
    ),
    "gm-t-abort": (
        Scenario(body=frame(text_events("No finish reason")[:-1], **LIVE), abort=True),
        failed("broke before the reply was finished", text="No finish reaso"),
    ),
    "gm-t-400-key": (
        _error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            {"@type": _INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com"},
        ),
        failed("refused the credentials (HTTP 400)", "API key not valid."),
    ),
    "gm-t-key-echo": (_echo_key, failed("(HTTP 400)", "API key not valid: [redacted]")),
    "gm-t-401": (
        _error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        ),
        failed("refused the credentials (HTTP 401)", "invalid authentication credentials"),
    ),
    "gm-t-403": (
        _error(
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 1234 before or it is disabled.",
            {"@type": _INFO, "reason": "SERVICE_DISABLED", "domain": "googleapis.com"},
        ),
        failed("refused the credentials (HTTP 403)", "has not been used in project 1234"),
    ),
    "gm-t-404": (
        _error(
            404,
            "NOT_FOUND",
            "models/gemini-9 is not found for API version v1beta, or is not supported for "
            "generateContent.",
        ),
        failed("rejected the request (HTTP 404)", "models/gemini-9 is not found"),
    ),
    "gm-t-429": (
        _error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            _quota("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
            _RETRY,
        ),
        failed("rate limiting requests; try again in a moment (HTTP 429)", "exceeded your"),
    ),
    "gm-t-quota": (
        _error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            _quota("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
        ),
        failed("quota is exhausted; retrying will not help (HTTP 429)", "exceeded your current"),
    ),
    "gm-t-500": (
        _error(500, "INTERNAL", "An internal error has occurred. Please retry."),
        failed("failed (HTTP 500)", "An internal error has occurred. Please retry."),
    ),
    "gm-t-503": (
        _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        failed("overloaded; try again in a moment (HTTP 503)", "The model is overloaded."),
    ),
}
SCENARIOS = scenarios_of(TRANSCRIPTS, paced="gm-t-code")
# For the timeout tests: nothing after the headers; one chunk, then nothing.
SCENARIOS["gm-first-byte-timeout"] = Scenario(body=[], hang=True)
SCENARIOS["gm-idle-timeout"] = Scenario(
    body=frame([data_only(response([{"text": "Then"}]))], **LIVE), hang=True
)
