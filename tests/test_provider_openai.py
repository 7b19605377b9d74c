"""OpenAI Chat Completions and compatible servers, relayed through the real site.

Every transcript is replayed as written, one byte per write, and one UTF-8 character per
write; the saved reply must hold exactly what the transcript does.
"""

from __future__ import annotations

import pytest

from tests.fakes.compat_transcripts import TRANSCRIPTS as COMPAT
from tests.fakes.openai_transcripts import TRANSCRIPTS as OPENAI
from tests.fakes.relay import SPLITS, check_reply, live_user, relay  # noqa: F401
from tests.fakes.wire import Expected
from tests.sseclient import SiteClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(OPENAI))
def test_transcript_becomes_the_saved_reply(site: SiteClient, name: str, split: str) -> None:
    expected: Expected = OPENAI[name][1]
    check_reply(relay(site, f"openai:{name}{split}"), expected)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("name", list(COMPAT))
def test_compatible_servers_quirks_are_understood(site: SiteClient, name: str, split: str) -> None:
    check_reply(relay(site, f"openai:{name}{split}"), COMPAT[name][1])
