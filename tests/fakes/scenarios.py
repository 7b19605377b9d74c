"""Every fake upstream scenario, by model name; the test environment lists them as models."""

from __future__ import annotations

from tests.fakes.openai_scenarios import SCENARIOS as OPENAI

# One dict per environment source; more protocols add theirs here.
BY_SOURCE: dict[str, dict[str, object]] = {"OPENAI_MODELS": OPENAI}


def all_scenarios() -> dict[str, object]:
    merged: dict[str, object] = {}
    for scenarios in BY_SOURCE.values():
        merged.update(scenarios)
    return merged


def model_list(scenarios: dict[str, object]) -> str:
    names = []
    for name in scenarios:
        names += [name, f"{name}@bytes", f"{name}@utf8"]
    return ",".join(names)
