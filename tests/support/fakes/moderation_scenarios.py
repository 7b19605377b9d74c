"""The moderation tests' fakes: OpenAI's moderation endpoint (picked, like every scenario, by
the request's `model`: set CHAT_MODERATION_MODEL to one of MODERATION), and chat replies that
say the forbidden word at different moments (served as OpenAI models)."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.support.fakes.upstream import Recorded, Scenario, openai_chunk, sse

WORD = "forbidden"


def _moderation_answer(rec: Recorded) -> Scenario:
    """OpenAI's answer shape: flagged when the input holds WORD (any case)."""
    text = str(rec.json.get("input", "")) if isinstance(rec.json, dict) else ""  # type: ignore[union-attr]
    flagged = WORD in text.lower()
    body = {
        "id": "modr-test",
        "model": "omni-moderation-2024-09-26",
        "results": [
            {
                "flagged": flagged,
                "categories": {"violence": flagged, "harassment": False},
                "category_scores": {"violence": 0.91 if flagged else 0.01, "harassment": 0.0},
                "category_applied_input_types": {"violence": ["text"], "harassment": ["text"]},
            }
        ],
    }
    return Scenario(body=[json.dumps(body).encode()], content_type="application/json")


MODERATION: dict[str, Scenario | Callable[[Recorded], Scenario]] = {
    "mod-test": _moderation_answer,
    "mod-broken": Scenario(
        status=500,
        body=[b'{"error":{"message":"The server had an error","type":"server_error"}}'],
        content_type="application/json",
    ),
    "mod-garbled": Scenario(body=[b"<html>gateway</html>"], content_type="text/html"),
}


def _stream(pieces: list[str], delay: float = 0.03) -> Scenario:
    events = [*(openai_chunk(p) for p in pieces), openai_chunk(None, "stop"), "data: [DONE]"]
    return Scenario(body=sse(*events), delay=delay, first_delay=0.2)


# The word mid-reply, then three more seconds of text: long enough to see the upstream closed.
BAD_PIECES = (
    ["This is fine. "] * 4
    + ["Now a ", "Forbidden", " thing. "]
    + [f"more text {i} " for i in range(100)]
)
CLEAN_TEXT = "All good here. Nothing to see, really."

REPLIES: dict[str, Scenario | Callable[[Recorded], Scenario]] = {
    "mod-reply-bad": _stream(BAD_PIECES),
    "mod-reply-clean": _stream(["All good", " here.", " Nothing to", " see, really."]),
    # The word in the last piece, with no sentence end after it: only the final check sees it.
    "mod-reply-tail": _stream(["Everything is fine until the very end, which is ", "forbidden"]),
}
