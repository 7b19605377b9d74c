"""OpenAI Chat Completions and compatible servers, streamed through the real site.

Every transcript is replayed as written, one byte per write, and one UTF-8 character per
write; the saved reply must hold exactly what the transcript does.
"""

from __future__ import annotations

import pytest

from tests.support.clients import SiteClient
from tests.support.fakes.compat_transcripts import TRANSCRIPTS as COMPAT
from tests.support.fakes.openai_transcripts import TRANSCRIPTS as OPENAI
from tests.support.fakes.wire import Expected
from tests.support.reply_checks import SPLITS, ask_and_read, check_reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(OPENAI))
def test_transcript_becomes_the_saved_reply(site: SiteClient, name: str, split: str) -> None:
    expected: Expected = OPENAI[name][1]
    check_reply(ask_and_read(site, f"openai:{name}{split}"), expected)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(COMPAT))
def test_compatible_servers_quirks_are_understood(site: SiteClient, name: str, split: str) -> None:
    check_reply(ask_and_read(site, f"openai:{name}{split}"), COMPAT[name][1])
