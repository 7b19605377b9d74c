"""OpenAI Chat Completions and compatible servers, relayed through the real site.

Every transcript is replayed as written, one byte per write, and one UTF-8 character per
write; the saved reply must hold exactly what the transcript does.
"""

from __future__ import annotations

import pytest

from tests.fakes.openai_scenarios import TRANSCRIPTS
from tests.fakes.relay import SPLITS, check_reply, live_user, relay  # noqa: F401
from tests.sseclient import SiteClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(TRANSCRIPTS))
def test_transcript_becomes_the_saved_reply(site: SiteClient, name: str, split: str) -> None:
    _scenario, expected = TRANSCRIPTS[name]
    check_reply(relay(site, f"openai:{name}{split}"), expected)
