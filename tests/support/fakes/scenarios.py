"""Every fake upstream scenario, by model name; the test environment lists them as models."""

from __future__ import annotations

from tests.support.fakes.anthropic_scenarios import SCENARIOS as ANTHROPIC
from tests.support.fakes.compat_transcripts import TRANSCRIPTS as COMPAT
from tests.support.fakes.completions_scenarios import SCENARIOS as COMPLETIONS
from tests.support.fakes.gemini_scenarios import SCENARIOS as GEMINI
from tests.support.fakes.moderation_scenarios import MODERATION
from tests.support.fakes.moderation_scenarios import REPLIES as MODERATED_REPLIES
from tests.support.fakes.openai_scenarios import SCENARIOS as OPENAI
from tests.support.fakes.openai_transcripts import TRANSCRIPTS as OPENAI_TRANSCRIPTS
from tests.support.fakes.page_scenarios import SCENARIOS as PAGE

# One dict per environment source served by the fake HTTP upstream. Names are unique across
# sources (one server serves them all). Spark speaks WebSocket: see spark_scenarios.
BY_SOURCE: dict[str, dict[str, object]] = {
    "OPENAI_MODELS": {
        **OPENAI,
        **PAGE,
        **{name: scenario for name, (scenario, _) in OPENAI_TRANSCRIPTS.items()},
        **{name: scenario for name, (scenario, _) in COMPAT.items()},
        **MODERATED_REPLIES,
    },
    "OPENAI_COMPLETIONS_MODELS": COMPLETIONS,
    "ANTHROPIC_MODELS": ANTHROPIC,
    "GEMINI_MODELS": GEMINI,
}


def all_scenarios() -> dict[str, object]:
    merged: dict[str, object] = {}
    for scenarios in BY_SOURCE.values():
        merged.update(scenarios)
    merged.update(MODERATION)  # the moderation endpoint's answers: served, but not chat models
    return merged


def model_list(scenarios: dict[str, object]) -> str:
    names = []
    for name in scenarios:
        names += [name, f"{name}@bytes", f"{name}@utf8"]
    return ",".join(names)
