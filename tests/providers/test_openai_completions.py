"""Legacy OpenAI Completions (choices[0].text at /v1/completions) through the real site.

Every transcript is replayed as written, one byte per write, and one UTF-8 character per
write; the saved reply must hold exactly what the transcript does.
"""

from __future__ import annotations

import pytest

from tests.support.clients import SiteClient
from tests.support.fakes.completions_scenarios import TRANSCRIPTS
from tests.support.reply_checks import SPLITS, ask_and_read, check_reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(TRANSCRIPTS))
def test_transcript_becomes_the_saved_reply(site: SiteClient, name: str, split: str) -> None:
    _scenario, expected = TRANSCRIPTS[name]
    check_reply(ask_and_read(site, f"openai-completions:{name}{split}"), expected)
