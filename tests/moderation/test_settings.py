"""The moderation and quota settings fail loudly, naming the variable, on a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "chatsite.settings", **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CHAT_MODERATION": "words"}, "CHAT_MODERATION_WORDS"),
        ({"CHAT_MODERATION": "wordz"}, "CHAT_MODERATION must be off, words, openai"),
        ({"CHAT_MODERATION_FAIL": "maybe"}, "CHAT_MODERATION_FAIL must be open or closed"),
        ({"CHAT_MODERATION_BATCH": "5"}, "CHAT_MODERATION_BATCH must be at least 20"),
        ({"CHAT_DAILY_TOKENS": "-1"}, "CHAT_DAILY_TOKENS must be at least 0"),
    ],
)
def test_a_bad_value_stops_the_site_naming_the_variable(env: dict[str, str], named: str) -> None:
    result = load_settings(**env)
    assert result.returncode != 0
    assert named in result.stderr


def test_good_values_load() -> None:
    result = load_settings(
        CHAT_MODERATION="words",
        CHAT_MODERATION_WORDS="a,b,暴力",
        CHAT_MODERATION_FAIL="open",
        CHAT_DAILY_TOKENS="100000",
    )
    assert result.returncode == 0, result.stderr[-2000:]
