"""A POST's body reaches Django as the client sent it: daphne's requests skip Twisted's own
parsing of form bodies into `request.args` (chatsite/serve.py), which daphne never read and which
ran on the event loop, before the site saw the request, for anyone."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.chatgpt import branching_conversation
from tests.support.clients import SiteClient
from tests.support.daphne import Daphne

pytestmark = pytest.mark.django_db(transaction=True)

NOT_MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}


def test_a_body_twisted_could_not_parse_is_answered_by_the_site(daphne: Daphne) -> None:
    # Declared multipart and not one: Twisted's parser answered a bare 400 and hung up.
    answer = httpx.post(
        daphne.url + "/api/conversations", content=b"not a multipart body", headers=NOT_MULTIPART
    )
    assert answer.status_code == 403  # the site's CSRF check, which comes first
    assert answer.json() == {"error": "CSRF check failed; reload the page and try again."}


def test_a_multipart_upload_still_reaches_the_view_whole(site: SiteClient) -> None:
    upload = json.dumps([branching_conversation()]).encode()
    answer = site.http.post("/api/import", files={"file": ("export.json", upload)})
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == 1
