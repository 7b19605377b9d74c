"""iFlytek Spark WebSocket transcripts (PROTOCOLS.md section 6), keyed by domain."""

from __future__ import annotations

from tests.support.fakes.spark_upstream import SparkScenario
from tests.support.fakes.wire import CHINESE, CODE, PLAIN, Expected, failed, pieces, scenarios_of

SID = "cht000b8a5a@dx18e2a4d3b8db8f2540"


def frame(
    status: int, seq: int, content: str, usage: tuple[int, int] | None = None, **item: str
) -> dict[str, object]:
    payload: dict[str, object] = {
        "choices": {
            "status": status,
            "seq": seq,
            "text": [{"content": content, "role": "assistant", "index": 0, **item}],
        }
    }
    if usage:
        prompt, completion = usage
        payload["usage"] = {
            "text": {
                "question_tokens": 4,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        }
    header = {"code": 0, "message": "Success", "sid": SID, "status": status}
    return {"header": header, "payload": payload}


def error_frame(code: int, message: str) -> dict[str, object]:
    """Header only, status 2: how Spark reports a failure (then it closes)."""
    return {"header": {"code": code, "message": message, "sid": SID, "status": 2}}


def text_frames(text: str, usage: tuple[int, int] = (5, 9)) -> list[dict[str, object]]:
    parts = pieces(text)
    frames = [frame(0 if i == 0 else 1, i, p) for i, p in enumerate(parts[:-1])]
    return [*frames, frame(2, len(parts) - 1, parts[-1], usage)]


_11200 = "AppIdNoAuthError:(00000:00000) AppId no auth. Please check the app's quota."
_10014 = "The output content contains inappropriate information (输出内容涉及敏感信息)"

TRANSCRIPTS: dict[str, tuple[SparkScenario, Expected]] = {
    "sp-plain": (SparkScenario(text_frames(PLAIN)), Expected(PLAIN, usage=(5, 9))),
    "sp-chinese": (
        SparkScenario(text_frames(CHINESE, (6, 30))),
        Expected(CHINESE, usage=(6, 30)),
    ),
    "sp-code": (SparkScenario(text_frames(CODE, (6, 41))), Expected(CODE, usage=(6, 41))),
    "sp-single": (
        SparkScenario([frame(2, 0, "一次说完。All at once.", (3, 7))]),
        Expected("一次说完。All at once.", usage=(3, 7)),
    ),
    "sp-empty-last": (
        SparkScenario([frame(0, 0, "您"), frame(1, 1, "好，"), frame(2, 2, "", (4, 3))]),
        Expected("您好，", usage=(4, 3)),
    ),
    "sp-reasoning": (
        SparkScenario(
            [
                frame(0, 0, "", reasoning_content="用户在打招呼。"),
                frame(1, 1, "", reasoning_content=" Greet back."),
                frame(1, 2, "Hello!"),
                frame(2, 3, "", (4, 12)),
            ]
        ),
        Expected("Hello!", usage=(4, 12), reasoning="用户在打招呼。 Greet back."),
    ),
    "sp-quota": (
        SparkScenario([error_frame(11200, _11200)]),
        failed("quota is exhausted; retrying will not help (code 11200)", "AppIdNoAuthError"),
    ),
    "sp-daily-limit": (
        SparkScenario([error_frame(11201, "AppIdQpsOverFlowError: daily limit exceeded")]),
        failed("quota is exhausted; retrying will not help (code 11201)", "daily limit exceeded"),
    ),
    "sp-rate": (
        SparkScenario([error_frame(11202, "AppIdQpsOverFlowError: qps limit exceeded")]),
        failed("rate limiting requests; try again in a moment (code 11202)", "qps limit"),
    ),
    "sp-input-audit": (
        SparkScenario([error_frame(10013, "The input content contains inappropriate info")]),
        failed("refused the content (code 10013)", "inappropriate info"),
    ),
    "sp-output-audit": (
        SparkScenario([frame(0, 0, "Once"), frame(1, 1, " upon"), error_frame(10014, _10014)]),
        failed("refused the content (code 10014)", "输出内容涉及敏感信息", text="Once upon"),
    ),
    "sp-too-long": (
        SparkScenario([error_frame(10907, "token count exceeds the limit")]),
        failed(
            "longer than the model's context; start a new conversation (code 10907)",
            "token count exceeds the limit",
        ),
    ),
    "sp-truncated": (
        SparkScenario([frame(0, 0, "Never"), frame(1, 1, " finished")]),
        failed("closed the connection before the reply was finished", text="Never finished"),
    ),
    "sp-abort": (
        SparkScenario([frame(0, 0, "Dropped")], end="abort"),
        failed("closed the connection before the reply was finished", text="Dropped"),
    ),
}
SCENARIOS = scenarios_of(TRANSCRIPTS, paced="sp-code")
# For the timeout tests: nothing after the question; one frame, then nothing.
SCENARIOS["sp-first-byte-timeout"] = SparkScenario([], end="hang")
SCENARIOS["sp-idle-timeout"] = SparkScenario([frame(0, 0, "Then")], end="hang")
# Long enough to stop in the middle.
SCENARIOS["sp-slow"] = SparkScenario(
    [frame(0 if i == 0 else 1, i, f"word{i} ") for i in range(60)] + [frame(2, 60, ".", (1, 61))],
    delay=0.1,
)
