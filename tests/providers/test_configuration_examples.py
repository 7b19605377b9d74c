"""The configuration examples in docs/PROVIDERS.md configure exactly the models they claim.

Each ```sh block followed by a `<!-- models: ... -->` comment is loaded as the whole
environment of a fresh Python process (nothing inherited from the test run), which reads the
settings and lists the models the environment offers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "PROVIDERS.md").read_text()
EXAMPLES = re.findall(r"```sh\n(.*?)```\n<!-- models: (.*?) -->", DOC, re.S)

LIST_MODELS = """
import json, django
django.setup()
from chat.providers import _env_sources
print(json.dumps([
    [f"{s.key}:{m}", s.protocol, s.base_url] for s in _env_sources() for m in s.models
]))
"""


def env_of(block: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in block.splitlines() if "=" in line]
    return {name.strip(): value.strip() for name, value in pairs}


def test_every_provider_has_an_example() -> None:
    sources = {m.split(":")[0] for _, models in EXAMPLES for m in models.split()}
    assert sources == {"openai", "openai-completions", "anthropic", "gemini", "spark"}
    blocks = "".join(block for block, _ in EXAMPLES)
    for upstream in ("11434", "api.deepseek.com", "dashscope.aliyuncs.com/compatible-mode"):
        assert upstream in blocks  # Ollama, DeepSeek, Qwen


@pytest.mark.parametrize(("block", "models"), EXAMPLES)
def test_an_example_offers_the_models_it_claims(block: str, models: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "chatsite.settings", **env_of(block)}
    result = subprocess.run(
        [sys.executable, "-c", LIST_MODELS], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    offered = json.loads(result.stdout)
    assert [model for model, _, _ in offered] == models.split()
    for _model, _protocol, base_url in offered:
        assert base_url.startswith(("https://", "http://127.0.0.1", "wss://"))
